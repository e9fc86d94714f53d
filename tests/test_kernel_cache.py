"""skgd's Numba cache: an edited kernel source drops it, and a process with a
warm cache loads the kernels without Numba's registries."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from skgd._kernels import _cache, _jit


def _package(tmp_path):
    pkg = tmp_path / "skgd"
    (pkg / "solvers").mkdir(parents=True)
    (pkg / "_kernels").mkdir()
    (pkg / "solvers" / "_adam.py").write_text("x = 1\n")
    (pkg / "_base.py").write_text("y = 1\n")  # pure Python: its edits keep the cache
    return pkg


def _edit(path, text):
    path.write_text(text)
    os.utime(path, ns=(1, 1))  # a different mtime as well as size


@pytest.mark.parametrize("numba_cache_dir", [False, True])
def test_changed_source_invalidates_cache_files(tmp_path, monkeypatch, numba_cache_dir):
    pkg = _package(tmp_path)
    monkeypatch.setattr(_cache, "_PACKAGE", pkg)
    if numba_cache_dir:
        # NUMBA_CACHE_DIR: Numba's folder for solvers/ is named after it and
        # the SHA-1 of its path
        cache_dir = tmp_path / "numba-cache"
        digest = hashlib.sha1(str(pkg / "solvers").encode()).hexdigest()
        folder = cache_dir / f"solvers_{digest}"
    else:
        cache_dir = ""
        folder = pkg / "solvers" / "__pycache__"
    folder.mkdir(parents=True)
    cached = folder / "_adam.adam_update-1.py311.nbi"

    _cache.invalidate_stale_cache(str(cache_dir))  # first run: records the fingerprint
    cached.write_text("index")
    _cache.invalidate_stale_cache(str(cache_dir))  # nothing changed: the cache survives
    assert cached.exists()
    _edit(pkg / "_base.py", "y = 2  # edited\n")
    _cache.invalidate_stale_cache(str(cache_dir))
    assert cached.exists()

    _edit(pkg / "solvers" / "_adam.py", "x = 2  # edited\n")
    _cache.invalidate_stale_cache(str(cache_dir))
    assert not cached.exists()


def test_each_cache_location_keeps_its_own_fingerprint(tmp_path, monkeypatch):
    # the package's cache being current says nothing of NUMBA_CACHE_DIR's
    pkg = _package(tmp_path)
    monkeypatch.setattr(_cache, "_PACKAGE", pkg)
    cache_dir = tmp_path / "numba-cache"
    digest = hashlib.sha1(str(pkg / "solvers").encode()).hexdigest()
    (cache_dir / f"solvers_{digest}").mkdir(parents=True)
    stale = cache_dir / f"solvers_{digest}" / "_adam.adam_update-1.py311.nbi"

    _cache.invalidate_stale_cache(str(cache_dir))
    stale.write_text("index")
    _edit(pkg / "solvers" / "_adam.py", "x = 2  # edited\n")
    _cache.invalidate_stale_cache("")  # the package's own cache catches up
    assert stale.exists()
    _cache.invalidate_stale_cache(str(cache_dir))
    assert not stale.exists()


def test_the_folder_names_are_numbas():
    from numba.core.caching import _CacheLocator

    source = _cache._PACKAGE / "solvers" / "_adam.py"
    expected = _CacheLocator.get_suitable_cache_subpath(str(source))
    assert _cache._cache_folders("/cache")[1].name == expected


# every kind of kernel the estimators call: dense and CSR mini-batch (Adam),
# batch_size=1 on CSR and dense, the full batch, one-vs-rest in threads
FITS_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np, scipy.sparse as sp
    from skgd import GDClassifier, GDRegressor

    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    y = (X[:, 0] > 0).astype(int)
    y3 = np.digitize(X[:, 1], [-0.5, 0.5])
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    short = dict(random_state=0, max_iter=3, tol=None)
    models = [
        GDClassifier(**short).fit(X, y),
        GDClassifier(**short).fit(Xs, y),
        GDClassifier(solver="sgd", batch_size=1, **short).fit(Xs, y),
        GDRegressor(solver="sgd", batch_size=1, **short).fit(X, X[:, 0]),
        GDRegressor(batch_size="full", **short).fit(X, X[:, 0]),
        GDClassifier(n_jobs=2, **short).fit(X, y3),
    ]
    # modules that only the refresh of Numba's registries imports (and
    # Numba's np.empty / np.zeros, which the kernels do not call)
    refreshed = [name in sys.modules for name in
                 ("numba.typed.typeddict", "numba.np.polynomial.polynomial_core",
                  "numba.np.arrayobj")]
    # compiling afterwards (Numba's compiler refreshes for itself) still works
    import numba
    compiled = numba.njit(lambda a: a.sum() + 1)(np.ones(3))
    again = GDClassifier(**short).fit(X, y).coef_
    print(json.dumps({"coefs": [m.coef_.ravel().tolist() for m in models],
                      "refreshed": refreshed, "compiled": compiled,
                      "again": again.ravel().tolist()}))
""")


def _run_fits():
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", FITS_SCRIPT],
                         check=False, capture_output=True, text=True, timeout=600)
    # a symbol missing at the link would abort the process, not raise
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_warm_cache_loads_kernels_without_numbas_registries():
    first = _run_fits()  # compiles what the cache lacks, or loads it
    second = _run_fits()  # loads every kernel from the cache
    assert second["coefs"] == first["coefs"]
    assert second["again"] == second["coefs"][0]
    assert second["compiled"] == 4.0
    if _jit.LOADS_WITHOUT_REFRESH:
        assert second["refreshed"] == [False, False, False]
    else:  # a Numba newer than the last one checked keeps its own loading
        assert second["refreshed"] == [True, True, True]


def test_kernels_use_the_lean_cache_and_user_functions_keep_numbas():
    import numba
    from numba.core.caching import FunctionCache

    from skgd._kernels.epoch import run_epoch, run_epoch_custom

    lean = _jit.LOADS_WITHOUT_REFRESH
    expected = _jit._CacheLoadedWithoutRefresh if lean else FunctionCache
    assert type(run_epoch._cache) is expected
    assert not isinstance(run_epoch_custom._cache, FunctionCache)  # cache=False
    # decorated only, never called: nothing compiles or is written
    assert type(numba.njit(cache=True)(_user_function)._cache) is FunctionCache


def _user_function(a):
    return a


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64])
def test_kernel_allocations_match_numpys(dtype):
    import numba

    from skgd._kernels.alloc import empty, zeros

    @numba.njit
    def allocate(template, n, m):
        column = zeros(n, template.dtype)
        table = zeros((n, m), template.dtype)
        scratch = empty((n, m), template.dtype)
        counts = empty(np.int32(n), np.int64)
        for i in range(n):
            for j in range(m):
                scratch[i, j] = i * m + j
        return column, table, scratch, counts

    column, table, scratch, counts = allocate(np.ones(1, dtype=dtype), 5, 3)
    for array, shape, kind in ((column, (5,), dtype), (table, (5, 3), dtype),
                               (scratch, (5, 3), dtype), (counts, (5,), np.int64)):
        assert array.shape == shape and array.dtype == kind
        assert array.flags["C_CONTIGUOUS"] and array.flags["OWNDATA"] is False
        assert array.ctypes.data % 32 == 0  # Numba's alignment for its arrays
    assert not column.any() and not table.any()
    np.testing.assert_array_equal(scratch, np.arange(15).reshape(5, 3))
    assert scratch.strides == (3 * scratch.itemsize, scratch.itemsize)


ALLOCATION_CHURN = textwrap.dedent("""
    import numba, numpy as np
    from numba.core.runtime import rtsys
    from skgd._kernels.alloc import empty, zeros

    @numba.njit
    def churn(n):
        total = 0.0
        for _ in range(100):
            a = zeros(n, np.float64)
            b = empty((n, 2), np.float64)
            b[0, 0] = 1.0
            total += a[0] + b[0, 0]
        return total

    churn(4)  # compiled
    before = rtsys.get_allocation_stats()
    assert churn(4) == 100.0
    after = rtsys.get_allocation_stats()
    print(after.mi_alloc - before.mi_alloc, after.mi_free - before.mi_free)
""")


def test_kernel_allocations_are_freed():
    # Numba counts its runtime's allocations only with NUMBA_NRT_STATS set
    # before it starts: a process of its own
    env = dict(os.environ, NUMBA_NRT_STATS="1")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", ALLOCATION_CHURN],
                         check=False, capture_output=True, text=True, timeout=300,
                         env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    allocated, freed = map(int, out.stdout.split())
    assert allocated == freed == 200
