"""Cold start: a fresh process that imports skgd and fits a tiny model.

What a short script, a test or a CLI pays before any real work: start
Python, import the library, fit a tiny model (``--rows`` x ``--features``,
two classes) with its defaults and predict. Each case runs in a new
subprocess (``--repeat`` times, minimum shown):

* ``skgd, warm cache``: Numba's on-disk cache holds skgd's compiled kernels
  (this script fills it first with one untimed run): the kernels load;
* ``skgd, cold cache``: ``NUMBA_CACHE_DIR`` points at a new empty directory
  for every run, so every kernel the fit needs compiles (the first run on a
  new machine or after an upgrade);
* ``SGDClassifier``: the same with scikit-learn's compiled Cython.

Columns: ``import`` (``from skgd import GDClassifier``, or scikit-learn's
import, after NumPy is loaded), ``first fit + predict`` and ``process`` (the
whole subprocess, interpreter start-up included, as the parent sees it). The
issue's target: a process with a warm cache <= 1.5 s.

skgd's warm runs alternate with scikit-learn's, so a busy spell of a shared
host falls on both. skgd's modules are compiled to bytecode first, as a pip
install or Python's first import does: where ``PYTHONDONTWRITEBYTECODE`` is
set (this project's machines), an editable install would otherwise compile
skgd's ~30 sources again in every process (~0.03 s), while scikit-learn's
installed bytecode is read.

    python benchmarks/bench_cold_start.py [--repeat 3]
"""

import argparse
import compileall
import importlib.util
import json
import subprocess
import sys
import tempfile
import time

from _common import add_threads_arg, limit_threads, machine, print_table, thread_env

CHILD = """
import json, time
start = time.perf_counter()
import numpy as np
numpy_done = time.perf_counter()
if {skgd!r}:
    from skgd import GDClassifier as Model
else:
    from sklearn.linear_model import SGDClassifier as Model
import_done = time.perf_counter()
rng = np.random.RandomState(0)
X = rng.randn({rows}, {features})
y = (X[:, 0] > 0).astype(int)
Model(random_state=0).fit(X, y).predict(X)
fit_done = time.perf_counter()
print(json.dumps({{"import": import_done - numpy_done, "fit": fit_done - import_done}}))
"""


def run_child(skgd, args, cache_dir=None):
    env = thread_env(args.threads)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    code = CHILD.format(skgd=skgd, rows=args.rows, features=args.features)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env,
                         capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - start
    times = json.loads(out.strip().splitlines()[-1])
    return times["import"], times["fit"], wall


def best_of(runs):
    """Per column minimum over the runs."""
    return [min(column) for column in zip(*runs)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    add_threads_arg(parser)
    args = parser.parse_args()
    limit_threads(args.threads)
    print(machine())

    package = importlib.util.find_spec("skgd").submodule_search_locations[0]
    compileall.compile_dir(package, quiet=1)
    run_child(True, args)  # fill the default cache (and the OS file cache)
    run_child(False, args)
    warm, sklearn = [], []
    for _ in range(args.repeat):
        warm.append(run_child(True, args))
        sklearn.append(run_child(False, args))
    warm, sklearn = best_of(warm), best_of(sklearn)
    cold = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as empty:
            cold.append(run_child(True, args, cache_dir=empty))
    cold = best_of(cold)

    rows = [["skgd GDClassifier, warm cache", *warm, warm[2] / sklearn[2], "<= 1.5 s"],
            ["skgd GDClassifier, cold cache", *cold, cold[2] / sklearn[2], "-"],
            ["scikit-learn SGDClassifier", *sklearn, 1.0, "-"]]
    print_table(
        f"cold start, s (fresh process, min of {args.repeat}); tiny fit "
        f"{args.rows} x {args.features}, default parameters",
        ["case", "import", "first fit + predict", "process", "process ratio", "target"],
        rows)


if __name__ == "__main__":
    main()
