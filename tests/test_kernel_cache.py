"""The stale-cache guard: an edited kernel source drops skgd's Numba cache."""

import hashlib
import os

import pytest

from skgd._kernels import _cache


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
