"""One pass over the data in mini-batches: the hot loop of fit / partial_fit.

Parameters are one flat vector ``theta`` of ``k * (d + 1)`` values: output
``c`` owns ``theta[c * (d + 1) : c * (d + 1) + d]`` (its coefficients) and
``theta[c * (d + 1) + d]`` (its intercept). Solver state is an
``(k * (d + 1), n_slots)`` array aligned with ``theta``.

X arrives either dense (``X``, C-contiguous ``(n, d)``) or as CSR arrays
(``data``, ``indices``, ``indptr``), with a placeholder for the other form, so
each kernel has one specialisation per float dtype.
"""

import numpy as np

from ._config import NJIT, NJIT_INLINE
from ._jit import njit  # numba.njit, its cache loading leaner
from .alloc import empty, zeros
from .losses import MULTINOMIAL, row_loss, scalar_loss
from .prefetch import prefetch_csr_row, prefetch_dense_row
from .updates import apply_step

# learning-rate formulas evaluated per update (per-epoch schedules such as
# "adaptive" and "exponential" change eta0 between epochs, in Python)
CONSTANT, OPTIMAL, INVSCALING = 0, 1, 2


@njit(**NJIT_INLINE)
def step_size(schedule, eta0, power_t, optimal_init, alpha, t):
    """Learning rate of update ``t`` (1-based), as in scikit-learn's SGD."""
    if schedule == OPTIMAL:
        return 1.0 / (alpha * (optimal_init + t - 1.0))
    if schedule == INVSCALING:
        return eta0 / float(t) ** power_t
    return eta0


@njit(**NJIT_INLINE)
def _one_output_gradient(X, data, indices, indptr, sparse, Y, sw, order, start, stop,
                         theta, d, loss_code, loss_param, inv_norm, grad, dloss):
    """:func:`batch_gradient` for a single output (binary, one target) and
    rows in order (no prefetch): the same arithmetic, with the decision value
    in a register and no loops over outputs. The full batch's gradient takes
    it: on dense 1,000,000 x 100 float32 the general loop took 33 ns a row
    whatever the row's length, so float32 gained little on float64 (epoch
    0.033-0.034 -> 0.027-0.029 s). The mini-batch kernel keeps the general
    loop: there this one gained 8% and added 10 s to the kernel's first
    compilation (22 -> 32 s)."""
    total = 0.0
    for pos in range(start, stop):
        r = order[pos]
        # written out, as in sgd1.py: a shared inlined row-dot helper
        # (scalar in, scalar out) made batch_size=1 SGD ~20% slower there
        # (CSR in storage order 0.030 -> 0.037 s an epoch, dense 0.023 ->
        # 0.027 s); two branch-free helpers, the kernel choosing between
        # them, still cost 3-8% there (measured at a57cd2d)
        acc = theta[d]
        if sparse:
            for jj in range(indptr[r], indptr[r + 1]):
                acc += data[jj] * theta[indices[jj]]
        else:
            for j in range(d):
                acc += X[r, j] * theta[j]
        value, derivative = scalar_loss(loss_code, acc, Y[r, 0], loss_param)
        total += sw[r] * float(value)
        # through dloss, as in the general loop: g in theta's dtype
        dloss[0] = derivative
        dloss[0] *= sw[r] * inv_norm
        g = dloss[0]
        if g == 0.0:
            continue
        if sparse:
            for jj in range(indptr[r], indptr[r + 1]):
                grad[indices[jj]] += g * data[jj]
        else:
            for j in range(d):
                grad[j] += g * X[r, j]
        grad[d] += g
    return total


@njit(**NJIT_INLINE)
def batch_gradient(X, data, indices, indptr, sparse, Y, sw, order, start, stop,
                   theta, d, loss_code, loss_param, inv_norm, grad, p, dloss, shuffled):
    """Gradient of the weighted mean loss over rows ``order[start:stop]``.

    Adds ``sum_r sw[r] * dloss_r * [x_r, 1] * inv_norm`` to ``grad`` (zero on
    entry: the update pass clears it); returns the unnormalised weighted loss
    ``sum_r sw[r] * loss_r``. ``shuffled``: the rows come in random order, so
    prefetch them (in order, the hardware prefetcher does better alone).
    """
    total = 0.0
    for pos in range(start, stop):
        # one helper a branch: see prefetch.py on branches in inlined helpers
        if shuffled and sparse:
            prefetch_csr_row(data, indices, indptr, Y, sw, order, pos)
        elif shuffled:
            prefetch_dense_row(X, Y, sw, order, pos)
        r = order[pos]
        for c in range(p.shape[0]):
            base = c * (d + 1)
            acc = theta[base + d]
            if sparse:
                for jj in range(indptr[r], indptr[r + 1]):
                    acc += data[jj] * theta[np.uint64(base) + indices[jj]]
            else:
                for j in range(d):
                    acc += X[r, j] * theta[base + j]
            p[c] = acc
        total += sw[r] * row_loss(loss_code, p, Y[r], loss_param, dloss)
        weight = sw[r] * inv_norm
        for c in range(p.shape[0]):
            dloss[c] *= weight  # g stays in theta's dtype (float32 stays float32)
            g = dloss[c]
            if g == 0.0:
                continue
            base = c * (d + 1)
            if sparse:
                for jj in range(indptr[r], indptr[r + 1]):
                    grad[np.uint64(base) + indices[jj]] += g * data[jj]
            else:
                for j in range(d):
                    grad[base + j] += g * X[r, j]
            grad[base + d] += g
    return total


@njit(**NJIT_INLINE)
def trainable_columns(frozen, d):
    """Indices of the columns that train, all ``d`` unless ``frozen`` (a
    bool (d,) mask, or empty) marks some, and how many: ``(columns, n)``,
    ``columns`` with one spare entry past ``n`` (for
    :func:`~skgd._kernels.updates.apply_step`'s intercepts)."""
    if frozen.shape[0] == 0:
        columns = empty(d + 1, np.int64)
        for j in range(d + 1):
            columns[j] = j
        return columns, d
    n = 0
    for j in range(d):
        n += not frozen[j]
    columns = empty(n + 1, np.int64)
    n = 0
    for j in range(d):
        if not frozen[j]:
            columns[n] = j
            n += 1
    return columns, n


@njit(**NJIT_INLINE)
def clear_frozen(grad, frozen, d, k):
    for c in range(k):
        for j in range(d):
            if frozen[j]:
                grad[c * (d + 1) + j] = 0.0


@njit(**NJIT_INLINE)
def begin_step(counters, rows, schedule, eta0, power_t, optimal_init, alpha):
    """Count the step and its ``rows``; returns the step ``t`` and its
    rate. A batch's update is ``begin_step``, the rule's
    :func:`~skgd._kernels.updates.apply_step`, then :func:`end_step`,
    written out at each of the two kernels' call sites: a wrapper inlining
    ``apply_step`` would copy its IR once more (1.4-1.7 s of a kernel's
    compile time, see benchmarks/README.md)."""
    t = counters[0] + 1
    counters[0] = t
    counters[1] += rows
    return t, step_size(schedule, eta0, power_t, optimal_init, alpha, t)


@njit(**NJIT_INLINE)
def end_step(theta, grad, avg, counters, n_columns, d, k, average_start, frozen):
    """After the rule's update: clear the frozen columns' gradients (never
    applied), and take the step into the running average (ASGD)."""
    if n_columns < d:
        clear_frozen(grad, frozen, d, k)
    if avg.shape[0] > 0 and counters[1] >= average_start:
        counters[2] += 1
        inv = 1.0 / counters[2]
        for i in range(theta.shape[0]):
            avg[i] += (theta[i] - avg[i]) * inv


def _run_epoch(update, X, data, indices, indptr, sparse, Y, sw, order,
               batch_size, theta, state, avg, counters, d, k, fit_intercept,
               loss_code, loss_param, l2, l1, solver_code, hyper,
               schedule, eta0, power_t, optimal_init, alpha, average_start,
               mean_sw, loss_limit, theta0, frozen):
    """One epoch of mini-batch updates; returns ``sum_r sw[r] * loss_r``.

    update : None for the built-in solvers (dispatched by ``solver_code``),
        else the user's jitted per-coordinate update.
    counters : int64 (3,) [updates t, samples seen, averaged updates],
        updated in place so the schedule and averaging resume across calls.
    avg : averaged parameters (ASGD), or an empty array when not averaging.
    theta0 : the penalty's centre (L2-SP), laid out as ``theta``, or empty
        for the usual penalty toward zero.
    frozen : bool (d,) mask of feature columns never updated (bit for bit),
        or empty when every column trains; a frozen intercept is
        ``fit_intercept=False`` here.

    Returns early with ``inf`` as soon as a batch's weighted mean loss is
    not finite or exceeds ``loss_limit`` (divergence); the caller then
    discards ``theta`` and ``state``.
    """
    n = order.shape[0]
    grad = zeros(theta.shape[0], theta.dtype)
    p = zeros(k, theta.dtype)
    dloss = zeros(k, theta.dtype)
    columns, n_columns = trainable_columns(frozen, d)
    # stochastic batches take the cumulative L1 penalty (see apply_step)
    cumulative = l1 > 0.0 and batch_size < n
    total = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        inv_norm = 1.0 / (mean_sw * (stop - start))
        batch_loss = batch_gradient(X, data, indices, indptr, sparse, Y, sw, order,
                                    start, stop, theta, d, loss_code, loss_param,
                                    inv_norm, grad, p, dloss, True)
        # batch_loss * inv_norm is the batch's (weight-normalised) mean loss;
        # the comparisons are false for NaN, and the second one for inf
        mean_loss = batch_loss * inv_norm
        if not (mean_loss <= loss_limit and mean_loss < np.inf):
            return np.inf
        total += batch_loss
        t, lr = begin_step(counters, stop - start, schedule, eta0, power_t,
                           optimal_init, alpha)
        apply_step(solver_code, update, theta, grad, state, columns, n_columns, k, d,
                   hyper, t, lr, l2, l1, theta0, fit_intercept, cumulative)
        end_step(theta, grad, avg, counters, n_columns, d, k, average_start, frozen)
    return total


run_epoch = njit(**NJIT)(_run_epoch)
# a user's solver is a function argument: a new type for Numba, so this twin
# is compiled once per process and never written to the on-disk cache
run_epoch_custom = njit(**dict(NJIT, cache=False))(_run_epoch)


# ---- full batch: the gradient in row chunks (threads), then one step -------

@njit(**NJIT)
def rows_gradient(X, data, indices, indptr, sparse, Y, sw, order, start, stop, theta,
                  d, loss_code, loss_param, inv_norm, grad):
    """Gradient of rows ``order[start:stop]`` added to ``grad``, as
    :func:`batch_gradient`; runs without the GIL, so chunks of one batch can
    be computed on several threads into separate buffers. The full batch
    reads its rows in order, so nothing is prefetched."""
    k = Y.shape[1]
    dloss = zeros(k, theta.dtype)
    if k == 1 and loss_code != MULTINOMIAL:
        return _one_output_gradient(X, data, indices, indptr, sparse, Y, sw, order,
                                    start, stop, theta, d, loss_code, loss_param,
                                    inv_norm, grad, dloss)
    p = zeros(k, theta.dtype)
    return batch_gradient(X, data, indices, indptr, sparse, Y, sw, order, start, stop,
                          theta, d, loss_code, loss_param, inv_norm, grad, p, dloss,
                          False)


def _full_batch_step(update, theta, grad, state, avg, counters, d, k, fit_intercept,
                     l2, l1, solver_code, hyper, schedule, eta0, power_t, optimal_init,
                     alpha, average_start, rows, theta0, frozen):
    """The update of a batch whose gradient :func:`rows_gradient` computed."""
    columns, n_columns = trainable_columns(frozen, d)
    t, lr = begin_step(counters, rows, schedule, eta0, power_t, optimal_init, alpha)
    apply_step(solver_code, update, theta, grad, state, columns, n_columns, k, d, hyper,
               t, lr, l2, l1, theta0, fit_intercept, False)
    end_step(theta, grad, avg, counters, n_columns, d, k, average_start, frozen)


full_batch_step = njit(**NJIT)(_full_batch_step)
full_batch_step_custom = njit(**dict(NJIT, cache=False))(_full_batch_step)



@njit(**NJIT)
def zero_model_loss(Y, sw, loss_code, loss_param):
    """Weighted mean loss of the model that predicts 0 for every output.

    A row's loss then depends on its targets alone: with one output, the
    losses of the last two distinct targets are reused, so binary labels
    take two evaluations of the loss rather than one a row (200,000 rows,
    log loss: 2.7 -> 0.3 ms; ``EpochRunner`` computes it once a call)."""
    k = Y.shape[1]
    p = zeros(k, np.float64)
    dloss = zeros(k, np.float64)
    total = 0.0
    weight = 0.0
    # NaN: equal to no target
    y_last, loss_last, y_before, loss_before = np.nan, 0.0, np.nan, 0.0
    for r in range(Y.shape[0]):
        y = Y[r, 0]
        if k == 1 and y == y_last:
            loss = loss_last
        elif k == 1 and y == y_before:
            loss = loss_before
        else:
            loss = row_loss(loss_code, p, Y[r], loss_param, dloss)
            y_before, loss_before = y_last, loss_last
            y_last, loss_last = y, loss
        total += sw[r] * loss
        weight += sw[r]
    return total / weight
