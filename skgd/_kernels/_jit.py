"""``njit`` for skgd's kernels: Numba's, with a leaner load from the cache.

Before it loads a cached function, Numba refreshes its target context
(``FunctionCache.load_overload`` calls ``target_context.refresh()``), which
imports ~90 of its modules (strings, hashing, random numbers, typed
containers, ...) and fills its typing and lowering registries. Compiling
needs those registries; loading machine code that is already compiled needs
only Numba's runtime (NRT) symbols, which every other part of the load
(LLVM's engine, the C helpers, the math functions) sets up without the
refresh. Measured with numba 0.68 on a fresh process with a warm cache: the
first fit of a tiny model took 0.21-0.24 s with the refresh and 0.10-0.14 s
without, and Python's exit, whose garbage collections walk every object
the refresh creates (~49,000), was shorter too
(``benchmarks/bench_cold_start.py``).

Only loading changes. A kernel that compiles (a cache miss, a new signature,
a custom rule) goes through Numba's compiler, which refreshes the registries
itself, and a user's own Numba functions keep Numba's own cache. Numba
versions after the last one tested keep Numba's loading: a future Numba
whose cached code needed more than the runtime would otherwise fail at the
link, which no ``except`` could catch.
"""

import numba
from numba.core.caching import FunctionCache
from numba.core.runtime import nrt

# the newest Numba minor version whose cache loading this was checked with
# (``FunctionCache.load_overload`` reads the same in 0.59, the oldest skgd
# supports, where tests/test_kernel_cache.py passes too)
_NEWEST_CHECKED = (0, 68)


def _numba_version():
    return tuple(int(part) for part in numba.__version__.split(".")[:2])


LOADS_WITHOUT_REFRESH = _numba_version() <= _NEWEST_CHECKED


class _CacheLoadedWithoutRefresh(FunctionCache):
    """Numba's per-function disk cache, loading without the registry refresh."""

    def load_overload(self, sig, target_context):
        # what cached machine code links against beyond the helpers Numba
        # installs when it creates the context: its runtime's functions
        nrt.rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)


def njit(**options):
    """``numba.njit(**options)``; with ``cache=True`` its cached overloads
    load without refreshing Numba's registries (see the module docstring)."""
    options = dict(options)
    cache = options.pop("cache", False)

    def decorate(func):
        dispatcher = numba.njit(**options)(func)
        if cache and LOADS_WITHOUT_REFRESH:
            # what numba.njit(cache=True) does (Dispatcher.enable_caching),
            # with the subclass: one cache object, its locator found once
            dispatcher._cache = _CacheLoadedWithoutRefresh(dispatcher.py_func)
        elif cache:
            dispatcher.enable_caching()
        return dispatcher
    return decorate
