"""The one Numba configuration every kernel in skgd is compiled with.

``cache=True`` so a kernel compiles once per machine, not once per process.
The fastmath flags leave out ``nnan`` and ``ninf``: with full
``fastmath=True`` LLVM may assume no NaN or inf exists and fold
``np.isfinite(x)`` to ``True``, silently removing divergence checks. They
also leave out ``nsz`` (unlike stumpy's set): together with ``reassoc`` it
lets LLVM fold Numba's ``np.isfinite(x)`` (computed as ``x - x == 0``) to
``True`` for a computed running sum (measured with numba 0.68;
tests/test_solvers.py guards it). Kernels still test divergence with
comparisons (``not x <= limit``), which no flag here can fold.

``error_model="numpy"``: a float division by zero gives ``inf`` or ``nan``
(IEEE, as NumPy and Cython's ``cdivision``) instead of raising
``ZeroDivisionError``, so no division carries a test and a branch to raise.
No kernel divides by a value that can be zero (each divisor is validated
positive or guarded), and a non-finite result would meet the divergence
checks above. Measured with numba 0.68 (AMD EPYC, alternated runs): a
full-batch epoch on dense 1,000,000 x 100, 0.051-0.053 -> 0.044-0.045 s
(float64) and 0.038-0.039 -> 0.033 s (float32); mini-batch 32 Adam on CSR
200,000 x 2**18, 0.319-0.325 -> 0.299-0.308 s an epoch.
"""

FASTMATH_FLAGS = frozenset({"arcp", "contract", "afn", "reassoc"})

NJIT = dict(cache=True, nogil=True, fastmath=set(FASTMATH_FLAGS), error_model="numpy")

# small per-coordinate functions (the update rules and their dispatcher) are
# inlined at Numba IR level: as separate calls they cost ~20 ns (SGD) to
# ~100 ns (Adam) per coordinate, 100 times the arithmetic they do
NJIT_INLINE = dict(NJIT, inline="always")

# hyper-parameters travel to the kernels as a tuple of this many floats
# (padded with zeros): tuple values cannot alias the arrays the update writes,
# so LLVM hoists what depends only on them (Adam's bias corrections) out of
# the coordinate loop; one length keeps one kernel specialisation
N_HYPER = 8
