"""Per-epoch time of batch_size=1 plain SGD: skgd vs SGDClassifier/SGDRegressor.

Runs scikit-learn's algorithm in skgd (``solver="sgd", batch_size=1``) and in
``SGDClassifier`` / ``SGDRegressor`` on the same data, in one process, with
the same loss, L2 penalty, constant step, ``max_iter=5, tol=None`` and
shuffling, and prints the per-epoch time of each (fit time / 5, the minimum
of ``--repeat`` fits, skgd's and scikit-learn's timed in turn) and the ratio
skgd / scikit-learn (< 1: skgd is faster). Numba compilation (or loading it
from the on-disk cache) is timed apart, on tiny fits of every configuration,
before any timed fit.

Data: dense standard-normal ``rows x features`` float64, and CSR
``rows x 2**18`` with ``nnz`` non-zeros a row at random columns (the shape of
hashed text). The issue's sizes are ``--full`` (200,000 rows); the default
(50,000 rows) runs in about a minute on two cores.

    python benchmarks/bench_epoch.py            # default sizes
    python benchmarks/bench_epoch.py --full     # 200,000 x 100 and 200,000 x 2**18
"""

import argparse
from functools import partial

import numpy as np
from _common import (
    add_threads_arg,
    best_times,
    dense_data,
    limit_threads,
    machine,
    print_table,
    quiet,
    sparse_data,
    timed,
)
from sklearn.linear_model import SGDClassifier, SGDRegressor

from skgd import GDClassifier, GDRegressor

EPOCHS = 5
TARGET = 0.5  # the bar for the ratio; it aims for 0.35


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--sparse-features", type=int, default=2**18)
    parser.add_argument("--nnz", type=int, default=50, help="non-zeros per sparse row")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--classes", type=int, default=4, help="one-vs-rest classes")
    parser.add_argument("--full", action="store_true",
                        help="the issue's sizes: 200,000 rows")
    add_threads_arg(parser)
    args = parser.parse_args()
    limit_threads(args.threads)
    if args.full:
        args.rows = 200_000
    quiet()
    print(machine())

    X, y_reg, y_clf = dense_data(args.rows, args.features)
    X_sp, y_reg_sp, y_clf_sp = sparse_data(args.rows, args.sparse_features, args.nnz)

    common = dict(penalty="l2", alpha=1e-4, learning_rate="constant", eta0=0.001,
                  max_iter=EPOCHS, tol=None, shuffle=True, random_state=0)

    def ours(kind):
        if kind == "clf":
            return GDClassifier(loss="hinge", solver="sgd", batch_size=1, **common)
        return GDRegressor(loss="squared_error", solver="sgd", batch_size=1, **common)

    def reference(kind):
        if kind == "clf":
            return SGDClassifier(loss="hinge", **common)
        return SGDRegressor(loss="squared_error", **common)

    cases = [
        ("hinge, dense", "clf", X, y_clf),
        ("squared_error, dense", "reg", X, y_reg),
        ("hinge, sparse CSR", "clf", X_sp, y_clf_sp),
        ("squared_error, sparse CSR", "reg", X_sp, y_reg_sp),
    ]

    compile_s = sum(timed(ours(kind).fit, X_[:50], y_[:50]) for _, kind, X_, y_ in cases)
    print(f"Numba compile / cache load, tiny fits of the {len(cases)} configurations "
          f"(excluded below): {compile_s:.2f} s")

    rows = []
    for name, kind, X_, y_ in cases:
        t_ours, t_ref = (t / EPOCHS for t in best_times(
            [partial(ours(kind).fit, X_, y_), partial(reference(kind).fit, X_, y_)],
            args.repeat))
        rows.append([name, t_ours, t_ref, t_ours / t_ref, f"<= {TARGET}"])
    print_table(
        f"batch_size=1 plain SGD, s per epoch (fit with max_iter={EPOCHS} / {EPOCHS}, "
        f"min of {args.repeat}); dense {args.rows:,} x {args.features}, "
        f"sparse {args.rows:,} x {args.sparse_features:,} with {args.nnz} nnz/row",
        ["case", "skgd", "scikit-learn", "ratio", "target"], rows)

    # one-vs-rest: both libraries train the classes as separate binary
    # problems, in parallel with n_jobs (scikit-learn through joblib threads)
    y_ovr = np.digitize(y_reg, np.quantile(y_reg, np.linspace(0, 1, args.classes + 1)[1:-1]))
    rows = []
    for n_jobs in (1, -1):
        clf = lambda cls: cls(loss="hinge", **dict(common, n_jobs=n_jobs),  # noqa: E731
                              **({"solver": "sgd", "batch_size": 1} if cls is GDClassifier else {}))
        t_ours, t_ref = (t / EPOCHS for t in best_times(
            [partial(clf(GDClassifier).fit, X, y_ovr),
             partial(clf(SGDClassifier).fit, X, y_ovr)], args.repeat))
        rows.append([f"hinge, dense, {args.classes} classes, n_jobs={n_jobs}", t_ours, t_ref,
                     t_ours / t_ref, f"<= {TARGET}"])
    print_table(f"one-vs-rest, batch_size=1 plain SGD, s per epoch (min of {args.repeat})",
                ["case", "skgd", "scikit-learn", "ratio", "target"], rows)


if __name__ == "__main__":
    main()
