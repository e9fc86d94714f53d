"""DistillationClassifier: a GDClassifier student taught by any classifier."""

from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._classifier import GDClassifier

# probabilities are clipped here before their log (a teacher's exact zeros)
_TINY = 1e-12


class DistillationClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Knowledge distillation into a linear :class:`GDClassifier` student.

    The teacher (any classifier with ``predict_proba`` or
    ``decision_function``, fitted here or given pre-fitted) labels the
    training rows with temperature-softened probabilities ``p^T``; the
    student is fitted by :meth:`GDClassifier.fit_soft` on the targets

    .. math::

        q_i = (1 - \\alpha)\\, \\mathrm{onehot}(y_i) + \\alpha\\, p^T(x_i),
        \\qquad p^T(x) = \\mathrm{softmax}(z(x) / T),

    with ``z`` the teacher's log-probabilities (or, without
    ``predict_proba``, its decision function; ``[0, f(x)]`` for a binary
    one). The cross-entropy is linear in its targets, so this is Hinton et
    al.'s (2015) loss ``(1 - alpha) CE(y) + alpha CE(p^T)`` (without their
    ``T**2`` factor, which only rescales the teacher's gradient; here the
    student itself has temperature 1). ``alpha=0`` is training on the hard
    labels alone; ``alpha=1``, ``temperature=1`` is learning the teacher's
    probabilities.

    Parameters
    ----------
    teacher : classifier
        Fitted on ``(X, y)`` in :meth:`fit` (a clone), unless ``prefit``.
    student : GDClassifier or None, default=None
        The student's settings (cloned; ``loss`` must be "log_loss");
        ``None`` means ``GDClassifier()``.
    temperature : float > 0, default=1.0
        Softens (> 1) or sharpens (< 1) the teacher's probabilities.
    alpha : float in [0, 1], default=0.5
        Weight of the teacher's targets; ``1 - alpha`` goes to the labels.
    prefit : bool, default=False
        Use ``teacher`` as given (already fitted) instead of fitting a clone.
    unlabeled : int, str or None, default=None
        A label that marks unlabeled rows (``-1`` in scikit-learn's
        semi-supervised estimators): the teacher is fitted without them and
        the student learns the teacher's targets alone there, so a large
        unlabeled transfer set carries the teacher's knowledge to the
        student. ``None``: every row is labeled.

    Attributes
    ----------
    teacher_ : the fitted teacher
    student_ : GDClassifier, the fitted student (predictions come from it)
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgd import DistillationClassifier, GDClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), DistillationClassifier(
    ...     HistGradientBoostingClassifier(random_state=0),
    ...     GDClassifier(random_state=0), temperature=2.0, alpha=0.5))
    >>> model.fit(X, y).score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        "teacher": [HasMethods(["fit", "predict_proba"]),
                    HasMethods(["fit", "decision_function"])],
        "student": [HasMethods(["fit_soft"]), None],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "prefit": ["boolean"],
        "unlabeled": [Integral, str, None],
    }

    def __init__(self, teacher, student=None, *, temperature=1.0, alpha=0.5,
                 prefit=False, unlabeled=None):
        self.teacher = teacher
        self.student = student
        self.temperature = temperature
        self.alpha = alpha
        self.prefit = prefit
        self.unlabeled = unlabeled

    def set_params(self, **params):
        # student=None means GDClassifier(): make it one, so that
        # "student__eta0" (in a grid search, say) reaches its parameters
        if (self.student is None and "student" not in params
                and any(key.startswith("student__") for key in params)):
            self.student = GDClassifier()
        return super().set_params(**params)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the teacher (unless ``prefit``), then the student on the
        mixed targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the student, and to the teacher's fit when given.

        Returns
        -------
        self
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        labeled = (np.ones(y.shape[0], dtype=bool) if self.unlabeled is None
                   else y != self.unlabeled)
        if self.prefit:
            check_is_fitted(self.teacher)
            teacher = self.teacher
        else:
            teacher = clone(self.teacher)
            rows = np.flatnonzero(labeled)
            X_labeled = X if labeled.all() else _safe_indexing(X, rows)
            if sample_weight is None:
                teacher.fit(X_labeled, y[rows])
            else:
                teacher.fit(X_labeled, y[rows],
                            sample_weight=np.asarray(sample_weight)[rows])
        classes = np.asarray(teacher.classes_)
        unseen = np.setdiff1d(np.unique(y[labeled]), classes)
        if unseen.size:
            raise ValueError(
                f"y has labels {unseen!r} that the teacher does not know "
                f"(its classes_ are {classes!r})."
            )
        soft = self.soft_targets(X, teacher)
        targets = self.alpha * soft
        hard = np.zeros_like(targets)
        hard[np.flatnonzero(labeled), np.searchsorted(classes, y[labeled])] = 1.0
        targets += (1.0 - self.alpha) * hard
        targets[~labeled] = soft[~labeled]
        student = GDClassifier() if self.student is None else clone(self.student)
        student.fit_soft(X, targets, classes=classes, sample_weight=sample_weight)
        self.teacher_, self.student_ = teacher, student
        self.classes_ = student.classes_
        self.n_features_in_ = student.n_features_in_
        if hasattr(student, "feature_names_in_"):
            self.feature_names_in_ = student.feature_names_in_
        return self

    def soft_targets(self, X, teacher=None):
        """The teacher's probabilities at ``temperature``, ``(n_samples,
        n_classes)`` in the order of its ``classes_``."""
        teacher = self.teacher_ if teacher is None else teacher
        temperature = float(self.temperature)
        if hasattr(teacher, "predict_proba"):
            proba = np.asarray(teacher.predict_proba(X), dtype=np.float64)
            if temperature == 1.0:  # as given (fit_soft checks the rows)
                return proba
            logits = np.log(np.clip(proba, _TINY, None))
        else:
            scores = np.asarray(teacher.decision_function(X), dtype=np.float64)
            logits = (np.column_stack([np.zeros_like(scores), scores])
                      if scores.ndim == 1 else scores)
        return softmax(logits / temperature, axis=1)

    def predict(self, X):
        """Class labels predicted by the student."""
        check_is_fitted(self)
        return self.student_.predict(X)

    def predict_proba(self, X):
        """The student's class probabilities."""
        check_is_fitted(self)
        return self.student_.predict_proba(X)

    def predict_log_proba(self, X):
        """Logarithm of the student's class probabilities."""
        check_is_fitted(self)
        return log_softmax(np.log(np.clip(self.student_.predict_proba(X), _TINY, None)),
                           axis=1)

    def decision_function(self, X):
        """The student's decision function."""
        check_is_fitted(self)
        return self.student_.decision_function(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
