"""Streaming hashed text through partial_fit: flat memory over millions of rows.

The use case of scikit-learn's out-of-core examples: documents arrive in
chunks, a stateless ``HashingVectorizer`` turns each chunk into CSR with a
fixed number of columns, and the classifier learns from one chunk at a time
with ``partial_fit``. The stream never exists in memory as a whole, so the
process's memory must not grow with the rows seen.

The documents are synthetic, generated chunk by chunk from a fixed seed
(chunk ``i`` depends only on the seed, ``i`` and its size, so every run sees
the same stream and no chunk is kept after use): 20-60 words each, drawn
from a Zipf distribution (exponent 1) over a vocabulary of 50,000 made-up
words. A hidden set of 1,000 "sentiment" words (among the ranks 20-2,000,
weight +1 or -1; ~8 of them in a document) decides the label: ``y = 1``
when the sum of the weights of a document's words plus logistic noise
(scale 0.5) is positive. The table shows the accuracy of that hidden rule
(without the noise) on the held-out chunk, about the best any model can
reach (~0.89).

Each chunk is generated and vectorised once (both timed, apart) and then
given to every model in turn, each ``partial_fit`` timed on its own:

* ``GDClassifier(solver="sgd", batch_size=1, learning_rate="optimal")``,
  scikit-learn's algorithm;
* ``GDClassifier(solver="adam", batch_size=256, eta0=--adam-eta0)``;
* ``SGDClassifier`` (its defaults: ``learning_rate="optimal"``),

all with ``loss="log_loss", alpha=1e-6`` and ``classes=[0, 1]`` on the first
call. Numba compilation (or its cache load) is done first, on a chunk of
1,024 rows (more than a batch), and reported apart. Reported:

* speed: rows/s of ``partial_fit``, the median seconds per chunk, and the
  ratio skgd / ``SGDClassifier`` of both; held-out accuracy (a fixed chunk
  generated apart) at 10%, 50% and 100% of the stream (scoring not timed);
* memory: the process's resident set size (``/proc/self/statm``; peak RSS
  from ``getrusage`` where there is no ``/proc``) after every chunk, shown
  after the first chunk and at 10%, 50% and 100% of the stream, and its
  growth from 10% to 100% (end to end, and between the medians of the
  chunks of 10-20% and 90-100% of the stream, which single swings of the
  allocator do not move): the "flat memory" figure, ~0 when nothing
  keeps what a chunk allocated. It is one process for all models, so it
  bounds the growth of each. The size of each model's state gives the scale: besides
  ``coef_``, skgd keeps its training state between calls in ``_progress``
  (the parameters ``theta``, the solver's slots ``state``, and ``start``,
  the parameters the stream began from), and ``loss_curve_``, one float per
  call, the one thing that grows with the stream;
* the fixed cost of one ``partial_fit`` call, on a 1-row chunk of an already
  trained model, at ``2**18``, ``--features`` and ``2**22`` features
  (``--call-features``): work proportional to ``n_features`` that every call
  pays, whatever its number of rows, which sets how small a chunk can
  usefully be; the last column is its share of the median chunk's time.

    python benchmarks/bench_streaming.py          # 2,000,000 rows, 2**20: ~2.5 min
    python benchmarks/bench_streaming.py --quick  # 200,000 rows, a smoke test
    python benchmarks/bench_streaming.py --features 4194304 --rows 500000

(at ``2**22`` features the Adam model takes over a second a chunk, most of
it the fixed per-call cost, hence fewer rows.)

Flags: ``--rows``, ``--chunk-size`` (10,000), ``--features`` (``2**20``;
``2**18`` .. ``2**22`` is the range of the use case), ``--adam-eta0``
(0.05), ``--models`` (a subset, to see one model's memory alone),
``--call-features``, ``--seed``, ``--rss-csv`` (RSS after every chunk, to
plot), ``--threads``.
"""

import argparse
import os
import resource
import sys
import time

import numpy as np
from _common import add_threads_arg, limit_threads, machine, print_table, quiet
from sklearn.base import clone
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

from skgd import GDClassifier

MB = 2**20
ALPHA = 1e-6
CLASSES = np.array([0, 1])
CHECKPOINTS = (0.1, 0.5, 1.0)  # fractions of the stream reported
# rows of the warm-up chunk: more than any model's batch_size (256)
WARM_UP_ROWS = 1_024


# ---- the synthetic stream ---------------------------------------------------
def make_words(n):
    """``n`` distinct made-up words of three consonant-vowel syllables
    ("kazobe"): about the length of English words, so hashing costs about
    what it costs on real text."""
    syllables = [c + v for c in "bcdfghjklmnprstvwxyz" for v in "aeiou"]
    s = len(syllables)  # 100 syllables: 10**6 words at most
    return np.array([syllables[i % s] + syllables[i // s % s] + syllables[i // s**2]
                     for i in range(n)], dtype=object)


class SyntheticReviews:
    """Labelled documents, generated one chunk at a time from a fixed seed."""

    def __init__(self, seed=0, vocabulary=50_000, n_sentiment=1_000, zipf=1.0,
                 sentiment_ranks=(20, 2_000), noise=0.5, words_per_doc=(20, 60)):
        rng = np.random.default_rng([seed, 0])
        self.seed, self.noise, self.words_per_doc = seed, noise, words_per_doc
        # a random word for each rank, so that frequent words are not all alike
        self.words = rng.permutation(make_words(vocabulary))
        # the word of rank r (from 1) has probability ~ r ** -zipf; sampled by
        # inverting the cumulative distribution
        p = np.arange(1, vocabulary + 1, dtype=np.float64) ** -zipf
        self.cdf = np.cumsum(p / p.sum())
        # sentiment words: frequent enough that a document holds ~8 of them,
        # none of the 20 most frequent ones (the "stop words")
        self.weight = np.zeros(vocabulary)
        chosen = rng.choice(np.arange(*sentiment_ranks), size=n_sentiment,
                            replace=False)
        self.weight[chosen] = rng.choice([-1.0, 1.0], size=n_sentiment)

    def chunk(self, index, rows, held_out=False):
        """Chunk ``index`` of the stream (or of the held-out stream): a list
        of ``rows`` documents, their labels, and the hidden rule's labels."""
        rng = np.random.default_rng([self.seed, 2 if held_out else 1, index])
        lo, hi = self.words_per_doc
        lengths = rng.integers(lo, hi + 1, size=rows)
        ids = np.searchsorted(self.cdf, rng.random(lengths.sum()))
        ids = np.minimum(ids, self.cdf.shape[0] - 1)  # guard the cdf's rounding
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        score = np.add.reduceat(self.weight[ids], starts)
        y = (score + self.noise * rng.logistic(size=rows) > 0).astype(np.int64)
        tokens = self.words[ids]
        docs = [" ".join(tokens[a:a + n]) for a, n in zip(starts, lengths)]
        return docs, y, (score > 0).astype(np.int64)


# ---- models --------------------------------------------------------------
def make_models(adam_eta0):
    return {
        "skgd SGD, batch_size=1": GDClassifier(
            loss="log_loss", alpha=ALPHA, solver="sgd", batch_size=1,
            learning_rate="optimal", random_state=0),
        "skgd Adam, batch_size=256": GDClassifier(
            loss="log_loss", alpha=ALPHA, solver="adam", batch_size=256,
            eta0=adam_eta0, random_state=0),
        "SGDClassifier": SGDClassifier(loss="log_loss", alpha=ALPHA, random_state=0),
    }


REFERENCE = "SGDClassifier"
MODEL_KEYS = {"sgd": "skgd SGD, batch_size=1", "adam": "skgd Adam, batch_size=256",
              "sklearn": REFERENCE}


def state_bytes(model):
    """Bytes of ``coef_`` and of skgd's training state kept between calls:
    ``[coef_, theta, solver state, start]`` (None where the model has none;
    SGDClassifier keeps only ``coef_`` and ``intercept_``)."""
    progress = getattr(model, "_progress", None)
    if progress is None:
        return [model.coef_.nbytes, None, None, None]
    return [model.coef_.nbytes, progress.theta.nbytes, progress.state.nbytes,
            progress.start.nbytes]


def loss_curve_bytes(model):
    """Bytes held by ``loss_curve_`` (a list growing one float per call), as
    list plus float objects, counted once for ``_progress``'s copy too."""
    curve = getattr(model, "loss_curve_", None)
    if curve is None:
        return 0
    # loss_curve_ and _progress.loss_curve: two lists sharing the floats
    return 2 * sys.getsizeof(curve) + sum(sys.getsizeof(v) for v in curve)


# ---- memory --------------------------------------------------------------
def rss_bytes():
    """Current resident set size; peak RSS (getrusage) where /proc is missing."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


# ---- the run -------------------------------------------------------------
def warm_up(models, stream, vectorizer):
    """Compile (or load from Numba's cache) the kernels on a small chunk.

    It has more rows than any model's batch (``WARM_UP_ROWS``): a chunk no
    larger than the batch takes the full-batch kernel, and the mini-batch
    one would then compile inside the first timed call (~18 s, measured)."""
    docs, y, _ = stream.chunk(0, WARM_UP_ROWS, held_out=True)
    X = vectorizer.transform(docs)
    start = time.perf_counter()
    for model in models.values():
        clone(model).partial_fit(X, y, classes=CLASSES)
    return time.perf_counter() - start


def checkpoint_chunks(n_chunks):
    """Chunk index (from 0) after which each CHECKPOINTS fraction is reached."""
    return {max(int(np.ceil(f * n_chunks)) - 1, 0): f for f in CHECKPOINTS}


def stream_models(models, stream, vectorizer, args, X_test, y_test):
    """Feed every chunk to every model; returns the per-chunk records."""
    n_chunks = -(-args.rows // args.chunk_size)
    checkpoints = checkpoint_chunks(n_chunks)
    fit_s = {name: [] for name in models}
    accuracy = {name: {} for name in models}
    gen_s, vec_s, rss, rows_seen = [], [], [], []
    seen = 0
    for i in range(n_chunks):
        rows = min(args.chunk_size, args.rows - seen)
        start = time.perf_counter()
        docs, y, _ = stream.chunk(i, rows)
        gen_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        X = vectorizer.transform(docs)
        vec_s.append(time.perf_counter() - start)
        del docs  # the raw text is not kept while the models train
        for name, model in models.items():
            start = time.perf_counter()
            model.partial_fit(X, y, classes=CLASSES)
            fit_s[name].append(time.perf_counter() - start)
        del X, y
        seen += rows
        rows_seen.append(seen)
        rss.append(rss_bytes())
        if i in checkpoints:
            for name, model in models.items():
                accuracy[name][checkpoints[i]] = model.score(X_test, y_test)
            so_far = sum(gen_s) + sum(vec_s) + sum(map(sum, fit_s.values()))
            print(f"  {seen:>11,} rows ({checkpoints[i]:.0%}), "
                  f"RSS {rss[-1] / MB:,.0f} MiB, {so_far:.0f} s so far", flush=True)
    return {"fit_s": fit_s, "accuracy": accuracy, "gen_s": gen_s, "vec_s": vec_s,
            "rss": rss, "rows_seen": rows_seen, "checkpoints": checkpoints}


def call_cost(model, stream, features, repeat=5):
    """Minimum seconds of one ``partial_fit`` on a 1-row chunk, ``features``
    hashed columns, after a first call on a full-size chunk has trained the
    model and allocated its state."""
    vectorizer = HashingVectorizer(n_features=features, alternate_sign=False, norm="l2")
    docs, y, _ = stream.chunk(0, 1_000, held_out=True)
    X = vectorizer.transform(docs)
    model = clone(model).partial_fit(X, y, classes=CLASSES)
    times = []
    for r in range(repeat):
        one_row = X[r:r + 1]
        start = time.perf_counter()
        model.partial_fit(one_row, y[r:r + 1])
        times.append(time.perf_counter() - start)
    return min(times)


# ---- tables --------------------------------------------------------------
def print_speed(result, models, args, oracle):
    fit_s = result["fit_s"]
    # no ratios when --models leaves the reference out
    ref = fit_s.get(REFERENCE)
    rows = []
    for name in models:
        total, median = sum(fit_s[name]), float(np.median(fit_s[name]))
        acc = result["accuracy"][name]
        rows.append([name, total, f"{args.rows / total:,.0f}", median,
                     total / sum(ref) if ref else None,
                     median / np.median(ref) if ref else None,
                     *(acc.get(f) for f in CHECKPOINTS)])
    rows.append(["(hidden rule, no noise)", None, None, None, None, None,
                 None, None, oracle])
    print_table(
        f"partial_fit on {args.rows:,} rows in chunks of {args.chunk_size:,}, "
        f"{args.features:,} hashed features; ratio = skgd / {REFERENCE}; "
        "held-out accuracy after 10%, 50%, 100% of the stream",
        ["model", "total s", "rows/s", "median s/chunk", "ratio total",
         "ratio median", "acc 10%", "acc 50%", "acc 100%"], rows)

    gen, vec = sum(result["gen_s"]), sum(result["vec_s"])
    fits = sum(map(sum, fit_s.values()))
    print_table(
        "where the time went (s)",
        ["generate text", "HashingVectorizer.transform", "all partial_fit calls",
         "vectoriser rows/s"],
        [[gen, vec, fits, f"{args.rows / vec:,.0f}"]])


def print_memory(result, models, args, rss_start):
    rss, seen = result["rss"], result["rows_seen"]
    marks = [(0, "after the first chunk")] + [
        (i, f"{f:.0%} of the stream") for i, f in result["checkpoints"].items()]
    rows = [[label, f"{seen[i]:,}", rss[i] / MB, (rss[i] - rss_start) / MB]
            for i, label in marks]
    i10 = min(result["checkpoints"])
    growth = rss[-1] - rss[i10]
    span = seen[-1] - seen[i10]
    rows.append(["growth, 10% -> 100%", f"{span:,}", growth / MB,
                 f"{growth / span * 1e6:,.0f} bytes per million rows"])
    # single samples jump by a freed array or two that the allocator keeps
    # for reuse (or not); the medians of a tenth of the chunks ignore that
    w = max(len(rss) // 10, 1)
    early, late = np.median(rss[i10:i10 + w]), np.median(rss[-w:])
    rows.append(["median of the last tenth - median of 10-20%", f"{span:,}",
                 (late - early) / MB,
                 f"{(late - early) / span * 1e6:,.0f} bytes per million rows"])
    print_table(
        f"process RSS (MiB), {len(models)} model{'s' * (len(models) > 1)} in one "
        f"process; before the stream: {rss_start / MB:,.0f} MiB (libraries, "
        "compiled kernels, held-out chunk)",
        ["point", "rows seen", "RSS MiB", "over start"], rows)
    print(f"\nRSS range over the last 90% of the stream: "
          f"{min(rss[i10:]) / MB:,.1f} .. {max(rss[i10:]) / MB:,.1f} MiB")

    rows = []
    for name, model in models.items():
        sizes = [None if b is None else b / MB for b in state_bytes(model)]
        n_curve = len(getattr(model, "loss_curve_", None) or [])
        rows.append([name, *sizes, n_curve or None,
                     loss_curve_bytes(model) / 1024])
    print_table(
        f"model state at the end (MiB; {args.features:,} features, float64)",
        ["model", "coef_", "_progress.theta", "_progress.state (solver)",
         "_progress.start", "loss_curve_ entries", "loss_curve_ KiB"], rows)


def print_call_cost(models, stream, features_list, result, features):
    rows = []
    for name, model in models.items():
        costs = {f: call_cost(model, stream, f) for f in features_list}
        share = (costs[features] / np.median(result["fit_s"][name])
                 if features in costs else None)
        rows.append([name, *(costs[f] * 1e3 for f in features_list),
                     None if share is None else f"{share:.0%}"])
    print_table(
        "fixed cost of one partial_fit call: a 1-row chunk, trained model "
        "(ms, min of 5)",
        ["model", *(f"2**{int(np.log2(f))} features" for f in features_list),
         f"share of the median chunk at 2**{int(np.log2(features))}"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--features", type=int, default=2**20,
                        help="hashed features (2**18 .. 2**22 in the use case)")
    parser.add_argument("--adam-eta0", type=float, default=0.05)
    parser.add_argument("--models", nargs="+", choices=sorted(MODEL_KEYS),
                        default=list(MODEL_KEYS),
                        help="a subset of the models (sklearn is the reference "
                             "of the ratios, so keep it for them)")
    parser.add_argument("--call-features", type=int, nargs="*", default=None,
                        help="feature counts of the per-call cost table (default: "
                             "2**18, --features, 2**22; none given: skip the table)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rss-csv", metavar="PATH",
                        help="also write rows seen and RSS after every chunk here")
    parser.add_argument("--quick", action="store_true",
                        help="200,000 rows: a smoke test (~30 s; noisier memory trend)")
    add_threads_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.rows = 200_000
    limit_threads(args.threads)
    quiet()
    print(machine())

    all_models = make_models(args.adam_eta0)
    models = {MODEL_KEYS[k]: all_models[MODEL_KEYS[k]] for k in MODEL_KEYS
              if k in args.models}
    stream = SyntheticReviews(seed=args.seed)
    # alternate_sign=False: counts, as in the out-of-core example
    vectorizer = HashingVectorizer(n_features=args.features, alternate_sign=False,
                                   norm="l2")
    print(f"Numba compile / cache load, 1,024-row chunk (excluded below): "
          f"{warm_up(models, stream, vectorizer):.2f} s")

    test_docs, y_test, oracle_test = stream.chunk(0, args.chunk_size, held_out=True)
    X_test = vectorizer.transform(test_docs)
    del test_docs
    oracle = float(np.mean(oracle_test == y_test))
    print(f"held-out chunk: {len(y_test):,} documents, {y_test.mean():.1%} positive, "
          f"{X_test.nnz / len(y_test):.1f} non-zeros a row")

    rss_start = rss_bytes()
    result = stream_models(models, stream, vectorizer, args, X_test, y_test)
    print_speed(result, models, args, oracle)
    print_memory(result, models, args, rss_start)
    if args.rss_csv:
        np.savetxt(args.rss_csv, np.column_stack([result["rows_seen"], result["rss"]]),
                   fmt="%d", delimiter=",", header="rows_seen,rss_bytes", comments="")
    if args.call_features is None:
        args.call_features = sorted({2**18, args.features, 2**22})
    if args.call_features:
        print_call_cost(models, stream, args.call_features, result, args.features)


if __name__ == "__main__":
    main()
