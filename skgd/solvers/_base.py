"""The solver contract: a hyper-parameter container plus a Numba update.

A solver is a scikit-learn style parameter object (``get_params``,
``set_params``, ``clone``), so ``solver__beta_1`` works in a grid search. The
numbers it needs at run time are handed to the compiled kernels as a float64
array (:meth:`BaseSolver.hyper`); its per-coordinate memory (momentum buffer,
moment estimates, ...) is an ``(n_params, n_slots)`` array owned by the
estimator, so ``partial_fit``, pickling and cloning carry it exactly and no
closure ever holds state.
"""

import numpy as np
from sklearn.base import BaseEstimator


class BaseSolver(BaseEstimator):
    """Base class of the update rules; subclass it to add a new one.

    A subclass sets

    ``n_slots`` : int
        Number of state values kept per coefficient (0 for plain SGD, 1 for
        momentum, ...; a property where it depends on the hyper-parameters,
        as Adam's 2 or 3 with ``amsgrad``). They start at zero.
    ``update`` : ``staticmethod`` wrapping a ``numba.njit`` function
        ``update(theta, grad, state, i, hyper, t, lr) -> float`` that updates
        coordinate ``i`` in place: ``theta[i]`` (the coefficient), and
        ``state[i, :n_slots]`` (its state values; with an L1 penalty two
        more columns follow, the cumulative penalty's), from ``grad[i]`` (the
        gradient of the objective, L2 term included), the step size ``lr``,
        the 1-based update count ``t`` and the hyper-parameters returned by
        :meth:`hyper` (inside the kernels a tuple of 8 floats, zero-padded,
        so index it like an array; at most 8 hyper-parameters). On sparse
        input the three arrays may be strided views into one array: index
        them only. It returns the coordinate's effective step multiplier
        (1.0 for SGD, ``1 / (sqrt(v) + eps)`` for Adam, ...), which scales
        the L1 proximal step so that L1 penalties still give exact zeros.

    and overrides :meth:`hyper` when it has hyper-parameters. Built-in rules
    also carry an integer ``_code`` through which the cached kernels dispatch
    to them; a user's rule (``_code = None``) runs in a kernel that takes its
    ``update`` as an argument, which Numba compiles once per process (about a
    second) rather than loading from its on-disk cache.

    Examples
    --------
    A "sign SGD" rule, ``w <- w - lr * sign(g)``:

    >>> import numba
    >>> import numpy as np
    >>> from skgd.solvers import BaseSolver
    >>> @numba.njit
    ... def sign_update(theta, grad, state, i, hyper, t, lr):
    ...     theta[i] -= lr * np.sign(grad[i])
    ...     return 1.0
    >>> class SignSGD(BaseSolver):
    ...     n_slots = 0
    ...     update = staticmethod(sign_update)
    >>> from skgd import GDRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> reg = GDRegressor(solver=SignSGD(), learning_rate="constant", eta0=0.01,
    ...                   alpha=0.0, max_iter=500, tol=None, batch_size="full")
    >>> reg.fit(X, 2 * X.ravel() + 1).coef_.round(1)
    array([2.])
    """

    n_slots = 0
    _code = None
    _parameter_constraints: dict = {}
    # the built-in adaptive rules (Adam, RMSprop, AdaGrad) move each
    # coordinate by about eta a step whatever the gradient's scale: with
    # eta0="auto", GDRegressor scales their base rate by the targets'
    # standard deviation. False for plain SGD and momentum, and for custom
    # rules (their auto_eta0 decides)
    _scale_free = False

    def auto_eta0(self, safe_step):
        """Base step size used when ``eta0="auto"``.

        ``safe_step`` is a plain-SGD step that cannot diverge on the data at
        hand: ``1 / L`` for the squared losses, ``L`` bounding the curvature
        of any one row's loss (loss smoothness x largest squared row norm +
        ``alpha``, as scikit-learn's SAG); 0.3 for losses with bounded
        derivatives (log, hinge, Huber, ...), which cannot overflow. Scale-
        free rules (AdaGrad, RMSprop, Adam and most custom rules) ignore it
        and return a fixed default.
        """
        return 0.01

    def hyper(self):
        """Hyper-parameters as a float64 array (at most 8), in the order
        ``update`` reads them; it receives them as a tuple of 8 floats."""
        return np.zeros(0, dtype=np.float64)

    def init_state(self, n_params, dtype):
        """Fresh (all-zero) state for ``n_params`` coefficients."""
        return np.zeros((n_params, self.n_slots), dtype=dtype)

    def _validate(self):
        if not callable(getattr(type(self), "update", None)):
            raise TypeError(
                f"{type(self).__name__} must define `update` as a staticmethod "
                "wrapping a numba.njit function; see skgd.solvers.BaseSolver."
            )
        self._validate_params()
