"""The stale-cache guard: an edited kernel source drops skgd's Numba cache."""

import os

from skgd._kernels import _cache


def test_changed_source_invalidates_cache_files(tmp_path, monkeypatch):
    pkg = tmp_path / "skgd"
    (pkg / "solvers" / "__pycache__").mkdir(parents=True)
    (pkg / "_kernels").mkdir()
    source = pkg / "solvers" / "_adam.py"
    source.write_text("x = 1\n")
    estimator = pkg / "_base.py"  # pure Python: its edits keep the cache
    estimator.write_text("y = 1\n")
    cached = pkg / "solvers" / "__pycache__" / "_adam.adam_update-1.py311.nbi"
    monkeypatch.setattr(_cache, "_PACKAGE", pkg)
    monkeypatch.setattr(_cache, "_STAMP", pkg / "_kernels" / "__pycache__" / "stamp")

    _cache.invalidate_stale_cache()  # first run: records the fingerprint
    cached.write_text("index")
    _cache.invalidate_stale_cache()  # nothing changed: the cache survives
    assert cached.exists()
    estimator.write_text("y = 2  # edited\n")
    os.utime(estimator, ns=(1, 1))
    _cache.invalidate_stale_cache()
    assert cached.exists()

    source.write_text("x = 2  # edited\n")
    os.utime(source, ns=(1, 1))  # a different mtime as well as size
    _cache.invalidate_stale_cache()
    assert not cached.exists()
