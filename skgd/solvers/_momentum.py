"""Heavy-ball and Nesterov momentum."""

from numbers import Real

import numpy as np
from numba import njit
from sklearn.utils._param_validation import Interval

from .._kernels._config import NJIT_INLINE
from ._base import BaseSolver


@njit(**NJIT_INLINE)
def momentum_update(theta, grad, state, i, hyper, t, lr):
    mu = hyper[0]
    g = grad[i]
    buf = mu * state[i, 0] + g
    state[i, 0] = buf
    if hyper[1] != 0.0:  # Nesterov
        g = g + mu * buf
    else:
        g = buf
    theta[i] -= lr * g
    # at a fixed point the velocity is g / (1 - mu): that is the effective
    # step, so the L1 threshold scales with it (zeros exactly when |g| <= l1)
    return 1.0 / (1.0 - mu)


@njit(**NJIT_INLINE)
def momentum_skip_table(hyper, table, k):
    """Row ``k`` of the table :func:`momentum_skip` reads: ``mu^k`` and
    ``sum_{s=1..k} mu^s``."""
    mu = hyper[0]
    mu_k = mu ** float(k)
    table[k, 0] = mu_k
    table[k, 1] = mu * (1.0 - mu_k) / (1.0 - mu)


@njit(**NJIT_INLINE)
def momentum_skip(theta, state, i, hyper, table, k, lr):
    """``k`` steps without gradient: the velocity decays by ``mu^k`` and the
    weight drifts by ``lr * b * sum_{s=1..k} mu^s`` (times ``mu`` more for
    Nesterov), exact for a constant ``lr`` (the mean step otherwise); the
    powers come from row ``k`` of ``table`` (:func:`momentum_skip_table`)."""
    drift = lr * state[i, 0] * table[k, 1]
    theta[i] -= drift * hyper[0] if hyper[1] != 0.0 else drift
    state[i, 0] *= table[k, 0]
    return 1.0 / (1.0 - hyper[0])


@njit(**NJIT_INLINE)
def momentum_shrink_constants(hyper, t):
    """What :func:`momentum_skip_shrink` needs, once a call: the drift's
    factor (``mu`` for Nesterov, else 1) and the multiplier ``1 / (1 -
    mu)`` of the L2 step (padded to :func:`adam_shrink_constants`'s
    length: one tuple type for the catch-up loops)."""
    mu = hyper[0]
    return mu if hyper[1] != 0.0 else 1.0, 1.0 / (1.0 - mu), 0.0, 0.0, 0.0


@njit(**NJIT_INLINE)
def momentum_skip_shrink(theta, state, i, w0, hyper, table, k, lr, dlam, l2, constants):
    """:func:`momentum_skip` and then the catch-up's proximal L2 step ``x /
    (1 + l2 dlam / (1 - mu))`` (:func:`skgd._kernels.updates.catch_up`),
    for a catch-up without an L1 penalty; ``constants`` from
    :func:`momentum_shrink_constants`. Scalars in, one write each out."""
    nesterov_factor, scale = constants[0], constants[1]
    b = state[i, 0]
    drifted = theta[i] - w0 - lr * b * table[k, 1] * nesterov_factor
    theta[i] = w0 + drifted / (1.0 + l2 * scale * dlam)
    state[i, 0] = b * table[k, 0]


class Momentum(BaseSolver):
    r"""SGD with heavy-ball or Nesterov momentum (PyTorch's formulation).

    .. math::

        b_t &= \mu b_{t-1} + g_t, \qquad b_0 = 0 \\
        w_t &= w_{t-1} - \eta_t \, b_t
            && \text{(heavy ball)} \\
        w_t &= w_{t-1} - \eta_t \, (g_t + \mu b_t)
            && \text{(Nesterov)}

    as ``torch.optim.SGD(momentum=mu, dampening=0, nesterov=...)``: the step
    size multiplies outside the buffer, so changing ``eta`` mid-training does
    not rescale the stored velocity. With ``eta0="auto"`` the base step is
    ``(1 - momentum)`` times SGD's (see :class:`SGD`).

    Parameters
    ----------
    momentum : float in [0, 1), default=0.9
        The decay ``mu`` of the velocity buffer.
    nesterov : bool, default=False
        Use Nesterov's look-ahead form.
    """

    n_slots = 1
    _code = 1
    update = staticmethod(momentum_update)
    _parameter_constraints = {
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
    }

    def __init__(self, momentum=0.9, nesterov=False):
        self.momentum = momentum
        self.nesterov = nesterov

    def auto_eta0(self, safe_step):
        """``(1 - momentum) * safe_step``: the velocity sums about
        ``1 / (1 - momentum)`` gradients, so the effective step is SGD's."""
        return (1.0 - self.momentum) * safe_step

    def hyper(self):
        return np.array([self.momentum, float(self.nesterov)], dtype=np.float64)
