"""``empty`` and ``zeros`` for the kernels' work arrays, emitted inline.

Numba compiles ``np.empty`` and ``np.zeros`` as functions of their own
(``numba.np.arrayobj``'s overloads and its allocator trampoline), each with
an environment that names ``numba.np.arrayobj``. Loading a cached kernel
rebuilds those environments, and so imports that module (~0.04 s) in every
process; Python's exit then walks its objects. A warm-cache process that
fits a tiny model took 1.34-1.54 s without that import against 1.42-1.62 s
with it (min-median of 15 alternated processes, Numba 0.68). These
intrinsics emit what Numba's allocation does (an aligned NRT allocation
and the array's fields) into the calling kernel, so its cached code names
no function of Numba's.

Call them from jitted code only: ``empty(shape, dtype)``, ``shape`` an
integer or a tuple of integers, ``dtype`` a NumPy scalar type
(``np.float64``) or an array's ``.dtype``; a C-contiguous array, as NumPy's.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic

# Numba's own choice for arrays it allocates (BaseContext's preferred
# alignment: AVX's 32 bytes)
_ALIGN = 32


def _array_type(shape, dtype):
    """The array type ``empty(shape, dtype)`` returns, or None when the
    arguments are not a shape and a dtype (Numba then reports the call)."""
    if isinstance(dtype, types.DType):
        scalar = dtype.dtype
    elif isinstance(dtype, types.NumberClass):
        scalar = dtype.instance_type
    else:
        return None
    if isinstance(shape, types.Integer):
        return types.Array(scalar, 1, "C")
    if isinstance(shape, types.BaseTuple) and all(isinstance(size, types.Integer)
                                                  for size in shape):
        return types.Array(scalar, len(shape), "C")
    return None


def _allocate(context, builder, signature, args, fill_zeros):
    array_type = signature.return_type
    shape_type, shape = signature.args[0], args[0]
    if isinstance(shape_type, types.Integer):
        sizes = [context.cast(builder, shape, shape_type, types.intp)]
    else:
        sizes = [context.cast(builder, builder.extract_value(shape, i), size_type,
                              types.intp)
                 for i, size_type in enumerate(shape_type)]
    intp = context.get_value_type(types.intp)
    itemsize = context.get_abi_sizeof(context.get_data_type(array_type.dtype))
    strides = [intp(itemsize)]
    for size in reversed(sizes[1:]):
        strides.insert(0, builder.mul(strides[0], size))
    n_bytes = builder.mul(strides[0], sizes[0])

    meminfo = context.nrt.meminfo_alloc_aligned(builder, n_bytes, _ALIGN)
    with builder.if_then(cgutils.is_null(builder, meminfo), likely=False):
        context.call_conv.return_user_exc(builder, MemoryError,
                                          ("could not allocate a kernel's work array",))
    data = context.nrt.meminfo_data(builder, meminfo)
    if fill_zeros:
        cgutils.memset(builder, data, n_bytes, 0)

    from numba.np.arrayobj import populate_array  # at compile time only

    array = context.make_array(array_type)(context, builder)
    data_pointer = context.get_data_type(array_type.dtype).as_pointer()
    populate_array(array, data=builder.bitcast(data, data_pointer), shape=sizes,
                   strides=strides, itemsize=intp(itemsize), meminfo=meminfo)
    return array._getvalue()  # a new reference, as np.empty's


def _typed_allocation(shape, dtype, fill_zeros):
    """An intrinsic's typing result: its signature and code, or None."""
    array_type = _array_type(shape, dtype)
    if array_type is None:
        return None

    def codegen(context, builder, signature, args):
        return _allocate(context, builder, signature, args, fill_zeros)
    return array_type(shape, dtype), codegen


@intrinsic
def empty(typingctx, shape, dtype):
    """``np.empty(shape, dtype)`` (see the module docstring)."""
    return _typed_allocation(shape, dtype, fill_zeros=False)


@intrinsic
def zeros(typingctx, shape, dtype):
    """``np.zeros(shape, dtype)`` (see the module docstring)."""
    return _typed_allocation(shape, dtype, fill_zeros=True)
