"""The one Numba configuration every kernel in skgd is compiled with.

``cache=True`` so a kernel compiles once per machine, not once per process.
The fastmath flags are those stumpy uses: everything but ``nnan`` and
``ninf``. With full ``fastmath=True`` LLVM may assume no NaN or inf exists and
fold ``np.isfinite(x)`` to ``True``, which silently removes the divergence
checks the epoch loop relies on.
"""

FASTMATH_FLAGS = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

NJIT = dict(cache=True, nogil=True, fastmath=set(FASTMATH_FLAGS))
