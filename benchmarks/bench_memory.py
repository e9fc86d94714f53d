"""Peak memory of fitting a large float32 array, against the array's size.

Each case runs in a fresh subprocess, which builds X (2,000,000 x 50 float32,
400 MB = 381 MiB, by default) directly in float32, compiles / loads the kernels on a
tiny fit, and then fits for ``--epochs`` epochs. Two measures:

* peak RSS (``resource.getrusage(...).ru_maxrss``) during the fit, above the
  resident size just before it: every byte the fit touched, NumPy, Numba
  and the allocator's slack included;
* ``tracemalloc``'s peak during the fit: NumPy array allocations only (Numba's
  own few scratch arrays of one coefficient vector each are not traced).

A fit that trains on X in place adds a few row-sized vectors (targets,
weights, a shuffled order): a few percent of X. The Fortran-ordered case
shows what one copy of X looks like in the same table.

    python benchmarks/bench_memory.py [--rows 2000000] [--features 50] [--epochs 2]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

MB = 2**20

CASES = {
    "GDRegressor, C float32": ("GDRegressor", "C"),
    "GDClassifier, C float32": ("GDClassifier", "C"),
    "GDRegressor, Fortran float32 (copied)": ("GDRegressor", "F"),
}


def _rss_now():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss():
    # kilobytes on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def worker(estimator, order, rows, features, epochs):
    import numpy as np

    import skgd

    Estimator = getattr(skgd, estimator)
    params = dict(max_iter=epochs, tol=None, random_state=0)
    rng = np.random.default_rng(0)
    small = rng.standard_normal((64, features), dtype=np.float32)
    target = small[:, 0] if estimator == "GDRegressor" else small[:, 0] > 0
    Estimator(**params).fit(small, target)  # compile / load the kernels

    X = rng.standard_normal((rows, features), dtype=np.float32)
    if order == "F":
        X = np.asfortranarray(X)  # a copy, made before the measurement
    w = rng.standard_normal(features, dtype=np.float32)
    y = X @ w
    if estimator == "GDClassifier":
        y = (y > 0).astype(np.int8)
    rss_before = _rss_now()
    tracemalloc.start()
    start = time.perf_counter()
    est = Estimator(**params).fit(X, y)
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = _peak_rss()
    assert np.all(np.isfinite(est.coef_))
    return dict(array=X.nbytes, rss_extra=max(peak - rss_before, 0),
                traced=traced_peak, seconds=seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--worker", nargs=2, metavar=("ESTIMATOR", "ORDER"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.rows, args.features, args.epochs)))
        return

    print(f"X: {args.rows:,} x {args.features} float32 = "
          f"{args.rows * args.features * 4 / MB:,.0f} MiB; {args.epochs} epochs, "
          "default solver (Adam, batch_size=32)")
    header = (f"{'case':40s} {'peak RSS over start':>22s} {'NumPy peak (traced)':>22s}"
              f" {'fit time':>9s}")
    print(header)
    print("-" * len(header))
    for name, (estimator, order) in CASES.items():
        run = subprocess.run(
            [sys.executable, __file__, "--worker", estimator, order,
             "--rows", str(args.rows), "--features", str(args.features),
             "--epochs", str(args.epochs)],
            capture_output=True, text=True, check=True)
        r = json.loads(run.stdout.strip().splitlines()[-1])
        rss = f"{r['rss_extra'] / MB:,.0f} MiB ({r['rss_extra'] / r['array']:.1%} of X)"
        traced = f"{r['traced'] / MB:,.0f} MiB ({r['traced'] / r['array']:.1%} of X)"
        print(f"{name:40s} {rss:>22s} {traced:>22s} {r['seconds']:>8.1f}s")


if __name__ == "__main__":
    main()
