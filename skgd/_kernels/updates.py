"""Integer-code dispatch to the built-in update rules.

Built-in solvers are reached through ``builtin_update(code, ...)`` rather than
by passing their function to the epoch kernel: a cached kernel that receives
a jitted function as an argument recompiles in every new process, while an
integer code keeps the kernel loadable from Numba's on-disk cache.
"""

from numba import njit

from ..solvers._adagrad import adagrad_update
from ..solvers._adam import adam_update
from ..solvers._momentum import momentum_update
from ..solvers._rmsprop import rmsprop_update
from ..solvers._sgd import sgd_update
from ._config import NJIT

SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM = 0, 1, 2, 3, 4


@njit(**NJIT)
def builtin_update(code, theta, grad, state, i, hyper, t, lr):
    if code == ADAM:
        return adam_update(theta, grad, state, i, hyper, t, lr)
    if code == SGD:
        return sgd_update(theta, grad, state, i, hyper, t, lr)
    if code == MOMENTUM:
        return momentum_update(theta, grad, state, i, hyper, t, lr)
    if code == ADAGRAD:
        return adagrad_update(theta, grad, state, i, hyper, t, lr)
    return rmsprop_update(theta, grad, state, i, hyper, t, lr)
