"""Helpers shared by the benchmark scripts: data, timing, tables, machine info.

The scripts import this module as ``_common`` (they run as
``python benchmarks/bench_*.py``, which puts ``benchmarks/`` on ``sys.path``).
"""

import os
import platform
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def best_time(fit, repeat, *args):
    """Minimum wall-clock seconds of ``fit(*args)`` over ``repeat`` calls.

    The minimum is the least noisy estimate of the cost of the work itself on
    a shared machine (other processes only ever add time).
    """
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fit(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def best_times(calls, repeat):
    """Minimum wall-clock seconds of each of ``calls`` (no-argument
    callables), run in turn ``repeat`` times: A B A B ..., not A A B B.

    This host's speed drifts by 10-30% over minutes (other tenants); calls
    timed in turn see the same spells, so their ratio drifts far less than
    that of two blocks of repeats timed one after the other.
    """
    times = [[] for _ in calls]
    for _ in range(repeat):
        for call, own in zip(calls, times):
            start = time.perf_counter()
            call()
            own.append(time.perf_counter() - start)
    return [min(own) for own in times]


def timed(fn, *args):
    """Seconds taken by one call of ``fn(*args)``."""
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def quiet():
    """Silence the ConvergenceWarnings that fixed-epoch fits raise by design."""
    warnings.filterwarnings("ignore", message=".*[Mm]aximum.*iter")
    warnings.filterwarnings("ignore", message=".*max_iter.*")
    warnings.filterwarnings("ignore", message=".*converge.*")


def dense_data(rows, features, seed=0, dtype=np.float64):
    """Standard-normal ``X`` with a linear regression target and its sign."""
    rng = np.random.RandomState(seed)
    X = rng.randn(rows, features).astype(dtype)
    w = rng.randn(features)
    y_reg = X @ w + rng.randn(rows)
    y_clf = (y_reg > 0).astype(np.int64)
    return X, y_reg.astype(dtype), y_clf


def sparse_data(rows, features, nnz, seed=0, dtype=np.float64):
    """CSR ``X`` with about ``nnz`` non-zeros a row at uniform random columns.

    The shape of hashed text (HashingVectorizer): few non-zeros among
    ``2**18`` or more columns. Returns ``X``, a linear regression target and
    its sign.
    """
    rng = np.random.RandomState(seed)
    cols = rng.randint(0, features, size=rows * nnz)
    X = sp.csr_matrix(
        (rng.randn(rows * nnz).astype(dtype), cols,
         np.arange(0, rows * nnz + 1, nnz)),
        shape=(rows, features))
    X.sum_duplicates()
    y_reg = X @ rng.randn(features) + 0.1 * rng.randn(rows)
    return X, y_reg.astype(dtype), (y_reg > 0).astype(np.int64)


def commit():
    """The commit of the skgd being measured, ``-dirty`` if its sources differ.

    Asked of the checkout that ``import skgd`` found, which is this repository
    unless ``PYTHONPATH`` points elsewhere (e.g. a ``git worktree`` of another
    commit, to compare two versions).
    """
    import skgd

    root = Path(skgd.__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "skgd"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return f"unknown ({root})"


def add_threads_arg(parser):
    parser.add_argument(
        "--threads", type=int, default=None,
        help="limit BLAS and Numba threads (default: the libraries' own, all cores); "
             "use 1 when other work occupies a core: OpenBLAS threads that wait "
             "for a busy core slow down many times over")


def limit_threads(n):
    """Cap BLAS/OpenMP (threadpoolctl) and Numba at ``n`` threads, for both sides."""
    if n is None:
        return
    import numba
    import sklearn.linear_model  # noqa: F401  (load SciPy's BLAS too before capping)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def thread_env(n):
    """Environment that starts a subprocess with ``n`` BLAS and Numba threads.

    Only for new processes: Numba refuses a changed ``NUMBA_NUM_THREADS`` in
    a process whose threads are running.
    """
    env = dict(os.environ)
    if n is not None:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMBA_NUM_THREADS"):
            env[name] = str(n)
    return env


def machine():
    """One line naming the machine, the library versions and the BLAS."""
    import numba
    import sklearn
    from threadpoolctl import threadpool_info

    blas = [f"{p.get('internal_api')} x{p.get('num_threads')}"
            for p in threadpool_info() if p.get("user_api") == "blas"]
    cpu = platform.processor() or platform.machine()
    return (f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
            f"at start; "
            f"Python {platform.python_version()}, "
            f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
            f"numba {numba.__version__} ({numba.get_num_threads()} threads), "
            f"BLAS {', '.join(sorted(set(blas))) or 'unknown'}; skgd commit {commit()}")


def print_table(title, header, rows):
    """Print a Markdown table (pastes into README.md as it is)."""
    print(f"\n{title}\n")
    cells = [header] + [[c if isinstance(c, str) else format_cell(c) for c in row]
                        for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")


def format_cell(value):
    if value is None:
        return "-"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if value == 0 or abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"
