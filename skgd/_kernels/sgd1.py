"""Plain SGD with one row per update: the fused, weight-scaled fast path.

For ``solver="sgd", batch_size=1`` without L1 and without averaging, each row
costs one pass over its entries to predict and one to update, as in
scikit-learn's ``_plain_sgd``: the L2 decay ``w <- (1 - lr l2) w`` of every
coefficient is folded into one scalar, ``w = scale * v``, so it costs O(1)
per row instead of O(d), on dense and CSR input alike. Mathematically the
same iterates as the general kernels (to rounding). Several outputs (the
multinomial classes, or a group of independent ones) share each row's read:
see :func:`_outputs_epoch`.
"""

import numpy as np

from ._config import NJIT
from ._jit import njit  # numba.njit, its cache loading leaner
from .alloc import empty, zeros
from .epoch import step_size
from .losses import row_loss, scalar_loss
from .prefetch import prefetch_csr_row, prefetch_dense_row

# fold the scale back into the coefficients before it underflows
_MIN_SCALE = 1e-9


def _run_epoch_sgd1(X, data, indices, indptr, sparse, Y, sw, order, theta,
                    counters, d, k, fit_intercept, loss_code, loss_param, l2,
                    schedule, eta0, power_t, optimal_init, alpha, mean_sw,
                    loss_limit):
    """One epoch; arguments as :func:`skgd._kernels.epoch._run_epoch`.
    Returns ``sum_r sw[r] * loss_r``, or ``inf`` on divergence."""
    if k == 1:
        return _one_output_epoch(X, data, indices, indptr, sparse, Y, sw, order, theta,
                                 counters, d, fit_intercept, loss_code, loss_param, l2,
                                 schedule, eta0, power_t, optimal_init, alpha, mean_sw,
                                 loss_limit)
    # the multinomial loss couples the outputs: one loss, one limit
    totals = zeros(1, np.float64)
    limits = empty(1, np.float64)
    limits[0] = loss_limit
    if not _outputs_epoch(X, data, indices, indptr, sparse, Y, sw, order, theta,
                          counters, d, k, fit_intercept, loss_code, loss_param, l2,
                          schedule, eta0, power_t, optimal_init, alpha, mean_sw, True,
                          limits, totals):
        return np.inf  # the caller discards theta
    return totals[0]


@njit(**NJIT)
def _one_output_epoch(X, data, indices, indptr, sparse, Y, sw, order, theta, counters,
                      d, fit_intercept, loss_code, loss_param, l2, schedule, eta0,
                      power_t, optimal_init, alpha, mean_sw, loss_limit):
    """The epoch for a single output (binary, one-vs-rest, one target): the
    same iterates as the loop over outputs above, with the decision value and
    its derivative kept in registers rather than (k,) arrays, which measured
    ~20% faster on dense 200,000 x 100 (0.036 -> 0.028 s an epoch)."""
    n = order.shape[0]
    inv_mean_sw = 1.0 / mean_sw
    scale = 1.0
    total = 0.0
    t = counters[0]
    for pos in range(n):
        if sparse:
            prefetch_csr_row(data, indices, indptr, Y, sw, order, pos)
        else:
            prefetch_dense_row(X, Y, sw, order, pos)
        r = order[pos]
        t += 1
        acc = 0.0
        if sparse:
            for jj in range(indptr[r], indptr[r + 1]):
                acc += data[jj] * theta[indices[jj]]
        else:
            for j in range(d):
                acc += X[r, j] * theta[j]
        value, derivative = scalar_loss(loss_code, scale * acc + theta[d], Y[r, 0],
                                        loss_param)
        loss = sw[r] * value
        if not (loss * inv_mean_sw <= loss_limit and loss < np.inf):
            return np.inf  # the caller discards theta
        total += loss
        lr = step_size(schedule, eta0, power_t, optimal_init, alpha, t)
        decay = 1.0 - lr * l2
        if not decay > 0.0:  # a step that flips the weights' sign: diverging
            return np.inf
        scale *= decay
        g = derivative * (sw[r] * inv_mean_sw)
        if g != 0.0:
            step = lr * g / scale
            if sparse:
                for jj in range(indptr[r], indptr[r + 1]):
                    theta[indices[jj]] -= step * data[jj]
            else:
                for j in range(d):
                    theta[j] -= step * X[r, j]
            if fit_intercept:
                theta[d] -= lr * g
        if scale < _MIN_SCALE:
            _fold_scale(theta, scale, d, 1)
            scale = 1.0
    _fold_scale(theta, scale, d, 1)
    counters[0] = t
    counters[1] += n
    return total


@njit(**NJIT)
def _outputs_epoch(X, data, indices, indptr, sparse, Y, sw, order, theta, counters, d,
                   k, fit_intercept, loss_code, loss_param, l2, schedule, eta0, power_t,
                   optimal_init, alpha, mean_sw, coupled, limits, totals):
    """One epoch of ``k`` outputs in one pass over the rows: each row is read
    once for all of them, not once per output, which is what bounds this
    loop (one-vs-rest on 4 classes, dense 200,000 x 100: 0.125 -> 0.050 s an
    epoch on one thread against a call per class). The weight scale is
    shared because every output takes the same step sizes.

    ``coupled`` (the multinomial loss): one loss of the row, checked against
    ``limits[0]`` and summed into ``totals[0]``. Otherwise the outputs are
    independent (one-vs-rest classes, columns of a 2-D target): output ``c``
    makes the steps its own run would make, its loss is checked against its
    own blow-up limit ``limits[c]`` and summed into ``totals[c]`` (float64,
    zeroed by the caller). Returns False on divergence (``theta`` is then to
    be discarded and ``counters`` are left as they were), True otherwise."""
    n = order.shape[0]
    # float64, as _one_output_epoch's scalars, also for float32 data
    p = zeros(k, np.float64)
    dloss = zeros(k, np.float64)
    inv_mean_sw = 1.0 / mean_sw
    scale = 1.0
    t = counters[0]
    for pos in range(n):
        if sparse:
            prefetch_csr_row(data, indices, indptr, Y, sw, order, pos)
        else:
            prefetch_dense_row(X, Y, sw, order, pos)
        r = order[pos]
        t += 1
        for c in range(k):
            base = c * (d + 1)
            # written out rather than shared: an inlined row-dot helper with
            # a sparse/dense branch measured ~35% slower here (dense
            # batch_size=1: 0.61 -> 0.85 of SGDClassifier's epoch time),
            # and two branch-free helpers (csr_row_dot, dense_row_dot, the
            # kernel choosing) still cost 8% on CSR and 3% dense in the
            # one-output epoch (measured at a57cd2d, benchmarks/README.md)
            acc = 0.0
            if sparse:
                for jj in range(indptr[r], indptr[r + 1]):
                    acc += data[jj] * theta[np.uint64(base) + indices[jj]]
            else:
                for j in range(d):
                    acc += X[r, j] * theta[base + j]
            p[c] = scale * acc + theta[base + d]
        if coupled:
            loss = sw[r] * row_loss(loss_code, p, Y[r], loss_param, dloss)
            if not (loss * inv_mean_sw <= limits[0] and loss < np.inf):
                return False
            totals[0] += loss
        else:
            for c in range(k):
                value, derivative = scalar_loss(loss_code, p[c], Y[r, c], loss_param)
                dloss[c] = derivative
                loss = sw[r] * value
                if not (loss * inv_mean_sw <= limits[c] and loss < np.inf):
                    return False
                totals[c] += loss
        lr = step_size(schedule, eta0, power_t, optimal_init, alpha, t)
        decay = 1.0 - lr * l2
        if not decay > 0.0:  # a step that flips the weights' sign: diverging
            return False
        scale *= decay
        for c in range(k):
            g = dloss[c] * (sw[r] * inv_mean_sw)
            if g == 0.0:
                continue
            base = c * (d + 1)
            step = lr * g / scale
            if sparse:
                for jj in range(indptr[r], indptr[r + 1]):
                    theta[np.uint64(base) + indices[jj]] -= step * data[jj]
            else:
                for j in range(d):
                    theta[base + j] -= step * X[r, j]
            if fit_intercept:
                theta[base + d] -= lr * g
        if scale < _MIN_SCALE:
            _fold_scale(theta, scale, d, k)
            scale = 1.0
    _fold_scale(theta, scale, d, k)
    counters[0] = t
    counters[1] += n
    return True


@njit(**NJIT)
def _fold_scale(theta, scale, d, k):
    for c in range(k):
        base = c * (d + 1)
        for j in range(d):
            theta[base + j] *= scale


def _run_epoch_sgd1_independent(X, data, indices, indptr, sparse, Y, sw, order, theta,
                                counters, d, k, fit_intercept, loss_code, loss_param,
                                l2, schedule, eta0, power_t, optimal_init, alpha,
                                mean_sw, limits, totals):
    """One epoch of ``k`` independent outputs in one pass over the rows
    (:func:`_outputs_epoch`); ``totals[c]`` receives output ``c``'s
    ``sum_r sw[r] * loss_r``. Returns False on divergence.

    Every group of outputs, of any size, runs this same loop, so the model
    does not depend on how the outputs are grouped over threads; it agrees
    with :func:`_one_output_epoch` run per output to rounding (LLVM may
    order a few operations differently in the two loops)."""
    return _outputs_epoch(X, data, indices, indptr, sparse, Y, sw, order, theta,
                          counters, d, k, fit_intercept, loss_code, loss_param, l2,
                          schedule, eta0, power_t, optimal_init, alpha, mean_sw, False,
                          limits, totals)


run_epoch_sgd1 = njit(**NJIT)(_run_epoch_sgd1)
run_epoch_sgd1_independent = njit(**NJIT)(_run_epoch_sgd1_independent)
