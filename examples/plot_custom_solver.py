"""
Writing your own update rule: Adamax
====================================

A solver in skgd is two things: a scikit-learn style parameter object (a
subclass of :class:`skgd.solvers.BaseSolver`) and a Numba-compiled function
that updates one coordinate in place. This script adds Adamax, the
infinity-norm variant of Adam (Kingma & Ba, 2015, section 7.1), in the form
PyTorch documents for ``torch.optim.Adamax``:

.. math::

    m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t \\\\
    u_t &= \\max(\\beta_2 u_{t-1}, |g_t| + \\epsilon) \\\\
    w_t &= w_{t-1} - \\frac{\\eta_t}{1 - \\beta_1^t} \\, \\frac{m_t}{u_t}

then checks it step by step against a NumPy transcription of the formula,
fits it on the breast cancer data bundled with scikit-learn, compares it with
the built-in Adam, tunes it with ``GridSearchCV`` through the nested
``solver__beta_1`` syntax, and saves a plot to ``examples/custom_solver.png``.

A custom rule runs in a kernel that Numba compiles once per process (a second
or two), unlike the built-in rules, which load from Numba's on-disk cache; the
script times that first fit separately. See ``docs/extending.md``.

Run it as ``python examples/plot_custom_solver.py`` (``--no-plot`` skips
matplotlib).
"""

# %%
# The update rule and its solver class
# ------------------------------------
import argparse
import time
import warnings
from numbers import Real
from pathlib import Path
from typing import ClassVar

import numba
import numpy as np
from scipy.special import expit, log1p
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval

from skgd import GDClassifier
from skgd.solvers import Adam, BaseSolver

parser = argparse.ArgumentParser(description="Adamax as a custom skgd solver")
parser.add_argument("--no-plot", action="store_true", help="skip matplotlib")
args, _ = parser.parse_known_args()


# The contract (see BaseSolver): update coordinate ``i`` of ``theta`` and its
# ``n_slots`` state values ``state[i, :]`` in place, from the gradient
# ``grad[i]`` (L2 term already included), the step size ``lr`` of this update,
# the 1-based update count ``t`` and the float64 array from ``hyper()``.
# Return the coordinate's effective step multiplier: skgd scales the L1
# proximal threshold by ``lr * multiplier`` so that L1 still gives exact zeros.
@numba.njit
def adamax_update(theta, grad, state, i, hyper, t, lr):
    beta_1 = hyper[0]
    beta_2 = hyper[1]
    epsilon = hyper[2]
    g = grad[i]
    m = beta_1 * state[i, 0] + (1.0 - beta_1) * g
    u = max(beta_2 * state[i, 1], abs(g) + epsilon)
    state[i, 0] = m
    state[i, 1] = u
    theta[i] -= lr / (1.0 - beta_1**t) * m / u
    # like the built-in Adam, the bias correction is left out of the multiplier
    return 1.0 / u


class Adamax(BaseSolver):
    """Adamax, as ``torch.optim.Adamax``.

    Parameters
    ----------
    beta_1 : float in [0, 1), default=0.9
    beta_2 : float in [0, 1), default=0.999
    epsilon : float > 0, default=1e-8
    """

    n_slots = 2  # state[:, 0] = m (first moment), state[:, 1] = u (inf-norm)
    update = staticmethod(adamax_update)
    # optional: validated before each fit, as scikit-learn's own parameters
    _parameter_constraints: ClassVar[dict] = {
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        # scikit-learn convention: store the parameters unchanged, no logic
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def hyper(self):
        # the numbers adamax_update reads, in this order
        return np.array([self.beta_1, self.beta_2, self.epsilon], dtype=np.float64)

    # optional: the base rate used when eta0="auto" (BaseSolver's is 0.01,
    # Adam's). Kingma & Ba suggest twice Adam's rate for Adamax (0.002 vs
    # 0.001); ``safe_step`` (a stable plain-SGD step) is for rules whose step
    # scales with the gradient, which Adamax's does not.
    def auto_eta0(self, safe_step):
        return 0.02


# %%
# Data: breast cancer, standardised
# ---------------------------------
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
n_samples = X_train.shape[0]
ALPHA = 1e-2  # L2 strength of the objective

# %%
# Check the rule against the formula
# -----------------------------------
# Three full-batch updates at a constant rate, replayed in NumPy: binary log
# loss ``log(1 + e^p) - y p`` averaged over the rows, plus ``alpha/2 ||w||^2``
# (the intercept is not penalised). The first fit with Adamax in this process
# compiles the custom kernel; it is timed apart, as is a first fit with a
# built-in rule, whose kernel Numba loads from its on-disk cache (compiled
# once per machine).
start = time.perf_counter()
GDClassifier(solver="adam", max_iter=1, tol=None).fit(X_train, y_train)
builtin_seconds = time.perf_counter() - start

start = time.perf_counter()
probe = GDClassifier(solver=Adamax(), batch_size="full", learning_rate="constant",
                     eta0=0.05, alpha=ALPHA, max_iter=3, tol=None)
probe.fit(X_train, y_train)
# mini-batches take another kernel: compiled here too, so that the table
# below times training only
GDClassifier(solver=Adamax(), batch_size=32, max_iter=1, tol=None).fit(X_train, y_train)
compile_seconds = time.perf_counter() - start

Xb = np.hstack([X_train, np.ones((n_samples, 1))])  # intercept as last column
w, m, u = np.zeros(Xb.shape[1]), np.zeros(Xb.shape[1]), np.zeros(Xb.shape[1])
beta_1, beta_2, epsilon, lr = 0.9, 0.999, 1e-8, 0.05
for t in range(1, 4):
    g = Xb.T @ (expit(Xb @ w) - y_train) / n_samples
    g[:-1] += ALPHA * w[:-1]
    m = beta_1 * m + (1 - beta_1) * g
    u = np.maximum(beta_2 * u, np.abs(g) + epsilon)
    w = w - lr / (1 - beta_1**t) * m / u
skgd_w = np.append(probe.coef_.ravel(), probe.intercept_)
assert np.allclose(skgd_w, w, rtol=1e-10, atol=1e-12), np.abs(skgd_w - w).max()
print(f"Adamax matches the NumPy transcription after 3 updates "
      f"(max abs difference {np.abs(skgd_w - w).max():.1e})")
print(f"first fit with a built-in rule (loads the cached kernel, or compiles "
      f"it on a new machine): {builtin_seconds:.2f} s")
print(f"first fits with the custom rule (compile its full-batch and mini-batch "
      f"kernels, once per process): {compile_seconds:.2f} s")


# %%
# Adamax against the built-in Adam
# --------------------------------
# The exact optimum of the same objective, for reference:
# LogisticRegression with C = 1 / (n_samples * alpha).
def objective(clf):
    p = X_train @ clf.coef_.ravel() + clf.intercept_[0]
    loss = np.where(p > 0, p + log1p(np.exp(-p)), log1p(np.exp(p))) - y_train * p
    return loss.mean() + 0.5 * ALPHA * np.sum(clf.coef_**2)


exact = LogisticRegression(C=1.0 / (n_samples * ALPHA), solver="newton-cg",
                           tol=1e-10, max_iter=1000).fit(X_train, y_train)
f_star = objective(exact)

header = (f"{'solver':<8} {'batch':>5} {'eta0':>5} {'train acc':>9} {'test acc':>8} "
          f"{'epochs':>6} {'time (s)':>8} {'gap (f-f*)/f*':>14}")
print("\n" + header + "\n" + "-" * len(header))
fits = {}
# both at eta0="auto": solver.auto_eta0(), 0.02 for Adamax and 0.01 for Adam
for name, solver in [("adamax", Adamax()), ("adam", Adam())]:
    for batch_size in (32, "full"):
        clf = GDClassifier(solver=solver, batch_size=batch_size, alpha=ALPHA,
                           tol=1e-7, max_iter=3000, random_state=0)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        fits[name, batch_size] = clf
        print(f"{name:<8} {batch_size!s:>5} {solver.auto_eta0(None):>5g} "
              f"{clf.score(X_train, y_train):>9.4f} "
              f"{clf.score(X_test, y_test):>8.4f} {clf.n_iter_:>6} {seconds:>8.2f} "
              f"{(objective(clf) - f_star) / f_star:>14.2e}")
print("-" * len(header))
print(f"{'LogReg':<8} {'':>5} {'':>5} {exact.score(X_train, y_train):>9.4f} "
      f"{exact.score(X_test, y_test):>8.4f}  (the exact optimum f* = {f_star:.6f})")

# %%
# Tuning the custom rule's hyper-parameters
# -----------------------------------------
# The solver is a scikit-learn parameter object, so its parameters are
# reachable as ``solver__<name>`` in a grid (and get_params / clone work).
grid = GridSearchCV(
    GDClassifier(solver=Adamax(), alpha=ALPHA, random_state=0),
    {"solver__beta_1": [0.0, 0.9], "solver__beta_2": [0.9, 0.999]}, cv=3,
)
grid.fit(X_train, y_train)
print(f"\nGridSearchCV best {grid.best_params_}: cv accuracy "
      f"{grid.best_score_:.4f}, test accuracy {grid.score(X_test, y_test):.4f}")

# %%
# Plot the objective per epoch
# ----------------------------
if not args.no_plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"adamax": "-", "adam": "--"}
    colors = {32: "tab:blue", "full": "tab:green"}
    for (name, batch_size), clf in fits.items():
        gap = np.clip((np.asarray(clf.loss_curve_) - f_star) / f_star, 1e-9, None)
        ax.loglog(np.arange(1, gap.size + 1), gap, styles[name],
                  color=colors[batch_size], label=f"{name}, batch_size={batch_size}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("(loss_curve_ - f*) / f*")
    ax.set_title("Custom Adamax vs built-in Adam "
                 f"(breast cancer, log loss, alpha={ALPHA:g})")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    # next to this script (in the working directory when run as notebook cells)
    here = Path(__file__).parent if "__file__" in globals() else Path.cwd()
    out = here / "custom_solver.png"
    fig.savefig(out, dpi=110)
    print(f"\nplot saved to {out}")
