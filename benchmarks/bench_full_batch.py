"""One full-batch epoch of skgd vs one ``X.T @ (X @ w)`` with NumPy's BLAS.

A full-batch gradient step of a linear model needs ``X @ w`` (the decisions)
and ``X.T @ r`` (the gradient): BLAS reads ``X`` twice, so the time of
``X.T @ (X @ w)`` is the memory-bandwidth bound a fused single-pass kernel
should meet or beat (the issue's target: ratio <= 1.0).

skgd's epoch is ``GDRegressor(batch_size="full", solver="sgd",
learning_rate="constant", tol=None)``. A fit also validates ``X`` (a pass
over it) and sets up; to time the epoch alone this script fits with
``max_iter=1`` and with ``max_iter=1 + --epochs`` and reports the difference
per epoch ("epoch"), next to the whole ``max_iter=1`` fit ("fit, 1 epoch").
The epoch includes everything skgd does per epoch (gradient, update, the
objective recorded in ``loss_curve_``, the divergence check).

Also: float64 vs float32 on the same dense data (the issue's target: float32
at least 1.3x faster on dense full batch), ``n_jobs=-1`` next to the default,
and the sparse CSR case against SciPy's ``X.T @ (X @ w)``.

Timings are the minimum of ``--repeat``; Numba compilation is done on tiny
fits first and reported apart.

    python benchmarks/bench_full_batch.py              # 200,000 x 100
    python benchmarks/bench_full_batch.py --full       # 1,000,000 x 100
"""

import argparse

import numpy as np
from _common import (
    add_threads_arg,
    best_time,
    dense_data,
    limit_threads,
    machine,
    print_table,
    quiet,
    sparse_data,
    timed,
)

from skgd import GDRegressor


def model(epochs, n_jobs=None):
    return GDRegressor(loss="squared_error", penalty="l2", alpha=1e-4, solver="sgd",
                       batch_size="full", learning_rate="constant", eta0=0.01,
                       max_iter=epochs, tol=None, n_jobs=n_jobs)


def epoch_times(X, y, epochs, repeat, n_jobs=None):
    """(seconds of a 1-epoch fit, marginal seconds of one more epoch)."""
    one = best_time(model(1, n_jobs).fit, repeat, X, y)
    many = best_time(model(1 + epochs, n_jobs).fit, repeat, X, y)
    return one, max(many - one, 0.0) / epochs


def blas_time(X, repeat):
    w = np.ones(X.shape[1], dtype=X.dtype)
    return best_time(lambda: X.T @ (X @ w), repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--sparse-features", type=int, default=2**18)
    parser.add_argument("--nnz", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=10,
                        help="extra epochs timed to get the per-epoch cost")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="1,000,000 rows")
    add_threads_arg(parser)
    args = parser.parse_args()
    limit_threads(args.threads)
    if args.full:
        args.rows = 1_000_000
    quiet()
    print(machine())

    X64, y64, _ = dense_data(args.rows, args.features)
    X32, y32 = X64.astype(np.float32), y64.astype(np.float32)
    X_sp, y_sp, _ = sparse_data(args.rows, args.sparse_features, args.nnz)

    compile_s = sum(timed(model(2, n_jobs).fit, X_[:64], y_[:64])
                    for X_, y_ in ((X64, y64), (X32, y32), (X_sp, y_sp))
                    for n_jobs in (None, -1))
    print(f"Numba compile / cache load, tiny fits (excluded below): {compile_s:.2f} s")

    rows, epochs, blas_of = [], {}, {}
    cases = [("dense float64", X64, y64, None), ("dense float64, n_jobs=-1", X64, y64, -1),
             ("dense float32", X32, y32, None), ("dense float32, n_jobs=-1", X32, y32, -1),
             ("sparse CSR float64", X_sp, y_sp, None),
             ("sparse CSR float64, n_jobs=-1", X_sp, y_sp, -1)]
    for name, X, y, n_jobs in cases:
        fit1, epoch = epoch_times(X, y, args.epochs, args.repeat, n_jobs)
        if id(X) not in blas_of:  # once per array: the same work for every case
            blas_of[id(X)] = blas_time(X, args.repeat)
        blas = blas_of[id(X)]
        epochs[name] = (epoch, blas)
        rows.append([name, fit1, epoch, blas, epoch / blas,
                     "-" if name.startswith("sparse") else "<= 1.0"])
    print_table(
        f"full batch, s (min of {args.repeat}); dense {args.rows:,} x {args.features}, "
        f"sparse {args.rows:,} x {args.sparse_features:,} with {args.nnz} nnz/row",
        ["case", "fit, 1 epoch", "epoch", "X.T @ (X @ w)", "epoch / BLAS", "target"],
        rows)

    rows = []
    for suffix in ("", ", n_jobs=-1"):
        e64, b64 = epochs["dense float64" + suffix]
        e32, b32 = epochs["dense float32" + suffix]
        rows.append([f"skgd epoch{suffix}", e64, e32, e64 / e32, ">= 1.3"])
        if not suffix:
            rows.append(["X.T @ (X @ w)", b64, b32, b64 / b32, "-"])
    print_table("float64 vs float32, dense full batch, s",
                ["case", "float64", "float32", "speed-up", "target"], rows)


if __name__ == "__main__":
    main()
