"""Numba kernels: arrays and numbers in, no estimator objects."""
