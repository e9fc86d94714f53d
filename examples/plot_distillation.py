"""
Distilling a kernel model into a linear GDClassifier
====================================================

A strong non-linear teacher, an RBF-kernel logistic regression
(:class:`~sklearn.kernel_approximation.Nystroem` features of the RBF kernel
fed to :class:`~sklearn.linear_model.LogisticRegression`), is distilled into
a linear
:class:`~skgd.GDClassifier` student on scikit-learn's bundled handwritten
digits (1,797 8x8 images; nothing is downloaded). Both see the same 64
pixels. Labels are scarce: only 50, 100 or 200 training images are labeled
(stratified), the other ~1,100 training images are unlabeled, and 500
images are held out for testing.

For each labeled-set size (3 random splits) the script compares the test
accuracy of

* the **teacher** (fitted on the labeled images);
* the **student without distillation**: ``DistillationClassifier(alpha=0)``,
  i.e. a GDClassifier on the hard labels;
* the **student distilled on the labeled images**: targets
  ``0.5 * one-hot + 0.5 * teacher probabilities`` (``alpha=0.5``) at
  temperatures 1 and 2;
* the **student distilled with the unlabeled transfer set**: the same, plus
  the unlabeled images (label ``-1``, ``unlabeled=-1``) with the teacher's
  probabilities as their only targets.

It prints a table and saves ``examples/distillation.png``. Run it as
``python examples/plot_distillation.py`` (``--no-plot`` skips matplotlib);
it takes about 15 seconds.
"""

# %%
# Data: few labels, many unlabeled images
# ---------------------------------------
import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skgd import DistillationClassifier, GDClassifier

parser = argparse.ArgumentParser(description="distilling a kernel model into skgd")
parser.add_argument("--no-plot", action="store_true", help="skip matplotlib")
args, _ = parser.parse_known_args()
warnings.filterwarnings("ignore", category=ConvergenceWarning)
# with fewer labeled images than n_components, Nystroem uses them all (the
# exact kernel model) and says so
warnings.filterwarnings("ignore", message="n_components > n_samples")
start = time.perf_counter()

X, y = load_digits(return_X_y=True)
X = X / 16.0
LABELED = [50, 100, 200]
N_SPLITS = 3
teacher = make_pipeline(Nystroem(gamma=0.05, n_components=300, random_state=0),
                        LogisticRegression(C=10.0, max_iter=1000))
student = GDClassifier(alpha=1e-4, random_state=0)
METHODS = {
    "student, labels only": dict(alpha=0.0),
    "distilled, T=1": dict(alpha=0.5, temperature=1.0),
    "distilled, T=2": dict(alpha=0.5, temperature=2.0),
    "distilled + unlabeled, T=1": dict(alpha=0.5, temperature=1.0, unlabeled=-1),
    "distilled + unlabeled, T=2": dict(alpha=0.5, temperature=2.0, unlabeled=-1),
}

# %%
# Teacher and students
# --------------------
# ``DistillationClassifier`` fits a clone of the teacher on the labeled rows,
# then the student by ``GDClassifier.fit_soft`` on the mixed targets.
scores = {name: np.zeros((len(LABELED), N_SPLITS))
          for name in ["teacher", *METHODS]}
for split in range(N_SPLITS):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=500, random_state=split, stratify=y)
    for i, n_labeled in enumerate(LABELED):
        labeled, _ = train_test_split(np.arange(y_train.shape[0]), train_size=n_labeled,
                                      random_state=split, stratify=y_train)
        y_partial = np.full_like(y_train, -1)
        y_partial[labeled] = y_train[labeled]
        for name, params in METHODS.items():
            model = DistillationClassifier(teacher, student, **params)
            if "unlabeled" in params:
                model.fit(X_train, y_partial)
            else:
                model.fit(X_train[labeled], y_train[labeled])
            scores[name][i, split] = model.score(X_test, y_test)
        scores["teacher"][i, split] = model.teacher_.score(X_test, y_test)

print("mean test accuracy over", N_SPLITS, "splits")
print(f"{'labeled':>8}" + "".join(f" {name:>27}" for name in scores))
for i, n_labeled in enumerate(LABELED):
    print(f"{n_labeled:>8}" + "".join(f" {scores[name][i].mean():>27.3f}"
                                      for name in scores))
print(f"\n(total time {time.perf_counter() - start:.1f} s)")

# %%
# Reading the results
# -------------------
# Measured on one machine: on these pixels a linear model is already close
# to the kernel teacher (0.841 vs 0.860 with 50 labels, 0.929 vs 0.933 with
# 200), so there is little to distil. Distillation pays where labels are
# scarcest and unlabeled rows plentiful: with 50 labels the student trained
# on the teacher's probabilities over the unlabeled images reaches the
# teacher (0.860 vs 0.841 without distillation); with 200 labels the gains
# are within the spread between splits.

# %%
# Plot
# ----
if not args.no_plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for name, values in scores.items():
        style = dict(color="black", ls="--") if name == "teacher" else {}
        ax.errorbar(LABELED, values.mean(axis=1), yerr=values.std(axis=1), marker="o",
                    capsize=3, label=name, **style)
    ax.set_xscale("log")
    ax.set_xticks(LABELED, [str(n) for n in LABELED])
    ax.set_xlabel("labeled training images")
    ax.set_ylabel("test accuracy")
    ax.set_title("digits: RBF-kernel teacher distilled into a linear GDClassifier")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    here = Path(__file__).parent if "__file__" in globals() else Path.cwd()
    out = here / "distillation.png"
    fig.savefig(out, dpi=110)
    print(f"plot saved to {out}")
