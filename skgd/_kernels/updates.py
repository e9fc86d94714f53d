"""Integer-code dispatch to the built-in update rules.

Built-in solvers are reached through ``apply_step(code, None, ...)`` rather
than by passing their function to the epoch kernel: a cached kernel that receives
a jitted function as an argument recompiles in every new process, while an
integer code keeps the kernel loadable from Numba's on-disk cache.
"""

import numpy as np

from ..solvers._adagrad import adagrad_skip, adagrad_update
from ..solvers._adam import (adam_bias, adam_shrink_constants, adam_skip,
                             adam_skip_shrink, adam_skip_table, adam_step)
from ..solvers._momentum import (momentum_shrink_constants, momentum_skip,
                                 momentum_skip_shrink, momentum_skip_table,
                                 momentum_update)
from ..solvers._rmsprop import (rmsprop_skip, rmsprop_skip_shrink, rmsprop_skip_table,
                                rmsprop_update)
from ..solvers._sgd import sgd_update
from ._config import NJIT, NJIT_INLINE
from ._jit import njit  # numba.njit, its cache loading leaner
from .prefetch import prefetch

SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM = 0, 1, 2, 3, 4

# values a row of the skip table holds: up to three of the rule's powers
# (Adam's), then 1 / k for every rule
SKIP_TABLE_WIDTH = 4
_INV_STEPS = SKIP_TABLE_WIDTH - 1

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
def cumulative_clip(theta, state, i, budget, w0):
    """The cumulative L1 penalty (Tsuruoka, Tsujii & Ananiadou, 2009, as
    scikit-learn's SGD) of coordinate ``i``, toward ``w0``.

    The last two state columns hold what the penalty has yet to apply to a
    positive and to a negative weight: ``U + Q`` and ``U - Q``, ``U`` the
    penalty every step offered (``budget`` each, ``lr * scale * l1``) and
    ``Q`` the signed total it did apply. A weight that gradient noise kicks
    off zero is pulled back by the whole unspent budget rather than by one
    step's threshold, so coordinates that are zero at the optimum end
    exactly zero under mini-batch noise.
    """
    b = state.shape[1] - 2
    positive = state[i, b] + budget
    negative = state[i, b + 1] + budget
    w = theta[i] - w0
    if w > 0.0:
        clipped = max(0.0, w - positive)
    elif w < 0.0:
        clipped = min(0.0, w + negative)
    else:
        clipped = w
    applied = clipped - w
    state[i, b] = positive + applied
    state[i, b + 1] = negative - applied
    if applied != 0.0:
        theta[i] = w0 + clipped


@njit(**NJIT_INLINE)
def _finish(grad, i, scale, l1):
    # clear the gradient slot for the next batch; under an L1 penalty it
    # holds the rule's step multiplier until _l1_steps has used it
    grad[i] = scale if l1 > 0.0 else 0.0


@njit(**NJIT_INLINE)
def _l1_steps(theta, grad, state, columns, k, stride, n_columns, lr, l1, theta0,
              cumulative):
    """The L1 proximal step of the coordinates apply_step updated, toward
    the penalty's centre: soft-thresholding of ``w - w0`` by ``lr * scale *
    l1`` (``scale`` the rule's multiplier, left in ``grad``), or the
    cumulative penalty for stochastic batches; with ``w0 = 0`` this is bit
    for bit the plain step (``w - 0 == w``, ``0 + v == v``). One loop after
    the rule's, so that each kernel compiles this once, not once per rule."""
    for c in range(k):
        for q in range(n_columns):
            i = c * stride + columns[q]
            w0 = _reference(theta0, i)
            threshold = lr * grad[i] * l1
            grad[i] = 0.0
            if cumulative:
                cumulative_clip(theta, state, i, threshold, w0)
            else:
                theta[i] = w0 + _soft(theta[i] - w0, threshold)


@njit(**NJIT_INLINE)
def _l2_of(q, n_penalised, l2):
    # the list's first n_penalised coordinates are penalised, the rest (the
    # intercepts) are not: 0 * (theta - theta0) adds nothing, as before
    return l2 if q < n_penalised else 0.0


@njit(**NJIT_INLINE)
def _adam_list(theta, grad, state, columns, k, stride, n_columns, n_penalised, hyper,
               lr_bias_1, inv_sqrt_bias_2, l2, l1, theta0, amsgrad):
    """apply_step's Adam loop; ``amsgrad`` is a literal at each call site,
    so each copy is compiled without the other's branch.

    A coordinate at rest (no gradient, ``m = v = 0``) is skipped: its step
    would change nothing, but costs a square root and a division. Hashed
    text leaves most of its columns at rest, and a full-batch step (a
    ``partial_fit`` call no larger than a batch) meets every column: such a
    call on 2**20 / 2**22 columns with ~50,000 in use took 9.1-9.5 / 60-69
    ms, 7.6-8.1 / 54-58 ms with the skip (the rest is copying and reading
    every column); dense mini-batch and full-batch epochs unchanged. Not
    under an L1 penalty, whose proximal step reads the rule's multiplier."""
    skip_resting = l1 == 0.0
    for c in range(k):
        for q in range(n_columns):
            i = c * stride + columns[q]
            w0 = _reference(theta0, i)
            grad[i] += _l2_of(q, n_penalised, l2) * (theta[i] - w0)
            if (skip_resting and grad[i] == 0.0 and state[i, 0] == 0.0
                    and state[i, 1] == 0.0):
                continue
            _finish(grad, i, adam_step(theta, grad, state, i, hyper, lr_bias_1,
                                       inv_sqrt_bias_2, amsgrad), l1)


@njit(**NJIT_INLINE)
def apply_step(code, update, theta, grad, state, columns, n_penalised, k, d, hyper, t,
               lr, l2, l1, theta0, fit_intercept, cumulative):
    """One update of a batch: the coefficients ``c * (d + 1) + columns[q]``
    (``q < n_penalised``, each output ``c < k``) and the intercepts ``c *
    (d + 1) + d`` (fitted or not), from ``grad``, which is then zeroed there.
    ``columns`` has room for one more entry: the intercepts' column ``d``
    rides at the end of the list when they are fitted. One function, not a
    wrapper around the loops: each layer of inlining copies the IR it
    inlines, and this one cost 1.2 s of a kernel's compile time.

    For ``q < n_penalised`` the L2 term ``l2 * (theta - theta0)`` is added
    to the gradient (as PyTorch's ``weight_decay``), the rule is applied,
    then the L1 proximal step toward ``theta0`` (:func:`cumulative_clip`
    when ``cumulative``: the stochastic batches); ``theta0`` is the L2-SP
    reference (same layout as ``theta``), or empty for the usual pull
    toward zero. The intercepts take the rule alone.
    ``update`` is None for built-in rules, chosen by ``code`` once per call,
    outside the loops: each loop is then branch-free, and what depends only
    on ``t`` (Adam's bias corrections, see
    :func:`~skgd.solvers._adam.adam_step`) is computed once per call. The
    dense kernel passes every column, the sparse one those a batch touched.
    """
    stride = d + 1
    n_columns = n_penalised
    if fit_intercept:
        columns[n_columns] = d
        n_columns += 1
    if update is not None:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += _l2_of(q, n_penalised, l2) * (theta[i] - w0)
                _finish(grad, i, update(theta, grad, state, i, hyper, t, lr), l1)
    elif code == SGD:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += _l2_of(q, n_penalised, l2) * (theta[i] - w0)
                _finish(grad, i, sgd_update(theta, grad, state, i, hyper, t, lr), l1)
    elif code == ADAM:
        # the bias terms once a call; AMSGrad's test out of the loop
        inv_bias_1, inv_sqrt_bias_2 = adam_bias(hyper, t)
        lr_bias_1 = lr * inv_bias_1
        if hyper[3] != 0.0:
            _adam_list(theta, grad, state, columns, k, stride, n_columns, n_penalised,
                       hyper, lr_bias_1, inv_sqrt_bias_2, l2, l1, theta0, True)
        else:
            _adam_list(theta, grad, state, columns, k, stride, n_columns, n_penalised,
                       hyper, lr_bias_1, inv_sqrt_bias_2, l2, l1, theta0, False)
    elif code == MOMENTUM:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += _l2_of(q, n_penalised, l2) * (theta[i] - w0)
                _finish(grad, i, momentum_update(theta, grad, state, i, hyper, t, lr), l1)
    elif code == ADAGRAD:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += _l2_of(q, n_penalised, l2) * (theta[i] - w0)
                _finish(grad, i, adagrad_update(theta, grad, state, i, hyper, t, lr), l1)
    else:
        for c in range(k):
            for q in range(n_columns):
                i = c * stride + columns[q]
                w0 = _reference(theta0, i)
                grad[i] += _l2_of(q, n_penalised, l2) * (theta[i] - w0)
                _finish(grad, i, rmsprop_update(theta, grad, state, i, hyper, t, lr), l1)
    if l1 > 0.0:
        _l1_steps(theta, grad, state, columns, k, stride, n_penalised, lr, l1, theta0,
                  cumulative)
    for c in range(k):  # an L1 penalty's multiplier, or an unfitted intercept's
        grad[c * stride + d] = 0.0



@njit(**NJIT_INLINE)
def skip_table_row(code, hyper, table, k):
    """Fill row ``k`` of ``table`` (``(n_steps + 1, SKIP_TABLE_WIDTH)``)
    with the powers ``catch_up`` reads for ``k`` skipped steps of rule
    ``code``, and ``1 / k``: one row per step of the epoch, rather than the
    same powers (and a division) for every column caught up."""
    table[k, _INV_STEPS] = 1.0 / k  # k >= 1: row 0 is never read
    if code == ADAM:
        adam_skip_table(hyper, table, k)
    elif code == MOMENTUM:
        momentum_skip_table(hyper, table, k)
    elif code == RMSPROP:
        rmsprop_skip_table(hyper, table, k)


@njit(**NJIT_INLINE)
def _spend(state, i, positive_side, offered, applied):
    """Book ``applied`` (>= 0, toward zero) of ``offered`` new budget on the
    weight's side (``positive_side``); the other side gains both."""
    b = state.shape[1] - 2
    own, other = (b, b + 1) if positive_side else (b + 1, b)
    state[i, own] += offered - applied
    state[i, other] += offered + applied


@njit(**NJIT_INLINE)
def _own_budget(state, i, x):
    """The side of ``x`` (a weight less its centre, non-zero) and the unspent
    budget on that side."""
    b = state.shape[1] - 2
    positive_side = x > 0.0
    return positive_side, state[i, b] if positive_side else state[i, b + 1]


# the catch-up's cumulative penalty is called, not inlined: taken only under
# an L1 penalty by weights away from their centre, it keeps its code out of
# the general loop
@njit(**NJIT)
def cumulative_skip(theta, state, i, w0, offered):
    """:func:`cumulative_clip` over skipped steps that offer ``offered`` in
    all and leave the weight otherwise still: the first step spends the
    unspent budget, each later one its own, so ``|w|`` shrinks by all of it
    (``w`` stops at zero and keeps the rest). For ``w != w0``: at ``w0``
    nothing is spent and both sides gain ``offered`` (``catch_up`` books that
    itself)."""
    x = theta[i] - w0
    positive_side, budget = _own_budget(state, i, x)
    left = max(abs(x) - budget - offered, 0.0)
    _spend(state, i, positive_side, offered, abs(x) - left)
    theta[i] = w0 + (left if positive_side else -left)


@njit(**NJIT)
def _cumulative_skip_sgd(theta, state, i, w0, s, e, lam, G, h, l1):
    """:func:`cumulative_skip` for plain SGD, exact with the L2 decay of every
    skipped step (``w -> g w`` before the clip, ``g = 1 - lr l2``). In units
    of the weight at step ``s``, the unspent budget ``p`` takes ``p / g_1``
    at the first step and step ``u`` has taken ``T(u) = p / g_1 + G_s (h_u -
    h_s)`` in all: the weight ends at ``(G_e / G_s) (|x| - T(e))``, or, from
    the first step ``z`` with ``T(z) >= |x|`` (a binary search: ``h``
    increases), at zero. For ``w != w0``, as :func:`cumulative_skip`."""
    x = theta[i] - w0
    offered = l1 * (lam[e] - lam[s])
    positive_side, budget = _own_budget(state, i, x)
    a = abs(x)
    g_s = G[s]
    first = budget * (G[s] / G[s + 1])
    taken = first + g_s * (h[e] - h[s])  # T(e)
    if a > taken:
        left = (G[e] / g_s) * (a - taken)
        _spend(state, i, positive_side, offered, budget + offered)
        theta[i] = w0 + (left if positive_side else -left)
        return
    lo, hi = s + 1, e
    while lo < hi:
        mid = (lo + hi) // 2
        if first + g_s * (h[mid] - h[s]) >= a:
            hi = mid
        else:
            lo = mid + 1
    if lo == s + 1:  # the first step's clip takes all of g_1 |x|
        applied = (G[s + 1] / g_s) * a
    else:  # whole clips up to z - 1, then what was left of the weight
        applied = (budget + l1 * (lam[lo - 1] - lam[s]) + (G[lo] / g_s)
                   * (a - first - g_s * (h[lo - 1] - h[s])))
    _spend(state, i, positive_side, offered, applied)
    theta[i] = w0


@njit(**NJIT_INLINE)
def _adagrad_l2_move(theta, state, i, w0, l2, n, dlam):
    """How far AdaGrad moves a weight over ``n`` skipped steps (summed rate
    ``dlam``) whose only gradient is the L2 term ``g = l2 |w - w0|``:
    ``(dlam / n) sum_j g / sqrt(s + j g^2)``, the sum as an integral over
    ``j`` in ``[1/2, n + 1/2]``; the sum of squares ``s`` takes those ``n``
    gradients, as in the dense steps."""
    g = l2 * abs(theta[i] - w0)
    if g == 0.0:  # a weight at its centre: no gradient, nothing moves
        return np.inf
    total = state[i, 0]
    state[i, 0] = total + n * g * g
    return 2.0 * dlam * g / (np.sqrt(total + (n + 0.5) * g * g)
                             + np.sqrt(total + 0.5 * g * g))


@njit(**NJIT_INLINE)
def _prefetch_ahead(theta, state, columns, q, n_columns, c, stride):
    # the weight and state of the column CATCH_UP_AHEAD places ahead (the
    # last one near the end: a clamp, not a branch; see prefetch.py)
    ahead = c * stride + columns[min(q + CATCH_UP_AHEAD, n_columns - 1)]
    prefetch(theta, ahead)
    prefetch(state, ahead)


@njit(**NJIT_INLINE)
def _at_rest(theta, state, i, w0):
    # a weight at its centre with all state zero, which no rule moves (read
    # without an early exit, as the per-row helpers: see prefetch.py)
    resting = theta[i] == w0
    for slot in range(state.shape[1]):
        resting = resting & (state[i, slot] == 0.0)
    return resting


@njit(**NJIT_INLINE)
def _rule_catch_up(rule, theta, state, columns, since, n_columns, k, stride, e, hyper,
                   t, table, lam, G, l2, theta0, skip_resting):
    """:func:`catch_up` without an L1 penalty for ``rule`` (a literal at
    each call site: SGD, momentum, RMSprop or Adam), in a loop of its own.
    Plain SGD scales by the ratio of prefix products; the others'
    ``*_skip_shrink`` moves the weight and applies the L2 step and its
    bound in one expression. The general loop tests the rule and the
    penalties at each coordinate: CSR 200,000 x 2**18, mini-batch 32, an
    epoch of SGD 0.151 -> 0.139 s, momentum 0.206 -> 0.182 s, RMSprop 0.227
    -> 0.203 s, Adam 0.255-0.259 -> 0.217 s (one division less there too).
    SGD skips the resting test: a weight at its centre stays there (and the
    test cost it 0.01 s an epoch). AdaGrad keeps the general loop: a loop
    of its own here gained 6% (0.274 -> 0.258 s) for 1.5-2 s more compile
    time of the sparse kernel (Numba's IR copies grow with the function)."""
    if rule == SGD and not l2 > 0.0:
        return  # nothing moves a skipped weight
    if rule == ADAM:
        constants = adam_shrink_constants(hyper, t)
    else:  # SGD and RMSprop read none: one tuple type for every rule
        constants = momentum_shrink_constants(hyper, t)
    for c in range(k):
        for q in range(n_columns):
            _prefetch_ahead(theta, state, columns, q, n_columns, c, stride)
            s = since[q]
            if s >= e:
                continue
            i = c * stride + columns[q]
            w0 = _reference(theta0, i)
            if rule == SGD:
                theta[i] = w0 + (theta[i] - w0) * (G[e] / G[s])
                continue
            if skip_resting and _at_rest(theta, state, i, w0):
                continue
            n = e - s
            dlam = lam[e] - lam[s]
            lr = dlam * table[n, _INV_STEPS]  # the skipped steps' mean rate
            if rule == ADAM:
                adam_skip_shrink(theta, state, i, w0, hyper, table, n, lr, dlam, l2,
                                 constants)
            elif rule == RMSPROP:
                rmsprop_skip_shrink(theta, state, i, w0, hyper, table, n, lr, dlam, l2,
                                    constants)
            else:
                momentum_skip_shrink(theta, state, i, w0, hyper, table, n, lr, dlam, l2,
                                     constants)


# called, not inlined: catch_up is inlined twice in the sparse kernel, and a
# call a list costs nothing. The four loops take 2.2 s to compile (as four
# functions, 2.3 s), once per machine
@njit(**NJIT)
def _catch_up_without_l1(code, theta, state, columns, since, n_columns, k, stride, e,
                         hyper, t, table, lam, G, l2, theta0, skip_resting):
    if code == SGD:
        _rule_catch_up(SGD, theta, state, columns, since, n_columns, k, stride, e, hyper,
                       t, table, lam, G, l2, theta0, skip_resting)
    elif code == MOMENTUM:
        _rule_catch_up(MOMENTUM, theta, state, columns, since, n_columns, k, stride, e,
                       hyper, t, table, lam, G, l2, theta0, skip_resting)
    elif code == RMSPROP:
        _rule_catch_up(RMSPROP, theta, state, columns, since, n_columns, k, stride, e,
                       hyper, t, table, lam, G, l2, theta0, skip_resting)
    else:
        _rule_catch_up(ADAM, theta, state, columns, since, n_columns, k, stride, e,
                       hyper, t, table, lam, G, l2, theta0, skip_resting)


@njit(**NJIT_INLINE)
def catch_up(code, theta, state, columns, since, n_columns, k, stride, e, hyper, t,
             table, lam, G, h, l2, l1, theta0, cumulative, skip_resting):
    """Bring coordinates ``c * stride + columns[q]`` (``q < n_columns``,
    each output ``c < k``) from local step ``since[q]`` to ``e`` (nothing
    where ``since[q] == e``), over steps in which their column had no
    non-zero: the lazy update of sparse data.

    The prefix arrays over the epoch's steps hold ``lam[u] = sum lr``,
    ``G[u] = prod (1 - lr * l2)`` and ``h[u] = sum lr * l1 / G``. Plain SGD
    is exact: each skipped step maps ``w -> soft((1 - lr l2) w, lr l1)``, and
    ``n`` of them compose to
    ``(G_e / G_s) soft(w, G_s (h_e - h_s))``. Other rules move by their
    ``*_skip`` function (exact without penalty but for Adam's drift), which
    reads the powers for ``n`` skipped steps from row ``n`` of ``table``
    (:func:`skip_table_row`); their L2 / L1 terms are applied as decoupled
    shrinkage with the rule's current step multiplier ``scale`` (an
    approximation): a soft-threshold of ``l1 scale dlam``, then ``w / (1 +
    l2 scale dlam)``, ``dlam`` the skipped steps' summed rate, which for
    Adam, RMSprop and AdaGrad moves ``w`` no further than the L2 gradient
    alone would (:func:`_adagrad_l2_move`). A
    user's rule (``code < 0``) keeps its weight and state, with the same
    shrinkage at multiplier 1. With an L2-SP reference ``theta0`` all of
    this applies to ``theta - theta0`` (the penalty's centre moves, its form
    does not). With ``cumulative`` (stochastic batches) the L1 part is the
    cumulative penalty of :func:`cumulative_clip` over the skipped steps
    (:func:`cumulative_skip`; exact for plain SGD, L2 decay included).

    One call catches up a whole list (a batch's columns, or a block of a
    flush): what depends on ``t`` only (Adam's bias corrections) is computed
    once a call, and the weight and state of the column ``CATCH_UP_AHEAD``
    places ahead are requested while one is worked on. Without an L1
    penalty every built-in rule but AdaGrad takes a loop of its own
    (:func:`_rule_catch_up`, which says why not AdaGrad).

    ``skip_resting`` (the flush's; False for a batch's): leave alone
    a coordinate at its centre with all state zero, which no rule moves
    (but the cumulative L1 penalty, whose budgets still grow). Most columns
    of a wide hashed-text model never see a non-zero: a 10,000-row
    streaming Adam chunk at 2**22 columns, 96-100 -> 83-89 ms. Not in a
    batch's own catch-up, where such columns are rare and the test costs.
    """
    if 0 <= code != ADAGRAD and not l1 > 0.0:
        # non-literal arguments: Numba's type inference would otherwise also
        # compile the callee for the literal 0 and each literal flag it meets
        _catch_up_without_l1(np.int64(code), theta, state, columns, since,
                             np.int64(n_columns), k, stride, e, hyper, t, table, lam, G,
                             l2, theta0, bool(skip_resting))
    else:
        _catch_up_general(np.int64(code), theta, state, columns, since,
                          np.int64(n_columns), k, stride, e, hyper, t, table, lam, G, h,
                          l2, l1, theta0, bool(cumulative), bool(skip_resting))


# called, not inlined, for the same reasons as _catch_up_without_l1
@njit(**NJIT)
def _catch_up_general(code, theta, state, columns, since, n_columns, k, stride, e, hyper,
                      t, table, lam, G, h, l2, l1, theta0, cumulative, skip_resting):
    """:func:`catch_up` for every rule and penalty, a test of each at every
    coordinate."""
    inv_bias_1, inv_sqrt_bias_2 = adam_bias(hyper, t) if code == ADAM else (1.0, 1.0)
    for c in range(k):
        for q in range(n_columns):
            _prefetch_ahead(theta, state, columns, q, n_columns, c, stride)
            s = since[q]
            if s >= e:
                continue
            i = c * stride + columns[q]
            w0 = _reference(theta0, i)
            if code == SGD:
                if l1 > 0.0 and cumulative:
                    if theta[i] == w0:  # most weights of a sparse model: no call
                        _spend(state, i, True, l1 * (lam[e] - lam[s]), 0.0)
                    else:
                        _cumulative_skip_sgd(theta, state, i, w0, s, e, lam, G, h,
                                             l1)
                    continue
                # a weight at its penalty's centre stays there: nothing to do
                # (most weights of a wide hashed model, at every flush)
                if theta[i] == w0:
                    continue
                if l1 > 0.0:
                    threshold = G[s] * (h[e] - h[s])
                    theta[i] = w0 + _soft(theta[i] - w0, threshold)
                if l2 > 0.0:
                    # a ratio of prefix products, not exp(log G_e - log G_s):
                    # an SGD mini-batch-32 epoch with L2 on 200,000 rows of
                    # 50 non-zeros in 2**18 columns, 0.22-0.26 -> 0.17-0.18 s
                    theta[i] = w0 + (theta[i] - w0) * (G[e] / G[s])
                continue
            if skip_resting and not (l1 > 0.0 and cumulative) and _at_rest(theta, state,
                                                                          i, w0):
                continue
            n = e - s
            dlam = lam[e] - lam[s]
            lr = dlam * table[n, _INV_STEPS]  # the skipped steps' mean rate
            # the L2 step's largest move: an adaptive rule whose only
            # gradient is the L2 term moves by about its rate a step (Adam's
            # m / sqrt(v) -> sign(w)) however small its state; without the
            # bound a weight whose state is still zero (coef_init, warm
            # start) met scale = 1 / epsilon and was wiped out
            bound = np.inf
            if code == ADAM:
                scale = adam_skip(theta, state, i, hyper, table, n, lr, inv_bias_1,
                                  inv_sqrt_bias_2)
                bound = dlam
            elif code == MOMENTUM:
                scale = momentum_skip(theta, state, i, hyper, table, n, lr)
            elif code == ADAGRAD:
                scale = adagrad_skip(theta, state, i, hyper, table, n, lr)
                if l2 > 0.0:
                    bound = _adagrad_l2_move(theta, state, i, w0, l2, n, dlam)
            elif code == RMSPROP:
                scale = rmsprop_skip(theta, state, i, hyper, table, n, lr)
                bound = dlam
            else:
                scale = 1.0
            if l1 > 0.0 and cumulative:
                if theta[i] == w0:
                    _spend(state, i, True, l1 * scale * dlam, 0.0)
                else:
                    cumulative_skip(theta, state, i, w0, l1 * scale * dlam)
            elif l1 > 0.0:
                theta[i] = w0 + _soft(theta[i] - w0, l1 * scale * dlam)
            if l2 > 0.0 and theta[i] != w0:
                # the proximal step of the L2 term over the skipped steps; as
                # exp(-l2 scale dlam) to first order, without the call (CSR
                # mini-batch 32 Adam, 2**18 columns: 0.37 -> 0.31 s an epoch)
                x = theta[i] - w0
                shrunk = x / (1.0 + l2 * scale * dlam)
                if abs(x) - abs(shrunk) > bound:
                    shrunk = x - bound if x > 0.0 else x + bound
                theta[i] = w0 + shrunk
