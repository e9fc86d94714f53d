"""Update rules for :class:`skgd.GDClassifier` and :class:`skgd.GDRegressor`.

Each rule is a parameter object with a Numba-compiled per-coordinate update;
see :class:`BaseSolver` to write a new one.
"""

from ._adagrad import AdaGrad
from ._adam import Adam
from ._base import BaseSolver
from ._momentum import Momentum
from ._rmsprop import RMSprop
from ._sgd import SGD

# name -> factory of the default-configured solver
SOLVERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": lambda: Momentum(nesterov=True),
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def get_solver(solver):
    """A solver object from a name or an object (returned as is)."""
    if isinstance(solver, str):
        return SOLVERS[solver]()
    return solver


__all__ = ["BaseSolver", "SGD", "Momentum", "AdaGrad", "RMSprop", "Adam", "SOLVERS"]
