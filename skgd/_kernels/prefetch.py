"""Software prefetch: ask the CPU to start loading a row before it is read.

Shuffled epochs read rows in random order, so every row starts with cache
misses that the hardware prefetcher cannot predict. Requesting the lines of
rows a few positions ahead overlaps those misses with the work on the
current row: in two stages, into L2 ``FAR_DISTANCE`` rows ahead, then into
L1 ``NEAR_DISTANCE`` rows ahead; a CSR row's offsets, which locate its
lines, come ``OFFSETS_DISTANCE`` rows ahead. The lazy CSR kernel prefetches
its rows the same way, its records into L2, and ``catch_up`` the scattered
weights and state it is about to read. A prefetch is only a hint: it never
faults and never changes a result.
"""

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._config import NJIT_INLINE
from ._jit import njit  # numba.njit, its cache loading leaner

# Two stages (positions ahead of the row being worked on): a row's lines are
# first requested into L2 (prefetcht2) FAR_DISTANCE rows ahead, then into L1
# (prefetcht0) NEAR_DISTANCE rows ahead. The likely reason it pays (no
# hardware counters here to confirm it): a request from DRAM straight into
# L1 holds one of L1's few miss buffers for its whole latency, and the
# loop's own misses on the weights then wait for a free one; L2-level
# requests do not. batch_size=1 plain SGD, shuffled, 200,000 rows, s an
# epoch (no prefetch at all: 0.089 s sparse, on an older host):
#                                  dense x 100     CSR 2**18, 50 nnz/row
#   one t0 stage, 4 rows ahead     0.036-0.039     0.059-0.067
#   two stages, 8 and 2 ahead      0.025-0.032     0.051-0.060
# (AMD EPYC, 2 cores; bench_epoch.py --full, alternated runs). Distances
# 6/2, 8/3, 12/3, 16/2, 16/4 and 24/4 measured within the noise of 8/2
# (0.043-0.051 s sparse).
FAR_DISTANCE = 8
NEAR_DISTANCE = 2
# A CSR row's lines are found from its offsets (indptr[r], indptr[r + 1]),
# read at random too: a demand miss there stalled the far stage, so they are
# requested further ahead still. batch_size=1 plain SGD on CSR 200,000 x
# 2**18, 50 non-zeros a row, shuffled: 0.041-0.048 -> 0.037-0.039 s an epoch
# (alternated runs; on the older host with one stage it had measured no gain)
OFFSETS_DISTANCE = 2 * FAR_DISTANCE
# elements a 64-byte cache line holds, counted for float64 (float32 rows get
# every line requested twice: harmless)
_LINE = 8

# llvm.prefetch locality: 3 = all levels (prefetcht0), 1 = L2 (prefetcht2)
_TO_L1, _TO_L2 = 3, 1


def _item_pointer(context, builder, array_type, array, index_type, index):
    """Pointer to ``array[index]``: ``index`` an integer (for a 2-D array,
    the start of that row) or a (row, column) pair."""
    view = context.make_array(array_type)(context, builder, array)
    if isinstance(index_type, types.UniTuple):
        indices = cgutils.unpack_tuple(builder, index, 2)
    else:
        zero = ir.Constant(index.type, 0)
        indices = [index] + [zero] * (array_type.ndim - 1)
    return cgutils.get_item_pointer(context, builder, array_type, view, indices,
                                    wraparound=False)


def _call_prefetch(builder, pointer, locality):
    byte_pointer = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    # declare_intrinsic mangles the name for this LLVM's pointer types
    # (llvm.prefetch.p0i8 with typed pointers, llvm.prefetch.p0 opaque)
    function = builder.module.declare_intrinsic(
        "llvm.prefetch", [byte_pointer],
        ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]))
    builder.call(function, [builder.bitcast(pointer, byte_pointer),
                            ir.Constant(i32, 0),         # read
                            ir.Constant(i32, locality),
                            ir.Constant(i32, 1)])        # data


def _valid(array, index):
    pair = (isinstance(index, types.UniTuple) and index.count == 2
            and isinstance(index.dtype, types.Integer))
    return (isinstance(array, types.Array) and array.ndim in (1, 2)
            and (isinstance(index, types.Integer) or (pair and array.ndim == 2)))


def _prefetch_intrinsic(locality, doc):
    @intrinsic
    def prefetch_at(typingctx, array, index):
        if not _valid(array, index):
            return None

        def codegen(context, builder, signature, args):
            pointer = _item_pointer(context, builder, signature.args[0], args[0],
                                    signature.args[1], args[1])
            _call_prefetch(builder, pointer, locality)
            return context.get_dummy_value()

        return types.void(array, index), codegen

    prefetch_at.__doc__ = doc
    return prefetch_at


prefetch = _prefetch_intrinsic(
    _TO_L1, """``llvm.prefetch`` of ``&array[index]`` (``index`` an integer,
    or a (row, column) pair for a 2-D array; an integer alone is the start
    of that row of a 2-D array), into every cache level (read).""")
prefetch_to_l2 = _prefetch_intrinsic(
    _TO_L2, """:func:`prefetch` into L2 only (the first of the two stages).""")


@intrinsic
def _request(typingctx, array, index, to_l1):
    """:func:`prefetch` if ``to_l1`` else :func:`prefetch_to_l2`. The choice
    is an LLVM branch, folded where ``to_l1`` is a constant: a branch in
    Python here would cost every caller a reference count (below)."""
    if not (_valid(array, index) and isinstance(to_l1, types.Boolean)):
        return None

    def codegen(context, builder, signature, args):
        pointer = _item_pointer(context, builder, signature.args[0], args[0],
                                signature.args[1], args[1])
        with builder.if_else(args[2]) as (to_l1_branch, to_l2_branch):
            with to_l1_branch:
                _call_prefetch(builder, pointer, _TO_L1)
            with to_l2_branch:
                _call_prefetch(builder, pointer, _TO_L2)
        return context.get_dummy_value()

    return types.void(array, index, to_l1), codegen


# The helpers below are inlined into the kernels' per-row loops, and none of
# them branches: out-of-range positions are clamped to the epoch's last row
# (a few redundant requests at its end) instead of tested. An inlined helper
# whose branches use its array arguments unevenly left Numba's reference
# counting of those arguments (an atomic increment and decrement each, per
# call) unpruned: 13 such pairs a row took 18-20% of a batch_size=1 epoch
# and 31% of a dense mini-batch one (numba 0.68, measured with perf).


@njit(**NJIT_INLINE)
def _prefetch_csr_lines(data, indices, indptr, r, to_l1):
    # every line of the row's values and indices: a line each 8 (4) entries
    # from the first, and the last entry's (the row need not start a line:
    # 50 float64 values span 7 or 8 lines; without it one row in eight had
    # its last line missed, 0.052-0.054 -> 0.050-0.051 s an epoch). An
    # empty row requests the entry after it (at most one past the end: a
    # prefetch never faults)
    # int64: a uint64 with an int64 would make float64 indices
    start, stop = np.int64(indptr[r]), np.int64(indptr[r + 1])
    for q in range(start, stop, _LINE):
        _request(data, q, to_l1)
    for q in range(start, stop, 2 * _LINE):  # 4-byte indices
        _request(indices, q, to_l1)
    last = max(stop - 1, start)
    _request(data, last, to_l1)
    _request(indices, last, to_l1)


@njit(**NJIT_INLINE)
def _prefetch_dense_lines(X, r, to_l1):
    # (r, j) rather than a view X[r], which costs a reference count. X has
    # at least one column (validation requires it)
    d = X.shape[1]
    for j in range(0, d, _LINE):
        _request(X, (r, j), to_l1)
    _request(X, (r, d - 1), to_l1)


@njit(**NJIT_INLINE)
def prefetch_csr_row(data, indices, indptr, Y, sw, order, pos):
    """Called at position ``pos`` of the epoch over CSR rows: request the
    offsets of row ``order[pos + OFFSETS_DISTANCE]`` and the lines of row
    ``order[pos + FAR_DISTANCE]`` into L2, and row ``order[pos +
    NEAR_DISTANCE]`` (with its target and weight) into L1; positions past
    the end request the last row."""
    last = order.shape[0] - 1
    prefetch_to_l2(indptr, order[min(pos + OFFSETS_DISTANCE, last)])
    _prefetch_csr_lines(data, indices, indptr, order[min(pos + FAR_DISTANCE, last)],
                        False)
    r = order[min(pos + NEAR_DISTANCE, last)]
    prefetch(sw, r)
    prefetch(Y, r)
    _prefetch_csr_lines(data, indices, indptr, r, True)


@njit(**NJIT_INLINE)
def prefetch_dense_row(X, Y, sw, order, pos):
    """:func:`prefetch_csr_row` for dense rows: row ``order[pos +
    FAR_DISTANCE]`` into L2, row ``order[pos + NEAR_DISTANCE]`` with its
    target and weight into L1."""
    last = order.shape[0] - 1
    _prefetch_dense_lines(X, order[min(pos + FAR_DISTANCE, last)], False)
    r = order[min(pos + NEAR_DISTANCE, last)]
    prefetch(sw, r)
    prefetch(Y, r)
    _prefetch_dense_lines(X, r, True)
