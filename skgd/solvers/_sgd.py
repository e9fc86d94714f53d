"""Plain stochastic gradient descent."""

from numba import njit

from .._kernels._config import NJIT_INLINE
from ._base import BaseSolver


@njit(**NJIT_INLINE)
def sgd_update(theta, grad, state, i, hyper, t, lr):
    theta[i] -= lr * grad[i]
    return 1.0


class SGD(BaseSolver):
    r"""Plain (stochastic) gradient descent.

    .. math:: w_t = w_{t-1} - \eta_t g_t

    as ``torch.optim.SGD`` with ``momentum=0``. With ``batch_size=1`` and
    ``learning_rate="constant"`` this is the algorithm of scikit-learn's
    ``SGDClassifier`` / ``SGDRegressor``.

    With ``eta0="auto"`` the base step is ``1 / L`` for the squared losses,
    ``L`` bounding the curvature of one row's loss (loss smoothness x largest
    squared row norm, plus ``alpha``: the step of scikit-learn's SAG), and
    0.3 for losses with bounded derivatives (see ``BaseSolver.auto_eta0``).
    """

    n_slots = 0
    _code = 0
    update = staticmethod(sgd_update)

    def auto_eta0(self, safe_step):
        """The safe step itself (``1 / L`` for the squared losses)."""
        return safe_step
