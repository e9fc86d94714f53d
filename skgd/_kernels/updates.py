"""Integer-code dispatch to the built-in update rules.

Built-in solvers are reached through ``update_list(code, None, ...)`` rather
than by passing their function to the epoch kernel: a cached kernel that receives
a jitted function as an argument recompiles in every new process, while an
integer code keeps the kernel loadable from Numba's on-disk cache.
"""

from numba import njit

import numpy as np

from ..solvers._adagrad import adagrad_skip, adagrad_update
from ..solvers._adam import adam_bias, adam_skip, adam_skip_table, adam_update
from ..solvers._momentum import momentum_skip, momentum_skip_table, momentum_update
from ..solvers._rmsprop import rmsprop_skip, rmsprop_skip_table, rmsprop_update
from ..solvers._sgd import sgd_update
from ._config import NJIT_INLINE
from .prefetch import prefetch

SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM = 0, 1, 2, 3, 4

# values a row of the skip table holds (Adam's three powers, the most)
SKIP_TABLE_WIDTH = 3

# catch_up requests the weight and state of the column this many places
# ahead in its list: the columns are scattered, so each is a cache miss
# (mini-batch 32 Adam on CSR 50,000 x 2**18: 0.34 -> 0.20 s an epoch; 4 and
# 16 did no better)
CATCH_UP_AHEAD = 8


@njit(**NJIT_INLINE)
def _soft(w, threshold):
    if w > threshold:
        return w - threshold
    if w < -threshold:
        return w + threshold
    return 0.0


@njit(**NJIT_INLINE)
def _reference(theta0, i):
    # the point the penalty pulls towards: 0, or the L2-SP reference
    # (``theta0`` is empty when there is none; one specialisation either way)
    return theta0[i] if theta0.shape[0] > 0 else 0.0


@njit(**NJIT_INLINE)
def _finish(theta, grad, i, scale, lr, l1, w0):
    # the L1 proximal step toward w0 (soft-thresholding of w - w0, scaled
    # like the update), then clear the gradient slot for the next batch;
    # with w0 = 0 this is bit for bit the plain step (w - 0 == w, 0 + v == v)
    grad[i] = 0.0
    if l1 > 0.0:
        theta[i] = w0 + _soft(theta[i] - w0, lr * scale * l1)


@njit(**NJIT_INLINE)
def update_list(code, update, theta, grad, state, columns, k, stride, n_columns,
                hyper, t, lr, l2, l1, theta0):
    """Update coordinates ``c * stride + columns[q]`` (``q < n_columns``, each
    output ``c < k``) from ``grad``, which is then zeroed there.

    The L2 term ``l2 * (theta - theta0)`` is added to the gradient (as
    PyTorch's ``weight_decay``), the rule is applied, then the L1 proximal
    step toward ``theta0``; ``theta0`` is the L2-SP reference (same layout as
    ``theta``), or empty for the usual pull toward zero.
    ``update`` is None for built-in rules, chosen by ``code`` once per call,
    outside the loops: each loop is then branch-free, and what depends only
    on ``t`` (Adam's bias corrections) is computed once per call. The dense
    kernel passes every column, the sparse one those a batch touched.
    """
    if update is not None:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += l2 * (theta[i] - w0)
                _finish(theta, grad, i, update(theta, grad, state, i, hyper, t, lr), lr, l1, w0)
    elif code == SGD:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += l2 * (theta[i] - w0)
                _finish(theta, grad, i, sgd_update(theta, grad, state, i, hyper, t, lr),
                        lr, l1, w0)
    elif code == ADAM:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += l2 * (theta[i] - w0)
                _finish(theta, grad, i, adam_update(theta, grad, state, i, hyper, t, lr),
                        lr, l1, w0)
    elif code == MOMENTUM:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += l2 * (theta[i] - w0)
                _finish(theta, grad, i,
                        momentum_update(theta, grad, state, i, hyper, t, lr), lr, l1, w0)
    elif code == ADAGRAD:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += l2 * (theta[i] - w0)
                _finish(theta, grad, i,
                        adagrad_update(theta, grad, state, i, hyper, t, lr), lr, l1, w0)
    else:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += l2 * (theta[i] - w0)
                _finish(theta, grad, i,
                        rmsprop_update(theta, grad, state, i, hyper, t, lr), lr, l1, w0)


@njit(**NJIT_INLINE)
def apply_step(code, update, theta, grad, state, columns, n_columns, intercept, k, d,
               hyper, t, lr, l2, l1, theta0, fit_intercept):
    """One update of a batch: the coefficients of ``columns[:n_columns]``
    (penalised), then the intercepts (never penalised); every intercept
    gradient is cleared, also when the intercepts are not fitted."""
    update_list(code, update, theta, grad, state, columns, k, d + 1, n_columns,
                hyper, t, lr, l2, l1, theta0)
    if fit_intercept:
        update_list(code, update, theta, grad, state, intercept, k, d + 1, 1, hyper, t,
                    lr, 0.0, 0.0, theta0)
    for c in range(k):
        grad[c * (d + 1) + d] = 0.0


@njit(**NJIT_INLINE)
def slots_read(code, hyper, n_slots):
    """How many of its ``n_slots`` state slots rule ``code`` reads and
    writes: Adam's third (the AMSGrad maximum) only with ``amsgrad``."""
    if code == ADAM and hyper[3] == 0.0:
        return 2
    return n_slots


@njit(**NJIT_INLINE)
def skip_table_row(code, hyper, table, k):
    """Fill row ``k`` of ``table`` (``(n_steps + 1, SKIP_TABLE_WIDTH)``)
    with the powers ``catch_up`` reads for ``k`` skipped steps of rule
    ``code``: one row per step of the epoch, rather than the same powers
    recomputed for every column caught up."""
    if code == ADAM:
        adam_skip_table(hyper, table, k)
    elif code == MOMENTUM:
        momentum_skip_table(hyper, table, k)
    elif code == RMSPROP:
        rmsprop_skip_table(hyper, table, k)


@njit(**NJIT_INLINE)
def catch_up(code, theta, state, columns, since, n_columns, k, stride, e, hyper, t,
             table, lam, log_g, h, l2, l1, theta0):
    """Bring coordinates ``c * stride + columns[q]`` (``q < n_columns``,
    each output ``c < k``) from local step ``since[q]`` to ``e`` (nothing
    where ``since[q] == e``), over steps in which their column had no
    non-zero: the lazy update of sparse data.

    The prefix arrays over the epoch's steps hold ``lam[u] = sum lr``,
    ``log_g[u] = sum log(1 - lr * l2)`` and ``h[u] = sum lr * l1 / G`` with
    ``G = exp(log_g)``. Plain SGD is exact: each skipped step maps
    ``w -> soft((1 - lr l2) w, lr l1)``, and ``n`` of them compose to
    ``(G_e / G_s) soft(w, G_s (h_e - h_s))``. Other rules move by their
    ``*_skip`` function (exact without penalty but for Adam's drift), which
    reads the powers for ``n`` skipped steps from row ``n`` of ``table``
    (:func:`skip_table_row`); their L2 / L1 terms are applied as decoupled
    shrinkage with the rule's current step multiplier (an approximation). A
    user's rule (``code < 0``) keeps its weight and state, with the same
    shrinkage at multiplier 1. With an L2-SP reference ``theta0`` all of
    this applies to ``theta - theta0`` (the penalty's centre moves, its form
    does not).

    One call catches up a whole list (a batch's columns, or a block of a
    flush): what depends on ``t`` only (Adam's bias corrections) is computed
    once a call, and the weight and state of the column ``CATCH_UP_AHEAD``
    places ahead are requested while one is worked on.
    """
    bias_1, sqrt_bias_2 = adam_bias(hyper, t) if code == ADAM else (1.0, 1.0)
    for c in range(k):
        for q in range(n_columns):
            if q + CATCH_UP_AHEAD < n_columns:
                ahead = c * stride + columns[q + CATCH_UP_AHEAD]
                prefetch(theta, ahead)
                prefetch(state, ahead)
            s = since[q]
            if s >= e:
                continue
            i = c * stride + columns[q]
            w0 = _reference(theta0, i)
            if code == SGD:
                # a weight at its penalty's centre stays there: no exp to take
                # (most weights of a wide hashed model, at every flush)
                if theta[i] == w0:
                    continue
                if l1 > 0.0:
                    threshold = np.exp(log_g[s]) * (h[e] - h[s])
                    theta[i] = w0 + _soft(theta[i] - w0, threshold)
                if l2 > 0.0:
                    theta[i] = w0 + (theta[i] - w0) * np.exp(log_g[e] - log_g[s])
                continue
            n = e - s
            dlam = lam[e] - lam[s]
            lr = dlam / n
            if code == ADAM:
                scale = adam_skip(theta, state, i, hyper, table, n, lr, bias_1,
                                  sqrt_bias_2)
            elif code == MOMENTUM:
                scale = momentum_skip(theta, state, i, hyper, table, n, lr)
            elif code == ADAGRAD:
                scale = adagrad_skip(theta, state, i, hyper, table, n, lr)
            elif code == RMSPROP:
                scale = rmsprop_skip(theta, state, i, hyper, table, n, lr)
            else:
                scale = 1.0
            if l1 > 0.0:
                theta[i] = w0 + _soft(theta[i] - w0, l1 * scale * dlam)
            if l2 > 0.0 and theta[i] != w0:
                theta[i] = w0 + (theta[i] - w0) * np.exp(-l2 * scale * dlam)
