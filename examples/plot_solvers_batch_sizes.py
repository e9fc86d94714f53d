"""
Every update rule at every batch size, against the exact optimum
================================================================

skgd trains the same linear model with six update rules (``solver``) at any
batch size (``batch_size``). This script fits all 6 x 3 combinations of

* ``solver``: ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``,
  ``"rmsprop"``, ``"adam"``;
* ``batch_size``: ``1`` (stochastic), ``32`` (mini-batch) and ``"full"``
  (batch gradient descent)

to multinomial logistic regression on scikit-learn's bundled handwritten
digits (1,797 8x8 images, 10 classes; nothing is downloaded), and measures
each fit against the exact optimum of the same objective, computed by
:class:`sklearn.linear_model.LogisticRegression` with the matching
regularisation ``C = 1 / (n_samples * alpha)``.

For each fit it prints the test accuracy, the epochs and updates run, the fit
time and the relative gap ``(f - f*) / f*`` between skgd's training
objective ``f`` and the optimum ``f*``; it plots each solver's
``loss_curve_`` to ``examples/solvers_batch_sizes.png``.

Run it as ``python examples/plot_solvers_batch_sizes.py`` (add ``--no-plot``
to skip matplotlib). It takes well under two minutes on two cores, including
the one-off Numba compilation on a machine that has never run skgd.
"""

# %%
# Setup
# -----
import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skgd
from skgd import DivergenceError, GDClassifier

parser = argparse.ArgumentParser(
    description="Every skgd solver at batch sizes 1, 32 and full, on digits")
parser.add_argument("--no-plot", action="store_true", help="skip matplotlib")
# parse_known_args: the cells also run inside Jupyter, which passes its own flags
args, _ = parser.parse_known_args()

SOLVERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
BATCH_SIZES = [1, 32, "full"]

# The objective's L2 strength. 1e-3 keeps the problem reasonably conditioned;
# smaller values make every first-order method slower, the ranking stays.
ALPHA = 1e-3

# Stop on the objective: an epoch "improves" when it lowers the best objective
# so far by tol. skgd's default tol=1e-3 is a good stopping point for
# prediction (same test accuracy) but stops ~1e-2 away from the optimum in
# relative terms; 1e-8 lets the "adaptive" schedule run much further.
TOL = 1e-8
# Epochs without such an improvement before "adaptive" divides the rate by 5
# (it stops once the rate is below 1e-6). The default 5 suits tol=1e-3; with
# a tiny tol, mini-batch noise would trigger the cuts too early, and so would
# RMSprop's zig-zag at full batch: 20 epochs of patience get ~5x closer.
N_ITER_NO_CHANGE = 20

# Epoch budgets: one epoch of batch_size=1 is n_samples updates, so it costs
# ~30-100x an epoch of "full" here. A fit that reaches its budget is marked *.
MAX_ITER = {1: 30, 32: 1000, "full": 5000}

# Base learning rates. "auto" is skgd's default (0.3 for sgd on log_loss, 0.03
# for momentum, 0.1 for adagrad, 0.01 for rmsprop / adam). Where it did not
# suit, the value below is the best of the coarse grid 1, 0.3, 0.1, ..., 0.001
# on this problem (lowest final training objective):
# - batch_size=1 wants smaller steps: one row's gradient is a noisy estimate;
# - with exact gradients ("full") sgd and momentum can take longer steps;
# - adagrad's accumulated denominators grow, so it likes a larger base rate;
# - no eta0 helps rmsprop much at batch_size 1 or 32: with its default
#   rho=0.9 (PyTorch's is 0.99) it normalises each gradient by a ten-step
#   average of g^2 and stalls ~2e-2 from the optimum (see the user guide).
ETA0 = {
    "sgd": {1: 0.03, 32: "auto", "full": 1.0},
    "momentum": {1: 0.003, 32: "auto", "full": 0.3},
    "nesterov": {1: 0.003, 32: "auto", "full": 0.3},
    "adagrad": {1: 0.3, 32: 0.3, "full": 0.3},
    "rmsprop": {1: 0.001, 32: "auto", "full": "auto"},
    "adam": {1: 0.001, 32: "auto", "full": "auto"},
}

# %%
# Data: standardised digits, 75 % train / 25 % test
# -------------------------------------------------
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
n_samples, n_features = X_train.shape
n_classes = np.unique(y_train).size


def objective(coef, intercept):
    """skgd's objective: mean multinomial log loss + alpha / 2 * ||coef||^2."""
    scores = X_train @ coef.T + intercept
    log_loss = logsumexp(scores, axis=1) - scores[np.arange(n_samples), y_train]
    return log_loss.mean() + 0.5 * ALPHA * np.sum(coef**2)


print(f"skgd {skgd.__version__}: multinomial logistic regression on digits")
print(f"train {n_samples} x {n_features}, test {X_test.shape[0]}, "
      f"{n_classes} classes, alpha={ALPHA:g}, tol={TOL:g}, "
      f"n_iter_no_change={N_ITER_NO_CHANGE}\n")

# %%
# The exact optimum
# -----------------
# LogisticRegression minimises ``C * sum(loss) + 0.5 * ||coef||^2``; divided
# by ``C * n_samples`` that is skgd's objective when ``C = 1 / (n * alpha)``.
# Both leave the intercept unpenalised and use the full softmax (one row of
# coefficients per class).
start = time.perf_counter()
exact = LogisticRegression(C=1.0 / (n_samples * ALPHA), solver="newton-cg",
                           tol=1e-10, max_iter=1000).fit(X_train, y_train)
exact_time = time.perf_counter() - start
f_star = objective(exact.coef_, exact.intercept_)
print(f"LogisticRegression(C={exact.C:.4g}, solver='newton-cg'): "
      f"f* = {f_star:.10f}, test accuracy {exact.score(X_test, y_test):.4f}, "
      f"{exact_time:.2f} s")

# %%
# Numba compilation
# -----------------
# skgd's kernels are compiled the first time they run on a machine and cached
# on disk; in later processes these first fits only load them (milliseconds).
# A tiny fit of every configuration, timed apart, keeps the compilation out of
# the table below (each batch mode has its own kernel: on a new machine the
# first batch_size=1 and "full" fits would otherwise pay 4 and 14 s).
start = time.perf_counter()
for solver in SOLVERS:
    for batch_size in BATCH_SIZES:
        GDClassifier(solver=solver, batch_size=batch_size, max_iter=1,
                     tol=None).fit(X_train[:64], y_train[:64])
print(f"first fits (Numba compilation, or loading the cache): "
      f"{time.perf_counter() - start:.2f} s\n")

# %%
# Fit every solver at every batch size
# ------------------------------------
rows = []
for solver in SOLVERS:
    for batch_size in BATCH_SIZES:
        clf = GDClassifier(solver=solver, batch_size=batch_size, alpha=ALPHA,
                           eta0=ETA0[solver][batch_size], tol=TOL,
                           n_iter_no_change=N_ITER_NO_CHANGE,
                           max_iter=MAX_ITER[batch_size], random_state=0)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            try:
                clf.fit(X_train, y_train)
            except DivergenceError as exc:  # not expected with these rates
                print(f"{solver} batch_size={batch_size}: {exc}")
                continue
        seconds = time.perf_counter() - start
        capped = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        f = objective(clf.coef_, clf.intercept_)
        rows.append({
            "solver": solver,
            "batch_size": batch_size,
            "eta0": ETA0[solver][batch_size],
            "accuracy": clf.score(X_test, y_test),
            "epochs": clf.n_iter_,
            "capped": capped,
            "updates": clf.t_,
            "seconds": seconds,
            "gap": (f - f_star) / f_star,
            "loss_curve": np.asarray(clf.loss_curve_),
        })
        print(f"  fitted {solver:>8} batch_size={batch_size!s:>4} "
              f"in {seconds:5.2f} s", flush=True)

# %%
# The table
# ---------
header = (f"{'solver':<9} {'batch':>5} {'eta0':>6} {'test acc':>8} "
          f"{'epochs':>7} {'updates':>8} {'time (s)':>8} {'gap (f-f*)/f*':>14}")
print("\n" + header)
print("-" * len(header))
for row in rows:
    eta0 = row["eta0"] if isinstance(row["eta0"], str) else f"{row['eta0']:g}"
    epochs = f"{row['epochs']}{'*' if row['capped'] else ' '}"
    print(f"{row['solver']:<9} {row['batch_size']!s:>5} {eta0:>6} "
          f"{row['accuracy']:>8.4f} {epochs:>7} {row['updates']:>8} "
          f"{row['seconds']:>8.2f} {row['gap']:>14.2e}")
print("-" * len(header))
print(f"{'LogReg':<9} {'':>5} {'':>6} {exact.score(X_test, y_test):>8.4f} "
      f"{'':>7} {'':>8} {exact_time:>8.2f} {0.0:>14.2e}")
budgets = ", ".join(f"{b}: {e}" for b, e in MAX_ITER.items())
print(f"\n* stopped at the epoch budget (batch_size {budgets}; ConvergenceWarning).")
print("gap: relative excess of the training objective over LogisticRegression's"
      " optimum.")
best = min(rows, key=lambda r: r["gap"])
print(f"closest to the optimum: {best['solver']}, batch_size={best['batch_size']}"
      f" (gap {best['gap']:.1e}); all fits within "
      f"{max(r['accuracy'] for r in rows) - min(r['accuracy'] for r in rows):.3f}"
      " test accuracy of each other.")

# %%
# Plot: ``loss_curve_`` per solver
# --------------------------------
# ``loss_curve_`` holds the objective after each epoch (the epoch's mean
# mini-batch loss plus the penalty at its end), shown relative to ``f*``.
# For batch_size=1 and 32 the loss is averaged while the weights move, so it
# can dip slightly below ``f*``; the curves are clipped at 1e-9.
if not args.no_plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), sharex=True, sharey=True)
    colors = {1: "tab:red", 32: "tab:blue", "full": "tab:green"}
    for ax, solver in zip(axes.ravel(), SOLVERS, strict=True):
        for row in (r for r in rows if r["solver"] == solver):
            curve = np.clip((row["loss_curve"] - f_star) / f_star, 1e-9, None)
            epochs = np.arange(1, curve.size + 1)
            ax.loglog(epochs, curve, color=colors[row["batch_size"]], lw=1.5,
                      label=f"batch_size={row['batch_size']} (eta0={row['eta0']}): "
                            f"final gap {row['gap']:.0e}")
        ax.set_title(solver)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7.5, loc="lower left")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("(loss_curve_ - f*) / f*")
    fig.suptitle("skgd on digits: relative objective gap per epoch "
                 f"(multinomial log loss, alpha={ALPHA:g})")
    fig.tight_layout()
    # next to this script (in the working directory when run as notebook cells)
    here = Path(__file__).parent if "__file__" in globals() else Path.cwd()
    out = here / "solvers_batch_sizes.png"
    fig.savefig(out, dpi=110)
    print(f"\nplot saved to {out}")
