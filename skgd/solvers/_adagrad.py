"""AdaGrad."""

from numbers import Real

import numpy as np
from numba import njit
from sklearn.utils._param_validation import Interval

from .._kernels._config import NJIT_INLINE
from ._base import BaseSolver


@njit(**NJIT_INLINE)
def adagrad_update(theta, grad, state, i, hyper, t, lr):
    g = grad[i]
    s = state[i, 0] + g * g
    state[i, 0] = s
    scale = 1.0 / (np.sqrt(s) + hyper[0])
    theta[i] -= lr * g * scale
    return scale


@njit(**NJIT_INLINE)
def adagrad_skip(theta, state, i, hyper, table, k, lr):
    """``k`` steps without gradient change nothing (exact)."""
    return 1.0 / (np.sqrt(state[i, 0]) + hyper[0])


class AdaGrad(BaseSolver):
    r"""AdaGrad (Duchi, Hazan & Singer, 2011), PyTorch's formulation.

    .. math::

        s_t &= s_{t-1} + g_t^2, \qquad s_0 = 0 \\
        w_t &= w_{t-1} - \eta_t \, \frac{g_t}{\sqrt{s_t} + \epsilon}

    as ``torch.optim.Adagrad`` with ``lr_decay=0`` and
    ``initial_accumulator_value=0``; ``epsilon`` sits outside the square root.
    ``eta0="auto"`` means 0.1.

    Parameters
    ----------
    epsilon : float > 0, default=1e-8
    """

    n_slots = 1
    _scale_free = True
    _code = 2
    update = staticmethod(adagrad_update)
    _parameter_constraints = {"epsilon": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, epsilon=1e-8):
        self.epsilon = epsilon

    def auto_eta0(self, safe_step):
        """0.1: AdaGrad's steps shrink as 1/sqrt(t), so it needs a larger
        base rate than Adam to travel as far."""
        return 0.1

    def hyper(self):
        return np.array([self.epsilon], dtype=np.float64)
