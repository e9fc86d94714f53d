"""Adam and AMSGrad."""

from numbers import Real

import numpy as np
from numba import njit
from sklearn.utils._param_validation import Interval

from .._kernels._config import NJIT_INLINE
from ._base import BaseSolver


@njit(**NJIT_INLINE)
def adam_bias(hyper, t):
    """The bias corrections of step ``t`` as factors, ``1 / (1 - beta_1^t)``
    and ``1 / sqrt(1 - beta_2^t)``: computed once for a list of
    coordinates, each then multiplies rather than divides (a division costs
    a coordinate several times a multiplication: the sparse catch-up of
    mini-batch Adam is bound by its divisions and square root)."""
    return (1.0 / (1.0 - hyper[0] ** float(t)),
            1.0 / np.sqrt(1.0 - hyper[1] ** float(t)))


@njit(**NJIT_INLINE)
def adam_step(theta, grad, state, i, hyper, lr_bias_1, inv_sqrt_bias_2, amsgrad):
    """:func:`adam_update` with what is the same for every coordinate given:
    the bias terms of step ``t``, ``lr / (1 - beta_1^t)`` and ``1 / sqrt(1 -
    beta_2^t)`` (:func:`adam_bias`), and ``amsgrad`` (``hyper[3] != 0``).

    A loop over coordinates passes ``amsgrad`` as a literal, one loop for
    each value: with the test inside the loop (its branch is never taken
    without AMSGrad, but stores to the third slot) the update of mini-batch
    32 Adam on 2**18 sparse columns took 15 ns a coordinate, 7 ns without."""
    beta_1 = hyper[0]
    beta_2 = hyper[1]
    g = grad[i]
    m = beta_1 * state[i, 0] + (1.0 - beta_1) * g
    v = beta_2 * state[i, 1] + (1.0 - beta_2) * g * g
    state[i, 0] = m
    state[i, 1] = v
    if amsgrad:  # the running maximum of v replaces v
        v = max(state[i, 2], v)
        state[i, 2] = v
    scale = 1.0 / (np.sqrt(v) * inv_sqrt_bias_2 + hyper[2])
    theta[i] -= lr_bias_1 * m * scale
    return scale


@njit(**NJIT_INLINE)
def adam_update(theta, grad, state, i, hyper, t, lr):
    inv_bias_1, inv_sqrt_bias_2 = adam_bias(hyper, t)
    return adam_step(theta, grad, state, i, hyper, lr * inv_bias_1, inv_sqrt_bias_2,
                     hyper[3] != 0.0)


@njit(**NJIT_INLINE)
def _drift_ratio(hyper):
    """The factor by which the step ``m / (sqrt(v_hat) + eps)`` shrinks per
    step without gradient. ``m`` decays by ``beta_1``; ``sqrt(v)`` by
    ``sqrt(beta_2)``, except under AMSGrad, whose running maximum does not
    decay, and with ``beta_2 = 0``, where ``v`` is 0 after one such step and
    only ``epsilon`` remains."""
    beta_1, beta_2 = hyper[0], hyper[1]
    if hyper[3] != 0.0 or beta_2 == 0.0:
        return beta_1
    return beta_1 / np.sqrt(beta_2)


@njit(**NJIT_INLINE)
def adam_skip_table(hyper, table, k):
    """Row ``k`` of the table :func:`adam_skip` reads: ``beta_1^k``,
    ``beta_2^k`` and the drift's geometric sum ``r (1 - r^k) / (1 - r)``
    with ``r`` from :func:`_drift_ratio` (``k`` when ``r = 1``, e.g.
    ``beta_2 = beta_1^2``)."""
    r = _drift_ratio(hyper)
    table[k, 0] = hyper[0] ** float(k)
    table[k, 1] = hyper[1] ** float(k)
    table[k, 2] = r * (1.0 - r ** float(k)) / (1.0 - r) if r != 1.0 else float(k)


@njit(**NJIT_INLINE)
def adam_skip(theta, state, i, hyper, table, k, lr, inv_bias_1, inv_sqrt_bias_2):
    """``k`` steps without gradient, the lazy update of sparse data.

    The moments decay exactly (``m *= beta_1^k``, ``v *= beta_2^k``). The
    drift they cause has no closed form (``epsilon`` and the bias corrections
    change along the way); with those frozen at step ``t`` the step
    ``m / (sqrt(v_hat) + eps)`` shrinks by a fixed ratio ``r`` per step
    (:func:`_drift_ratio`), giving the geometric sum ``r (1 - r^k) / (1 - r)``
    of the current step. The powers come from row ``k`` of ``table``
    (:func:`adam_skip_table`), the bias terms of step ``t`` from
    :func:`adam_bias`. Returns the step multiplier at ``t``.
    """
    if hyper[3] != 0.0:
        v = max(state[i, 2], state[i, 1])
    elif hyper[1] == 0.0:
        v = 0.0  # beta_2 = 0: v is the last squared gradient, 0 once skipped
    else:
        v = state[i, 1]
    scale = 1.0 / (np.sqrt(v) * inv_sqrt_bias_2 + hyper[2])
    theta[i] -= lr * inv_bias_1 * state[i, 0] * scale * table[k, 2]
    state[i, 0] *= table[k, 0]
    state[i, 1] *= table[k, 1]
    return scale


@njit(**NJIT_INLINE)
def adam_shrink_constants(hyper, t):
    """What :func:`adam_skip_shrink` and :func:`adam_step_skip_shrink` need
    of step ``t``, once a call: the bias terms (:func:`adam_bias`), ``v``'s
    slot (2, AMSGrad's maximum, which is at least ``v``, or 1), ``v``'s
    weight (0 with ``beta_2 = 0`` without AMSGrad: ``v`` is 0 once skipped,
    as in :func:`adam_skip`) and the weight of the slot's old value in the
    running maximum (1 with AMSGrad, else 0: the slot is then ``v``'s
    own)."""
    inv_bias_1, inv_sqrt_bias_2 = adam_bias(hyper, t)
    amsgrad = hyper[3] != 0.0
    v_keep = 0.0 if hyper[1] == 0.0 and not amsgrad else 1.0
    return (inv_bias_1, inv_sqrt_bias_2, 2.0 if amsgrad else 1.0, v_keep,
            1.0 if amsgrad else 0.0)


@njit(**NJIT_INLINE)
def adam_skip_shrink(theta, state, i, w0, hyper, table, k, lr, dlam, l2, constants):
    """:func:`adam_skip` and then the catch-up's proximal L2 step with its
    bound (:func:`skgd._kernels.updates.catch_up`), for a catch-up without
    an L1 penalty, in one division rather than two and a square root;
    ``constants`` from :func:`adam_shrink_constants`.

    With ``D = sqrt(v) / sqrt(1 - beta_2^t) + epsilon`` (``1 / scale``),
    the drift moves ``x = w - w0`` to ``x' = x - P m / D`` (``P = lr
    sum_s r^s / (1 - beta_1^t)``), and the L2 step to ``x' / (1 + l2 dlam
    / D)``: both are ``(x D - P m) / (D + l2 dlam)``. The L2 step moves
    ``|x'|`` by ``|shrunk| l2 dlam / D``, more than the bound ``dlam``
    exactly when ``|shrunk| l2 > D`` (then ``x'`` is taken ``dlam`` toward
    zero). Scalars in, one write each out: no branch over the arrays (see
    prefetch.py)."""
    inv_bias_1, inv_sqrt_bias_2, v_slot, v_keep, _ = constants
    m = state[i, 0]
    v = max(state[i, int(v_slot)], state[i, 1]) * v_keep
    denominator = np.sqrt(v) * inv_sqrt_bias_2 + hyper[2]
    drift = lr * inv_bias_1 * table[k, 2] * m
    shrunk = ((theta[i] - w0) * denominator - drift) / (denominator + l2 * dlam)
    if abs(shrunk) * l2 > denominator:
        drifted = shrunk + shrunk * l2 * dlam / denominator
        shrunk = drifted - dlam if drifted > 0.0 else drifted + dlam
    theta[i] = w0 + shrunk
    state[i, 0] = m * table[k, 0]
    state[i, 1] *= table[k, 1]


@njit(**NJIT_INLINE)
def adam_step_skip_shrink(theta, grad, state, i, w0, hyper, table, k, lr, dlam, l2,
                          constants, lr_bias_s, inv_sqrt_bias_s):
    """The update of an earlier step ``s`` (gradient ``grad[i]``, to which
    the L2 term is added as in the update; ``lr_bias_s = lr_s / (1 -
    beta_1^s)`` and ``inv_sqrt_bias_s = 1 / sqrt(1 - beta_2^s)``), then
    :func:`adam_skip_shrink` over the ``k >= 0`` steps skipped after it,
    with one square root and one division for both: the lazy kernel defers
    a column's update to its next catch-up. Row 0 of ``table`` must be ``1,
    1, 0`` (no skip). ``grad[i]`` is cleared.

    The update takes ``x = w - w0`` to ``x - P m / D_s`` (``P =
    lr_bias_s``, ``D_s = sqrt(v_hat) inv_sqrt_bias_s + epsilon``), the skip
    that to ``(x_s D - drift) / (D + l2 dlam)`` with ``D`` the same
    ``sqrt(v_hat)`` under step ``t``'s bias term (:func:`adam_skip_shrink`,
    whose ``constants`` these are): together ``((x D_s - P m) D - drift
    D_s) / (D_s (D + l2 dlam))``. AMSGrad's running maximum is kept without
    a branch (its slot is 2, else 1: ``v`` itself, whose old value then
    weighs 0 and whose new value the skip's decay overwrites). Reading the
    slot before ``v`` is stored keeps a store and its reload off the chain
    to the square root."""
    inv_bias_1, inv_sqrt_bias_2, v_slot, v_keep, ams_keep = constants
    beta_1 = hyper[0]
    beta_2 = hyper[1]
    x = theta[i] - w0
    g = grad[i] + l2 * x
    grad[i] = 0.0
    m = beta_1 * state[i, 0] + (1.0 - beta_1) * g
    v = beta_2 * state[i, 1] + (1.0 - beta_2) * g * g
    slot = int(v_slot)
    v_hat = max(state[i, slot] * ams_keep, v)  # v >= 0
    state[i, slot] = v_hat
    root = np.sqrt(v_hat)
    denominator_s = root * inv_sqrt_bias_s + hyper[2]
    denominator = root * v_keep * inv_sqrt_bias_2 + hyper[2]
    drift = lr * inv_bias_1 * table[k, 2] * m
    shrunk = (((x * denominator_s - lr_bias_s * m) * denominator - drift * denominator_s)
              / (denominator_s * (denominator + l2 * dlam)))
    if abs(shrunk) * l2 > denominator:  # the L2 step's bound, as adam_skip_shrink
        drifted = shrunk * (denominator + l2 * dlam) / denominator
        shrunk = drifted - dlam if drifted > 0.0 else drifted + dlam
    theta[i] = w0 + shrunk
    state[i, 0] = m * table[k, 0]
    state[i, 1] = v * table[k, 1]


class Adam(BaseSolver):
    r"""Adam (Kingma & Ba, 2015) and AMSGrad, PyTorch's formulation.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ if amsgrad else } v_t \\
        w_t &= w_{t-1} - \frac{\eta_t}{1 - \beta_1^t} \,
               \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    as ``torch.optim.Adam``: ``epsilon`` is added after the bias-corrected
    square root, and AMSGrad keeps the maximum of the uncorrected ``v``.

    ``eta0="auto"`` means 0.01.

    Parameters
    ----------
    beta_1 : float in [0, 1), default=0.9
    beta_2 : float in [0, 1), default=0.999
    epsilon : float > 0, default=1e-8
    amsgrad : bool, default=False
    """

    _scale_free = True
    _code = 4
    update = staticmethod(adam_update)
    _parameter_constraints = {
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "amsgrad": ["boolean"],
    }

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=False):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    @property
    def n_slots(self):
        # m and v, and AMSGrad's running maximum of v only when it is used:
        # a third of the state's memory (and of its copy at every
        # partial_fit) otherwise
        return 3 if self.amsgrad else 2

    def hyper(self):
        return np.array(
            [self.beta_1, self.beta_2, self.epsilon, float(self.amsgrad)],
            dtype=np.float64,
        )
