"""The epoch over CSR data with lazy updates: cost per batch ~ its non-zeros.

A coordinate whose column has no non-zero in a mini-batch gets no data
gradient at that step, only its penalty (and, for momentum-like rules, the
motion stored in its state). Rather than touching all ``d`` columns at every
step, each column records the step it is current to (``last``) and is brought
up to date by :func:`~skgd._kernels.updates.catch_up` before a batch reads it
(Adam, the default rule, as the batch's marking pass meets it, together
with the column's own update, deferred to then: :func:`_adam_in_place`);
all columns are flushed at the end of the epoch. See ``catch_up`` for
which rules this keeps exact. The columns a batch touches are scattered, so
an epoch over many rows works on one record per coordinate (weight,
gradient, state) rather than on three arrays: see ``_work_arrays``.
"""

import numpy as np

from ..solvers._adam import (
    adam_bias,
    adam_shrink_constants,
    adam_skip_shrink,
    adam_step_skip_shrink,
)
from ._config import NJIT, NJIT_INLINE
from ._jit import njit  # numba.njit, its cache loading leaner
from .alloc import empty, zeros
from .epoch import step_size
from .losses import row_loss
from .prefetch import prefetch_csr_row, prefetch_to_l2
from .updates import (
    _INV_STEPS,
    ADAM,
    SKIP_TABLE_WIDTH,
    _at_rest,
    apply_step,
    catch_up,
    skip_table_row,
)

# rebase the prefix products once they shrink below exp(-50), long before
# h = sum(lr * l1 / G) could overflow
_MIN_G = np.exp(-50.0)

# columns a flush catches up per catch_up call: enough to amortise the call
_FLUSH_BLOCK = 4096

# the steps an epoch may have: ``last`` holds step numbers as int32
_MAX_STEPS = 2**31 - 1

# rows ahead whose weights (or records) and step marks the marking of a
# batch's columns requests, into L2: the row's index lines were requested
# into L2 FAR_DISTANCE - _RECORD_DISTANCE rows earlier (prefetch_csr_row),
# so reading them hits. CSR 200,000 x 2**18, mini-batch 32, s an epoch,
# alternated runs: into L1 2 rows ahead (before), Adam 0.282-0.288, momentum
# 0.235-0.243, SGD 0.171-0.173; into L2 4 rows ahead, 0.259-0.260,
# 0.215-0.217, 0.157-0.162. Into L2 6 rows ahead: as 4; 8 ahead (the
# indices not there yet): 0.287-0.290 (Adam); into L1 4 ahead, or both
# stages (L2 5 ahead, L1 2 ahead): 0.28-0.30
_RECORD_DISTANCE = 4


@njit(**NJIT_INLINE)
def _flush(code, theta, state, last, frozen, columns, since, k, d, e, hyper, t, table,
           lam, G, h, l2, l1, theta0, cumulative):
    """Catch every column but the frozen ones up to step ``e``, a block of
    ``columns.shape[0]`` at a time (``columns`` and ``since`` are scratch)."""
    has_frozen = frozen.shape[0] > 0
    block = max(columns.shape[0], 1)
    for first in range(0, d, block):
        n = 0
        for j in range(first, min(first + block, d)):
            if last[j] < e and not (has_frozen and frozen[j]):
                columns[n] = j
                since[n] = last[j]
                n += 1
            last[j] = e
        catch_up(code, theta, state, columns, since, n, k, d + 1, e, hyper, t, table,
                 lam, G, h, l2, l1, theta0, cumulative, True)


@njit(**NJIT_INLINE)
def _record_width(n_slots):
    # a power of two (2, 4, 8, ...): in a 32-byte aligned array (Numba's)
    # a record of up to 32 bytes then never straddles two cache lines
    width = 2
    while width < 2 + n_slots:
        width *= 2
    return width


@njit(**NJIT_INLINE)
def _work_arrays(theta, state, packed):
    """The records, and the weights, gradient and state the epoch works on
    as strided views.

    ``packed``: of the records, one array whose row ``i`` holds coordinate
    ``i``'s weight, gradient and state slots (:func:`_record_views`), so
    that a batch's scattered columns cost one cache miss each rather than
    one per array (mini-batch 32 Adam on CSR 50,000 x 2**18: 0.34 -> 0.26 s
    an epoch). Otherwise no records (zero rows), ``theta`` and ``state``
    themselves and a fresh gradient. The gradient is left unset (the epoch
    clears a slot when it first touches it)."""
    n_slots = state.shape[1]
    width = _record_width(n_slots)
    if packed:
        records = empty((theta.shape[0], width), theta.dtype)
        for i in range(theta.shape[0]):
            records[i, 0] = theta[i]
            for s in range(n_slots):
                records[i, 2 + s] = state[i, s]
        return (records,) + _record_views(records, n_slots)
    return (empty((0, width), theta.dtype), theta, empty(theta.shape[0], theta.dtype),
            state)


@njit(**NJIT_INLINE)
def _record_views(records, n_slots):
    # the weights, the gradient and the state slots of packed records
    return records[:, 0], records[:, 1], records[:, 2:2 + n_slots]


@njit(**NJIT_INLINE)
def _write_back(w, s, theta, state):
    for i in range(theta.shape[0]):
        theta[i] = w[i]
        for slot in range(s.shape[1]):
            state[i, slot] = s[i, slot]


@njit(**NJIT_INLINE)
def _prefetch_records(theta, last, indices, indptr, order, k, d, pos):
    # the weights (packed: the whole records) and step marks of row
    # order[pos]'s columns, which the batch's first touch of each misses,
    # into L2 (a request into L1 holds one of its few miss buffers for the
    # whole trip from L3); past the end, the last row's (no branch: see
    # prefetch.py on branches in inlined helpers)
    r = order[min(pos, order.shape[0] - 1)]
    for jj in range(indptr[r], indptr[r + 1]):
        j = indices[jj]
        prefetch_to_l2(last, j)
        for c in range(k):
            prefetch_to_l2(theta, c * (d + 1) + j)


# called, not inlined: once a batch and once an epoch
@njit(**NJIT)
def _adam_in_place(flush, data, indices, indptr, Y, sw, order, start, stop, records,
                   n_slots, last, frozen, d, u, hyper, t, table, lam, l2, theta0, flushed,
                   step_bias):
    """The marking pass of batch ``u`` (rows ``order[start:stop]``) for Adam
    with one output and no L1 penalty, on packed records (``n_slots`` state
    slots); with ``flush``, the flush to step ``u`` instead (every column
    but the frozen ones). The batch's columns need no list: their updates
    wait (below), and ``apply_step`` makes the intercept's only.

    The general kernel marks a batch's columns (sets ``last``, clears their
    gradient slots, lists them), catches the list up in a second pass
    (:func:`~skgd._kernels.updates.catch_up`) and, once the batch's
    gradient is in, updates it in a third (``apply_step``). Here a column's
    update waits in its gradient slot (``last[j] = s > flushed``; the bias
    terms of step ``s`` in ``step_bias[s]``) until the marking pass next
    meets the column, or the flush, and is applied there together with the
    steps skipped since (:func:`~skgd.solvers._adam.adam_step_skip_shrink`:
    one square root and one division for both), while the marking has the
    column's record at hand. Theta moves only at updates, so catching up as
    a batch's columns are marked is the same as just before the batch reads
    them; the models agree with the general kernel's to rounding (2e-15 on
    unit-scale weights).

    CSR 200,000 x 2**18, 50 non-zeros a row, mini-batch 32, alternated runs,
    s an epoch: 0.224-0.240 with the three passes, 0.198-0.209 with the
    catch-up in the marking pass, 0.177-0.189 with the update deferred too.
    Deferring into ``catch_up``'s list instead made it slower (0.237-0.244),
    and so did the update and the skip one after the other here
    (0.201-0.206). Not done for the other rules, nor for several outputs:
    the pass with the rule chosen at run time took 0.48 s (four rules'
    steps in the loop), with a loop over the outputs around the step 0.22 s
    (no gain), and the catch-up for each of SGD, momentum, RMSprop and Adam,
    8-13% faster each, cost 8 s more compilation (as tried, inlined layer
    on layer).

    It takes the records, not views of them: views made here share one
    row stride that the compiler knows, where views passed in each bring
    their own (a multiplication and a register each, and the loop's
    values spilled to the stack). Together with unsigned indices into the
    step tables (no test for negative indices) and the reference point's
    test hoisted out of the loop: 0.172-0.183 -> 0.155-0.162 s a one-epoch
    fit (CSR 200,000 x 2**18, mini-batch 32, alternated runs, six rounds)."""
    theta, grad, state = _record_views(records, n_slots)
    constants = adam_shrink_constants(hyper, t)
    has_frozen = frozen.shape[0] > 0
    has_reference = theta0.shape[0] > 0
    # the flush and the marking pass each write out their column step: one
    # inlined helper for both gave the same models but an epoch of 0.37 s
    # against 0.17 s
    if flush:
        # two passes, the waiting updates then the columns untouched since
        # the last flush: with both steps as branches of one loop, Numba
        # counted a reference to the records for every column (the branches
        # bind different arrays; see benchmarks/README.md), 2.9 -> 2.2 ms
        # for 2**18 columns
        for j in range(d):
            s = np.int64(last[j])
            if s <= flushed or (has_frozen and frozen[j]):
                continue
            last[j] = u
            w0 = theta0[j] if has_reference else 0.0
            n = np.uint64(u - s)  # unsigned: no test for negative indices
            dlam = lam[u] - lam[np.uint64(s)]
            lr = dlam * table[n, _INV_STEPS]  # the skipped steps' mean rate
            adam_step_skip_shrink(theta, grad, state, j, w0, hyper, table, n, lr, dlam,
                                  l2, constants, step_bias[np.uint64(s), 0],
                                  step_bias[np.uint64(s), 1])
        for j in range(d):
            s = np.int64(last[j])
            last[j] = u
            if s == u or (has_frozen and frozen[j]):  # updated above, or frozen
                continue
            w0 = theta0[j] if has_reference else 0.0
            if not _at_rest(theta, state, j, w0):
                n = np.uint64(u - s)
                dlam = lam[u] - lam[np.uint64(s)]
                adam_skip_shrink(theta, state, j, w0, hyper, table, n,
                                 dlam * table[n, _INV_STEPS], dlam, l2, constants)
        return
    e = u - 1
    lam_e = lam[e]
    for pos in range(start, stop):
        prefetch_csr_row(data, indices, indptr, Y, sw, order, pos)
        _prefetch_records(theta, last, indices, indptr, order, 1, d,
                          pos + _RECORD_DISTANCE)
        r = order[pos]
        for jj in range(indptr[r], indptr[r + 1]):
            j = indices[jj]
            if last[j] != u:
                s = np.int64(last[j])
                last[j] = u
                if has_frozen and frozen[j]:
                    grad[j] = 0.0
                    continue
                n = np.uint64(e - s)
                dlam = lam_e - lam[np.uint64(s)]
                lr = dlam * table[n, _INV_STEPS]
                w0 = theta0[j] if has_reference else 0.0
                if s > flushed:  # the update of step s waits in grad[j]
                    adam_step_skip_shrink(theta, grad, state, j, w0, hyper, table, n, lr,
                                          dlam, l2, constants, step_bias[np.uint64(s), 0],
                                          step_bias[np.uint64(s), 1])
                    continue
                grad[j] = 0.0
                if s < e:
                    adam_skip_shrink(theta, state, j, w0, hyper, table, n, lr, dlam, l2,
                                     constants)


def _run_epoch_sparse(update, data, indices, indptr, Y, sw, order, batch_size,
                      theta, state, counters, d, k, fit_intercept, loss_code,
                      loss_param, l2, l1, solver_code, hyper, schedule, eta0,
                      power_t, optimal_init, alpha, mean_sw, loss_limit, theta0,
                      frozen):
    """One epoch over CSR rows ``order``; the arguments are those of
    :func:`skgd._kernels.epoch._run_epoch` (no averaging: ASGD on sparse
    data takes the dense-update kernel). A frozen column (``frozen[j]``) is
    never caught up nor updated: its gradient is computed unused. Returns
    ``sum_r sw[r] * loss_r``, or ``inf`` on divergence.

    The epoch works on packed records (:func:`_work_arrays`) when its rows
    have at least ``d`` non-zeros, enough to pay for copying every
    coordinate in and out (written back at the end of an epoch that did not
    diverge: the caller discards one that did); a call of a few rows on many
    columns, as a streaming ``partial_fit``, works in place. Either way the
    rules, built-in or a user's, index strided views as they index the plain
    arrays."""
    code = solver_code if update is None else -1
    n = order.shape[0]
    n_steps = (n + batch_size - 1) // batch_size
    # stochastic batches take the cumulative L1 penalty (see apply_step)
    cumulative = l1 > 0.0 and batch_size < n
    lam = zeros(n_steps + 1, np.float64)
    G = empty(n_steps + 1, np.float64)
    for i in range(n_steps + 1):
        G[i] = 1.0
    h = zeros(n_steps + 1, np.float64)
    # row k: the rule's powers for k skipped steps, filled as the steps come
    table = zeros((n_steps + 1, SKIP_TABLE_WIDTH), np.float64)
    table[0, :2] = 1.0  # no skip: what adam_step_skip_shrink reads for k = 0
    # Adam in place: the bias terms of each step, for the updates it defers;
    # the columns with last[j] > flushed hold one
    step_bias = zeros((n_steps + 1, 2), np.float64)
    flushed = np.int64(0)  # not the literal 0: one signature for _adam_in_place
    # last[j]: the step column j is current to; u while it waits for step
    # u's update (so it also marks the columns a batch touches). int32: it
    # is zeroed at every call and a flush streams through it (the kernel of
    # a 512-row partial_fit on 2**22 columns: 74 -> 56 ms)
    if n_steps > _MAX_STEPS:
        raise ValueError("More than 2**31 - 1 mini-batches in an epoch: "
                         "use a larger batch_size.")
    last = zeros(d, np.int32)
    # counted only as far as d: the rows' offsets are read in random order
    nnz = 0
    for pos in range(n):
        nnz += np.int64(indptr[order[pos] + 1]) - np.int64(indptr[order[pos]])
        if nnz >= d:
            break
    packed = nnz >= d
    records, theta_w, grad, state_w = _work_arrays(theta, state, packed)
    has_frozen = frozen.shape[0] > 0
    # Adam, the default rule, catches a batch's columns up as it marks them
    # and defers their updates (one output, no L1 penalty, packed records:
    # _adam_in_place). A call of fewer non-zeros than columns (a streaming
    # chunk) takes the general passes: their few ns more a non-zero are
    # less than its O(d) flush and copies
    adam_in_place = k == 1 and code == ADAM and not l1 > 0.0 and packed
    max_row = 0
    for r in range(indptr.shape[0] - 1):
        max_row = max(max_row, np.int64(indptr[r + 1]) - np.int64(indptr[r]))
    # the columns a batch touches and the step each was current to (also
    # the blocks of a flush), with a spare entry for apply_step's intercepts
    touched = empty(min(d, max(max_row * batch_size, _FLUSH_BLOCK)) + 1, np.int64)
    since = empty(touched.shape[0], np.int64)
    # the gradient is not zeroed up front (d can be millions, a batch touches
    # a few hundred columns): a column's slots are cleared when a batch first
    # touches it
    for c in range(k):
        grad[c * (d + 1) + d] = 0.0
    p = zeros(k, theta.dtype)
    dloss = zeros(k, theta.dtype)
    total = 0.0
    u = 0
    t = counters[0]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        u += 1
        t += 1
        skip_table_row(code, hyper, table, u)
        inv_norm = 1.0 / (mean_sw * (stop - start))
        if adam_in_place:
            # bool(...): not a literal, so both call sites share one signature
            _adam_in_place(bool(False),  # noqa: UP018
                           data, indices, indptr, Y, sw, order, start, stop, records,
                           state_w.shape[1], last, frozen, d, u, hyper, t, table, lam,
                           l2, theta0, flushed, step_bias)
            n_touched = 0  # the columns' updates wait: apply_step makes the intercept's
        else:
            n_touched = 0
            for pos in range(start, stop):
                prefetch_csr_row(data, indices, indptr, Y, sw, order, pos)
                _prefetch_records(theta_w, last, indices, indptr, order, k, d,
                                  pos + _RECORD_DISTANCE)
                r = order[pos]
                for jj in range(indptr[r], indptr[r + 1]):
                    j = indices[jj]
                    if last[j] != u:
                        for c in range(k):
                            grad[c * (d + 1) + j] = 0.0
                        if not (has_frozen and frozen[j]):
                            touched[n_touched] = j
                            since[n_touched] = last[j]
                            n_touched += 1
                        last[j] = u
            # theta moves only at the update: catching the batch's columns
            # up before its first row is read is the same as just before
            # each read
            catch_up(code, theta_w, state_w, touched, since, n_touched, k, d + 1, u - 1,
                     hyper, t, table, lam, G, h, l2, l1, theta0, cumulative, False)
        batch_loss = 0.0
        for pos in range(start, stop):
            r = order[pos]
            for c in range(k):
                base = c * (d + 1)
                acc = theta_w[base + d]
                for jj in range(indptr[r], indptr[r + 1]):
                    acc += data[jj] * theta_w[np.uint64(base) + indices[jj]]
                p[c] = acc
            batch_loss += sw[r] * row_loss(loss_code, p, Y[r], loss_param, dloss)
            weight = sw[r] * inv_norm
            for c in range(k):
                dloss[c] *= weight  # g stays in theta's dtype (float32 stays float32)
                g = dloss[c]
                if g != 0.0:
                    base = c * (d + 1)
                    for jj in range(indptr[r], indptr[r + 1]):
                        grad[np.uint64(base) + indices[jj]] += g * data[jj]
                    grad[base + d] += g
        mean_loss = batch_loss * inv_norm
        if not (mean_loss <= loss_limit and mean_loss < np.inf):
            return np.inf
        total += batch_loss
        lr = step_size(schedule, eta0, power_t, optimal_init, alpha, t)
        decay = 1.0 - lr * l2
        if not decay > 0.0:  # a step that flips the weights' sign: diverging
            return np.inf
        lam[u] = lam[u - 1] + lr
        G[u] = G[u - 1] * decay
        h[u] = h[u - 1] + lr * l1 / G[u]
        if adam_in_place:  # the columns' updates wait; the intercept's is made
            inv_bias_1, inv_sqrt_bias_2 = adam_bias(hyper, t)
            step_bias[u, 0] = lr * inv_bias_1
            step_bias[u, 1] = inv_sqrt_bias_2
        apply_step(solver_code, update, theta_w, grad, state_w, touched, n_touched, k,
                   d, hyper, t, lr, l2, l1, theta0, fit_intercept, cumulative)
        counters[1] += stop - start
        # flush everyone at the end of the epoch, and to rebase the prefixes
        # (one call site: catch_up is inlined, its loops are called)
        if stop == n or G[u] < _MIN_G:
            if adam_in_place:
                _adam_in_place(bool(True),  # noqa: UP018
                               data, indices, indptr, Y, sw, order, start, stop,
                               records, state_w.shape[1], last, frozen, d, u, hyper, t,
                               table, lam, l2, theta0, flushed, step_bias)
            else:
                _flush(code, theta_w, state_w, last, frozen, touched, since, k, d, u,
                       hyper, t, table, lam, G, h, l2, l1, theta0, cumulative)
            flushed = u
            G[u] = 1.0
            h[u] = 0.0
    counters[0] = t
    if packed:
        _write_back(theta_w, state_w, theta, state)
    return total


run_epoch_sparse = njit(**NJIT)(_run_epoch_sparse)
run_epoch_sparse_custom = njit(**dict(NJIT, cache=False))(_run_epoch_sparse)
