"""Integer-code dispatch to the built-in update rules.

Built-in solvers are reached through ``update_range(code, None, ...)`` rather
than by passing their function to the epoch kernel: a cached kernel that receives
a jitted function as an argument recompiles in every new process, while an
integer code keeps the kernel loadable from Numba's on-disk cache.
"""

from numba import njit

from ..solvers._adagrad import adagrad_update
from ..solvers._adam import adam_update
from ..solvers._momentum import momentum_update
from ..solvers._rmsprop import rmsprop_update
from ..solvers._sgd import sgd_update
from ._config import NJIT_INLINE

SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM = 0, 1, 2, 3, 4


@njit(**NJIT_INLINE)
def _finish(theta, grad, i, scale, lr, l1):
    # the L1 proximal step (soft-thresholding, scaled like the update), then
    # clear the gradient slot for the next batch
    grad[i] = 0.0
    if l1 > 0.0:
        threshold = lr * scale * l1
        w = theta[i]
        theta[i] = w - threshold if w > threshold else (
            w + threshold if w < -threshold else 0.0)


@njit(**NJIT_INLINE)
def update_range(code, update, theta, grad, state, lo, hi, hyper, t, lr, l2, l1):
    """Update coordinates ``lo:hi`` from ``grad``, which is then zeroed.

    The L2 term ``l2 * theta`` is added to the gradient (as PyTorch's
    ``weight_decay``), the rule is applied, then the L1 proximal step.
    ``update`` is None for built-in rules, chosen by ``code`` once per call
    so that each coordinate loop is branch-free and vectorisable.
    """
    if update is not None:
        for i in range(lo, hi):
            grad[i] += l2 * theta[i]
            _finish(theta, grad, i, update(theta, grad, state, i, hyper, t, lr), lr, l1)
    elif code == SGD:
        for i in range(lo, hi):
            grad[i] += l2 * theta[i]
            _finish(theta, grad, i, sgd_update(theta, grad, state, i, hyper, t, lr), lr, l1)
    elif code == ADAM:
        for i in range(lo, hi):
            grad[i] += l2 * theta[i]
            _finish(theta, grad, i, adam_update(theta, grad, state, i, hyper, t, lr), lr, l1)
    elif code == MOMENTUM:
        for i in range(lo, hi):
            grad[i] += l2 * theta[i]
            _finish(theta, grad, i, momentum_update(theta, grad, state, i, hyper, t, lr),
                    lr, l1)
    elif code == ADAGRAD:
        for i in range(lo, hi):
            grad[i] += l2 * theta[i]
            _finish(theta, grad, i, adagrad_update(theta, grad, state, i, hyper, t, lr),
                    lr, l1)
    else:
        for i in range(lo, hi):
            grad[i] += l2 * theta[i]
            _finish(theta, grad, i, rmsprop_update(theta, grad, state, i, hyper, t, lr),
                    lr, l1)
