"""Invalidate skgd's Numba cache when any kernel source changes.

Numba keys a cached function on its own file only (numba/numba#1833): after
an edit to ``solvers/_adam.py``, the cached ``run_epoch`` in ``epoch.py``
would still run the old Adam it inlined. At import we fingerprint every
kernel and solver source (size and mtime; no file is read) and, when the
fingerprint differs from the one stored beside the cache, delete skgd's
cache files so the kernels recompile once. Only ``_kernels/`` and
``solvers/`` hold compiled code; an edit to the estimators' Python (or a
user's script) keeps the cache. A pip install rewrites every file, so this
matters mostly for editable installs; it costs ~1 ms.

The cache is where Numba puts it: the ``__pycache__`` folders beside the
sources, or, with ``NUMBA_CACHE_DIR`` set, one folder per source folder
under it. Each location keeps its own fingerprint: a benchmark that
compares two edits with a ``NUMBA_CACHE_DIR`` each must not run stale
kernels from either.
"""

import hashlib
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_STAMP_NAME = "skgd-kernel-sources.stamp"
# the folders whose sources Numba compiles (a kernel inlines the solvers)
_COMPILED = ("_kernels", "solvers")


def _fingerprint():
    digest = hashlib.sha1()
    sources = (source for folder in _COMPILED for source in (_PACKAGE / folder).glob("*.py"))
    for source in sorted(sources):
        stat = source.stat()
        digest.update(f"{source.relative_to(_PACKAGE)}:{stat.st_size}:{stat.st_mtime_ns}"
                      .encode())
    return digest.hexdigest()


def _cache_folders(cache_dir):
    """The folders Numba caches skgd's kernels in: ``__pycache__`` beside
    each source folder, or under ``cache_dir`` the subfolder Numba names
    after the source folder and the SHA-1 of its path
    (``numba.core.caching._CacheLocator.get_suitable_cache_subpath``)."""
    if not cache_dir:
        return [_PACKAGE / folder / "__pycache__" for folder in _COMPILED]
    folders = []
    for folder in _COMPILED:
        source_dir = str(_PACKAGE / folder)
        digest = hashlib.sha1(source_dir.encode()).hexdigest()
        folders.append(Path(cache_dir) / f"{folder}_{digest}")
    return folders


def invalidate_stale_cache(cache_dir=None):
    """Delete skgd's cached kernels if a compiled source changed since the
    fingerprint stored with them; ``cache_dir`` defaults to Numba's
    ``NUMBA_CACHE_DIR`` (empty: the ``__pycache__`` folders)."""
    if cache_dir is None:
        from numba.core.config import CACHE_DIR as cache_dir
    try:
        folders = _cache_folders(cache_dir)
        stamp = folders[0] / _STAMP_NAME
        current = _fingerprint()
        if stamp.exists() and stamp.read_text() == current:
            return
        for folder in folders:
            for cached in (*folder.glob("*.nbi"), *folder.glob("*.nbc")):
                cached.unlink(missing_ok=True)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(current)
    except OSError:
        # a read-only install: Numba then caches elsewhere (or not at all)
        pass
