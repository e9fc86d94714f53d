"""GDRegressor: linear regression by gradient descent."""

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

from ._base import BaseGD
from ._docstrings import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from ._losses import REGRESSION_LOSSES


class GDRegressor(RegressorMixin, BaseGD):
    __doc__ = (
        """Linear regression trained by (mini-batch / full-batch) gradient descent.

    Minimises the weighted mean loss plus ``alpha`` times the penalty, with any
    update rule of :mod:`skgd.solvers`. ``y`` may be 2-D: every target is fitted
    at once (one output per column).

    Parameters
    ----------
    loss : {"squared_error", "huber", "epsilon_insensitive", \\
"squared_epsilon_insensitive"}, default="squared_error"
        ``squared_error`` is ``0.5 * (y - p)^2`` (ridge regression with the
        L2 penalty); ``huber`` is quadratic within ``epsilon`` and linear
        beyond; the epsilon-insensitive losses ignore errors below
        ``epsilon`` (linear SVR).

    epsilon : float >= 0, default=0.1
        Width used by the huber and epsilon-insensitive losses.
"""
        + COMMON_PARAMETERS
        + """
    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : ndarray of shape (1,) or (n_targets,)
"""
        + COMMON_ATTRIBUTES
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgd import GDRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(StandardScaler(), GDRegressor(random_state=0))
    >>> reg.fit(X, y).score(X, y) > 0.5
    True
    """
    )

    _is_classifier = False
    _multi_output = True
    _parameter_constraints = {
        **BaseGD._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        epsilon=0.1,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        fit_intercept=True,
        solver="adam",
        batch_size=32,
        learning_rate="adaptive",
        eta0="auto",
        power_t=0.25,
        max_iter=1000,
        tol=1e-3,
        n_iter_no_change=5,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        average=False,
        warm_start=False,
        penalty_reference=None,
        freeze_features=None,
        freeze_intercept=False,
        random_state=None,
        verbose=0,
        n_jobs=None,
    ):
        self.loss = loss
        self.epsilon = epsilon
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.average = average
        self.warm_start = warm_start
        self.penalty_reference = penalty_reference
        self.freeze_features = freeze_features
        self.freeze_intercept = freeze_intercept
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model by gradient descent, up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        coef_init : array-like of shape (n_features,) or (n_targets, n_features)
            Initial coefficients; overrides ``warm_start``.
        intercept_init : array-like of shape (1,) or (n_targets,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit(X, y, coef_init, intercept_init, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over the given rows; solver state and ``t_`` carry over.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._partial_fit(X, y, None, sample_weight)

    def predict(self, X):
        """Predicted values, shaped like the ``y`` the model was fitted on.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        scores = self._decision(X)
        return scores if self._y_2d else scores[:, 0]

    # ---- BaseGD hooks ----------------------------------------------------
    def _encode(self, y, classes, reset, dtype, partial, soft=None):
        try:
            with np.errstate(over="ignore"):  # checked just below
                Y = np.ascontiguousarray(y.reshape(y.shape[0], -1), dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"GDRegressor needs numeric targets; y has dtype {y.dtype} ({exc})."
            ) from exc
        # squared errors of larger targets overflow: every step would be inf
        if not np.all(np.abs(Y) < np.sqrt(np.finfo(dtype).max)):
            raise ValueError(
                f"y has values too large to train on in {np.dtype(dtype)} "
                f"(largest |y| = {np.max(np.abs(y.astype(np.float64))):.3g}): "
                "their squares overflow. Scale the targets, e.g. with "
                "TransformedTargetRegressor(regressor, transformer=StandardScaler())."
            )
        if not reset and Y.shape[1] != np.atleast_2d(self.coef_).shape[0]:
            raise ValueError(
                f"y has {Y.shape[1]} target(s) but the model was fitted on "
                f"{np.atleast_2d(self.coef_).shape[0]}."
            )
        # a stream keeps the output shape its first call set: a later chunk's
        # y of shape (n, 1) for a 1-D model (or 1-D for (n, 1)) changes nothing
        return Y, {"_y_2d": y.ndim == 2 if reset else self._y_2d}

    def _start_intercept(self, Y, sw):
        # the optimal intercept of the zero-coefficient model: without it,
        # scale-free solvers (Adam moves each weight ~eta per step) need
        # thousands of steps just to reach the mean of unscaled targets
        return np.average(Y, axis=0, weights=sw)

    def _target_scale(self, Y, sw):
        # Adam, RMSprop and AdaGrad move each coefficient by about eta a
        # step whatever the gradient's scale: on targets of standard
        # deviation s the coefficients are s times larger, and so the steps
        # (the fit of c * y is then c times the fit of y, up to epsilon)
        # (a first partial_fit chunk of one row, or constant targets, has no
        # spread: then their root mean square is the only scale at hand)
        mean = np.average(Y, axis=0, weights=sw)
        variance = np.average((Y - mean) ** 2, axis=0, weights=sw)
        for spread in (variance, np.average(Y ** 2, axis=0, weights=sw)):
            scale = float(np.sqrt(np.mean(spread, dtype=np.float64)))
            if 0.0 < scale < np.inf:
                return scale
        return 1.0

    def _sample_weight(self, y, sample_weight, X, encoding, partial, soft=None):
        # given weights stay float64 until BaseGD rescales them into X's dtype
        return _check_sample_weight(
            sample_weight, X, ensure_non_negative=True,
            dtype=X.dtype if sample_weight is None else np.float64)

    def _loss_code_param(self, n_outputs):
        code, param = REGRESSION_LOSSES[self.loss]
        return code, (float(self.epsilon) if param == "epsilon" else 0.0)

    def _score_theta(self, theta, encoding, X, y, sample_weight):
        k = 1 if y.ndim == 1 else y.shape[1]
        pred = self._theta_decision(theta, X, k)
        # imported here: sklearn.metrics is ~0.1 s of skgd's import time
        from sklearn.metrics import r2_score

        return r2_score(y, pred if y.ndim == 2 else pred[:, 0],
                        sample_weight=sample_weight)

    def _publish(self, theta, n_features):
        W = theta.reshape(-1, n_features + 1)
        self.coef_ = W[:, :n_features].copy()
        self.intercept_ = W[:, n_features].copy()
        if not self._y_2d:
            self.coef_ = self.coef_[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
