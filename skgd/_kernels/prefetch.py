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

from llvmlite import ir
from numba import njit
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._config import NJIT_INLINE

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


def _prefetch_intrinsic(locality, doc):
    @intrinsic
    def prefetch_at(typingctx, array, index):
        if not (isinstance(array, types.Array) and array.ndim in (1, 2)
                and isinstance(index, types.Integer)):
            return None

        def codegen(context, builder, signature, args):
            array_type = signature.args[0]
            view = context.make_array(array_type)(context, builder, args[0])
            zero = ir.Constant(args[1].type, 0)
            pointer = cgutils.get_item_pointer(
                context, builder, array_type, view,
                [args[1]] + [zero] * (array_type.ndim - 1), wraparound=False)
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
            return context.get_dummy_value()

        return types.void(array, index), codegen

    prefetch_at.__doc__ = doc
    return prefetch_at


prefetch = _prefetch_intrinsic(
    _TO_L1, """``llvm.prefetch`` of ``&array[index]``, or of the start of row
    ``index`` of a 2-D array, into every cache level (read).""")
prefetch_to_l2 = _prefetch_intrinsic(
    _TO_L2, """:func:`prefetch` into L2 only (the first of the two stages).""")


@njit(**NJIT_INLINE)
def _request(array, index, to_l1):
    # to_l1 is a literal at every call site: no branch is left
    if to_l1:
        prefetch(array, index)
    else:
        prefetch_to_l2(array, index)


@njit(**NJIT_INLINE)
def _prefetch_csr_lines(data, indices, indptr, r, to_l1):
    # every line of the row's values and indices: a line each 8 (4) entries
    # from the first, and the last entry's (the row need not start a line:
    # 50 float64 values span 7 or 8 lines; without it one row in eight had
    # its last line missed, 0.052-0.054 -> 0.050-0.051 s an epoch)
    start, stop = indptr[r], indptr[r + 1]
    if stop <= start:
        return
    for q in range(start, stop, _LINE):
        _request(data, q, to_l1)
    for q in range(start, stop, 2 * _LINE):  # 4-byte indices
        _request(indices, q, to_l1)
    _request(data, stop - 1, to_l1)
    _request(indices, stop - 1, to_l1)


@njit(**NJIT_INLINE)
def _prefetch_dense_lines(X, r, to_l1):
    row = X[r]
    for j in range(0, row.shape[0], _LINE):
        _request(row, j, to_l1)
    if row.shape[0] > 0:
        _request(row, row.shape[0] - 1, to_l1)


@njit(**NJIT_INLINE)
def prefetch_csr_row(data, indices, indptr, Y, sw, order, pos):
    """:func:`prefetch_row` of CSR rows (the CSR-only kernel has no dense
    placeholder to pass), with the offsets of row ``order[pos +
    OFFSETS_DISTANCE]`` requested into L2 first."""
    n = order.shape[0]
    if pos + OFFSETS_DISTANCE < n:
        prefetch_to_l2(indptr, order[pos + OFFSETS_DISTANCE])
    if pos + FAR_DISTANCE < n:
        _prefetch_csr_lines(data, indices, indptr, order[pos + FAR_DISTANCE], False)
    if pos + NEAR_DISTANCE < n:
        r = order[pos + NEAR_DISTANCE]
        prefetch(sw, r)
        prefetch(Y, r)
        _prefetch_csr_lines(data, indices, indptr, r, True)


@njit(**NJIT_INLINE)
def prefetch_row(X, data, indices, indptr, sparse, Y, sw, order, pos):
    """Called at position ``pos`` of the epoch: request row
    ``order[pos + FAR_DISTANCE]`` into L2 and row ``order[pos +
    NEAR_DISTANCE]`` (with its target and weight) into L1, where in range."""
    if sparse:
        prefetch_csr_row(data, indices, indptr, Y, sw, order, pos)
        return
    n = order.shape[0]
    if pos + FAR_DISTANCE < n:
        _prefetch_dense_lines(X, order[pos + FAR_DISTANCE], False)
    if pos + NEAR_DISTANCE < n:
        r = order[pos + NEAR_DISTANCE]
        prefetch(sw, r)
        prefetch(Y, r)
        _prefetch_dense_lines(X, r, True)
