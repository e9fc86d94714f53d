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
"""

import hashlib
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_STAMP = _PACKAGE / "_kernels" / "__pycache__" / "skgd-kernel-sources.stamp"
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


def invalidate_stale_cache():
    try:
        current = _fingerprint()
        if _STAMP.exists() and _STAMP.read_text() == current:
            return
        for cached in (*_PACKAGE.glob("**/__pycache__/*.nbi"),
                       *_PACKAGE.glob("**/__pycache__/*.nbc")):
            cached.unlink(missing_ok=True)
        _STAMP.parent.mkdir(exist_ok=True)
        _STAMP.write_text(current)
    except OSError:
        # a read-only install: Numba then caches elsewhere (or not at all)
        pass
