"""Software prefetch: ask the CPU to start loading a row before it is read.

Shuffled epochs read rows in random order, so every row starts with cache
misses that the hardware prefetcher cannot predict. Requesting the lines of
the row ``PREFETCH_DISTANCE`` positions ahead overlaps those misses with the
work on the current row. Measured on the batch_size=1 SGD loop over CSR
200,000 x 2**18 with 50 non-zeros a row: 0.089 -> 0.053 s an epoch. The
lazy CSR kernel prefetches its rows the same way, and ``catch_up`` the
scattered weights and state it is about to read. A prefetch is only a hint:
it never faults and never changes a result.
"""

from llvmlite import ir
from numba import njit
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._config import NJIT_INLINE

# rows ahead: 2 left part of the latency exposed, 8 evicted lines too early
PREFETCH_DISTANCE = 4
# elements a 64-byte cache line holds, counted for float64 (float32 rows get
# every line requested twice: harmless)
_LINE = 8


@intrinsic
def prefetch(typingctx, array, index):
    """``llvm.prefetch`` of ``&array[index]``, or of the start of row
    ``index`` of a 2-D array (read, high locality)."""
    if not (isinstance(array, types.Array) and array.ndim in (1, 2)
            and isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        zero = ir.Constant(args[1].type, 0)
        pointer = cgutils.get_item_pointer(context, builder, array_type, view,
                                           [args[1]] + [zero] * (array_type.ndim - 1),
                                           wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        # declare_intrinsic mangles the name for this LLVM's pointer types
        # (llvm.prefetch.p0i8 with typed pointers, llvm.prefetch.p0 opaque)
        function = builder.module.declare_intrinsic(
            "llvm.prefetch", [byte_pointer],
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]))
        builder.call(function, [builder.bitcast(pointer, byte_pointer),
                                ir.Constant(i32, 0),   # read
                                ir.Constant(i32, 3),   # keep in all cache levels
                                ir.Constant(i32, 1)])  # data, not instructions
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(**NJIT_INLINE)
def _prefetch_csr_lines(data, indices, indptr, r):
    start, stop = indptr[r], indptr[r + 1]
    for q in range(start, stop, _LINE):
        prefetch(data, q)
    for q in range(start, stop, 2 * _LINE):  # 4-byte indices
        prefetch(indices, q)


@njit(**NJIT_INLINE)
def prefetch_csr_row(data, indices, indptr, Y, sw, order, pos):
    """:func:`prefetch_row` for the CSR-only kernel (no dense placeholder)."""
    if pos >= order.shape[0]:
        return
    r = order[pos]
    prefetch(sw, r)
    prefetch(Y, r)
    _prefetch_csr_lines(data, indices, indptr, r)


@njit(**NJIT_INLINE)
def prefetch_row(X, data, indices, indptr, sparse, Y, sw, order, pos):
    """Prefetch every cache line of row ``order[pos]`` (and its target and
    weight), if ``pos`` is in range."""
    if pos >= order.shape[0]:
        return
    r = order[pos]
    prefetch(sw, r)
    prefetch(Y, r)
    if sparse:
        _prefetch_csr_lines(data, indices, indptr, r)
    else:
        row = X[r]
        for j in range(0, row.shape[0], _LINE):
            prefetch(row, j)
