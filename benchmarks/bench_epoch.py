"""Per-epoch time of skgd vs scikit-learn, side by side in one process.

Runs plain SGD with ``batch_size=1`` (scikit-learn's algorithm) against
``SGDClassifier`` / ``SGDRegressor`` on the same data with the same loss,
penalty and constant step, ``max_iter=5, tol=None``, and prints the ratio
skgd time / scikit-learn time (< 1: skgd is faster). Numba compile time is
measured first, on a tiny fit, and reported apart.

    python benchmarks/bench_epoch.py [--rows 200000] [--features 100] [--repeat 3]
"""

import argparse
import time

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier, SGDRegressor

from skgd import GDClassifier, GDRegressor


def best_time(fit, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fit()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--sparse-features", type=int, default=2**18)
    parser.add_argument("--nnz", type=int, default=50, help="non-zeros per sparse row")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.RandomState(0)
    X = rng.randn(args.rows, args.features)
    w = rng.randn(args.features)
    y_reg = X @ w + rng.randn(args.rows)
    y_clf = (y_reg > 0).astype(int)
    cols = rng.randint(0, args.sparse_features, size=args.rows * args.nnz)
    X_sparse = sp.csr_matrix(
        (rng.randn(args.rows * args.nnz), cols,
         np.arange(0, args.rows * args.nnz + 1, args.nnz)),
        shape=(args.rows, args.sparse_features))
    X_sparse.sum_duplicates()
    y_sparse = (X_sparse @ rng.randn(args.sparse_features) > 0).astype(int)

    common = dict(alpha=1e-4, learning_rate="constant", eta0=0.001, max_iter=5,
                  tol=None, shuffle=True, random_state=0)
    start = time.perf_counter()
    GDClassifier(loss="hinge", solver="sgd", batch_size=1, **common).fit(X[:50], y_clf[:50])
    GDRegressor(solver="sgd", batch_size=1, **common).fit(X[:50], y_reg[:50])
    GDClassifier(loss="hinge", solver="sgd", batch_size=1, **common).fit(
        X_sparse[:50], y_sparse[:50])
    print(f"Numba compile / cache load (tiny fits): {time.perf_counter() - start:.2f} s")

    cases = [
        ("hinge, dense", GDClassifier(loss="hinge", solver="sgd", batch_size=1, **common),
         SGDClassifier(loss="hinge", **common), X, y_clf),
        ("squared_error, dense", GDRegressor(solver="sgd", batch_size=1, **common),
         SGDRegressor(**common), X, y_reg),
        ("hinge, sparse CSR", GDClassifier(loss="hinge", solver="sgd", batch_size=1, **common),
         SGDClassifier(loss="hinge", **common), X_sparse, y_sparse),
    ]
    print(f"\n{'batch_size=1 SGD, 5 epochs':28s} {'skgd s':>8s} {'sklearn s':>10s} {'ratio':>7s}")
    for name, ours, ref, X_, y_ in cases:
        t_ours = best_time(lambda: ours.fit(X_, y_), args.repeat)
        t_ref = best_time(lambda: ref.fit(X_, y_), args.repeat)
        print(f"{name:28s} {t_ours:8.3f} {t_ref:10.3f} {t_ours / t_ref:7.2f}")


if __name__ == "__main__":
    main()
