"""Numba kernels: arrays and numbers in, no estimator objects."""

from ._cache import invalidate_stale_cache

invalidate_stale_cache()
