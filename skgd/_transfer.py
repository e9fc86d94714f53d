"""warm_start_from: a skgd estimator that continues from a fitted linear model."""

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from ._base import _Progress, _readonly
from ._classifier import GDClassifier
from ._losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES
from ._regressor import GDRegressor


def warm_start_from(estimator, **params):
    """A skgd estimator that starts where a fitted linear model stands.

    Returns a :class:`GDClassifier` (for a classifier) or :class:`GDRegressor`
    built with ``params`` and ``warm_start=True`` (unless ``params`` says
    otherwise), already fitted to ``estimator``'s ``coef_``, ``intercept_``
    (and ``classes_``): it predicts as ``estimator`` does, :meth:`fit` on
    new data continues training from those coefficients (the solver's
    moments, ``t_`` and the schedule start afresh), and :meth:`partial_fit`
    adapts it one chunk at a time. ``penalty_reference="init"`` then pulls
    toward the given model (L2-SP) and ``freeze_features`` keeps chosen
    coefficients at its values.

    Parameters
    ----------
    estimator : fitted linear model
        Anything with ``coef_`` and ``intercept_``: skgd's estimators,
        scikit-learn's ``SGDClassifier``, ``LogisticRegression``,
        ``LinearSVC``, ``RidgeClassifier``, ``Ridge``, ``SGDRegressor``, ...
        Binary classifiers have one row of coefficients (for ``classes_[1]``);
        multiclass ones one per class (a one-vs-rest model such as
        ``SGDClassifier`` then starts skgd's multinomial log-loss model from
        its per-class scores; a margin loss keeps one-vs-rest).
    **params
        Parameters of the returned estimator. ``loss`` defaults to the
        model's own ``loss`` when skgd has it (``SGDClassifier``,
        ``LinearSVC``...), else to the estimator's default.

    Returns
    -------
    GDClassifier or GDRegressor

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skgd import warm_start_from
    >>> X, y = load_iris(return_X_y=True)
    >>> pretrained = LogisticRegression(max_iter=1000).fit(X[::2], y[::2])
    >>> clf = warm_start_from(pretrained, eta0=1e-3, max_iter=5, random_state=0)
    >>> bool((clf.predict(X) == pretrained.predict(X)).all())
    True
    >>> clf = clf.fit(X[1::2], y[1::2])  # continues from the pretrained weights
    """
    check_is_fitted(estimator)
    if not (hasattr(estimator, "coef_") and hasattr(estimator, "intercept_")):
        raise TypeError(
            f"warm_start_from needs a fitted linear model with coef_ and intercept_; "
            f"{type(estimator).__name__} has none."
        )
    classifier = is_classifier(estimator)
    cls, losses = ((GDClassifier, CLASSIFICATION_LOSSES) if classifier
                   else (GDRegressor, REGRESSION_LOSSES))
    loss = getattr(estimator, "loss", None)
    if isinstance(loss, str) and loss in losses:
        params.setdefault("loss", loss)
    params.setdefault("warm_start", True)
    model = cls(**params)
    model._validate_params()

    coef = estimator.coef_
    coef = np.asarray(coef.toarray() if sp.issparse(coef) else coef, dtype=np.float64)
    k, d = np.atleast_2d(coef).shape
    intercept = np.zeros(k)
    intercept[:] = np.asarray(estimator.intercept_, dtype=np.float64).ravel()
    encoding = {}
    if classifier:
        classes = np.asarray(estimator.classes_)
        if k != (1 if classes.shape[0] == 2 else classes.shape[0]):
            raise ValueError(
                f"{type(estimator).__name__} has {k} row(s) of coefficients for "
                f"{classes.shape[0]} classes; expected one for two classes, else one "
                "per class."
            )
        encoding["classes_"] = classes
    else:
        encoding["_y_2d"] = coef.ndim == 2
    theta = np.column_stack([np.atleast_2d(coef), intercept]).ravel()
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"{type(estimator).__name__} has non-finite coefficients.")
    model.n_features_in_ = d
    if hasattr(estimator, "feature_names_in_"):
        model.feature_names_in_ = estimator.feature_names_in_
    # no data seen yet: empty solver state and eta, set up by the first call
    progress = _Progress(theta=theta, state=np.zeros((theta.shape[0], 0)),
                         avg=np.zeros(0), counters=np.zeros(3, dtype=np.int64),
                         eta=np.nan, epochs=0, loss_curve=[],
                         start=_readonly(theta.copy()))
    model._commit(progress, encoding, d)
    model._eta0_used = None  # partial_fit computes eta0 from its first chunk
    return model
