"""RMSprop."""

from numbers import Real

import numpy as np
from numba import njit
from sklearn.utils._param_validation import Interval

from .._kernels._config import NJIT_INLINE
from ._base import BaseSolver


@njit(**NJIT_INLINE)
def rmsprop_update(theta, grad, state, i, hyper, t, lr):
    rho = hyper[0]
    g = grad[i]
    v = rho * state[i, 0] + (1.0 - rho) * g * g
    state[i, 0] = v
    scale = 1.0 / (np.sqrt(v) + hyper[1])
    theta[i] -= lr * g * scale
    return scale


@njit(**NJIT_INLINE)
def rmsprop_skip_table(hyper, table, k):
    """Row ``k`` of the table :func:`rmsprop_skip` reads: ``rho^k``."""
    table[k, 0] = hyper[0] ** float(k)


@njit(**NJIT_INLINE)
def rmsprop_skip(theta, state, i, hyper, table, k, lr):
    """``k`` steps without gradient decay ``v`` by ``rho^k`` (exact), read
    from row ``k`` of ``table`` (:func:`rmsprop_skip_table`)."""
    state[i, 0] *= table[k, 0]
    return 1.0 / (np.sqrt(state[i, 0]) + hyper[1])


@njit(**NJIT_INLINE)
def rmsprop_skip_shrink(theta, state, i, w0, hyper, table, k, lr, dlam, l2, constants):
    """:func:`rmsprop_skip` and then the catch-up's proximal L2 step with
    its bound (:func:`skgd._kernels.updates.catch_up`), for a catch-up
    without an L1 penalty, in one division: with ``D = sqrt(rho^k v) +
    epsilon`` (``1 / scale``), ``x / (1 + l2 dlam / D)`` is ``x (D / (D +
    l2 dlam))`` (exactly ``x`` without L2: ``D / D`` is 1), which moves
    ``|x|`` by more than the bound ``dlam`` exactly when ``|x| l2 > D + l2
    dlam``. ``constants`` is unused (the loops' common signature). Scalars
    in, one write each out."""
    v = state[i, 0] * table[k, 0]
    denominator = np.sqrt(v) + hyper[1]
    x = theta[i] - w0
    penalty = l2 * dlam
    shrunk = x * (denominator / (denominator + penalty))
    if abs(x) * l2 > denominator + penalty:
        shrunk = x - dlam if x > 0.0 else x + dlam
    theta[i] = w0 + shrunk
    state[i, 0] = v


class RMSprop(BaseSolver):
    r"""RMSprop (Tieleman & Hinton, 2012), PyTorch's formulation.

    .. math::

        v_t &= \rho v_{t-1} + (1 - \rho) g_t^2, \qquad v_0 = 0 \\
        w_t &= w_{t-1} - \eta_t \, \frac{g_t}{\sqrt{v_t} + \epsilon}

    as ``torch.optim.RMSprop(alpha=rho, centered=False, momentum=0)``
    (PyTorch calls ``rho`` ``alpha``; skgd keeps ``alpha`` for the penalty).

    ``eta0="auto"`` means 0.01.

    Parameters
    ----------
    rho : float in [0, 1), default=0.9
        Decay of the running mean of squared gradients.
    epsilon : float > 0, default=1e-8
    """

    n_slots = 1
    _scale_free = True
    _code = 3
    update = staticmethod(rmsprop_update)
    _parameter_constraints = {
        "rho": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, rho=0.9, epsilon=1e-8):
        self.rho = rho
        self.epsilon = epsilon

    def hyper(self):
        return np.array([self.rho, self.epsilon], dtype=np.float64)
