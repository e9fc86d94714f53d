"""GDClassifier: linear classification by gradient descent."""

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_array

from ._base import BaseGD
from ._kernels.losses import LOG, MULTINOMIAL
from ._losses import CLASSIFICATION_LOSSES
from ._docstrings import COMMON_PARAMETERS, COMMON_ATTRIBUTES

PROBABILISTIC_LOSSES = ("log_loss", "modified_huber")


def _checked_classes(classes):
    """``classes`` of partial_fit as a 1-D array of labels, or a clear error
    (a scalar, a 2-D array or a NaN label is a mistake, not a label set)."""
    classes = np.asarray(classes)
    if classes.ndim != 1:
        raise ValueError(
            f"classes must be a 1-D array-like of labels; got shape {classes.shape}."
        )
    if classes.dtype.kind in "fc" and not np.all(np.isfinite(classes)):
        raise ValueError(f"classes must not contain NaN or inf; got {classes!r}.")
    return classes


def _sorted_labels(y):
    """``np.unique(y)``, by counting for non-negative integer labels below
    ``4 * len(y) + 1024`` (200,000 binary labels: 0.34 ms against 2.6 ms
    to hash them)."""
    if (y.size and y.dtype.kind in "iu" and np.can_cast(y.dtype, np.intp)
            and y.min() >= 0 and y.max() < 4 * y.size + 1024):
        return np.flatnonzero(np.bincount(y)).astype(y.dtype)
    return np.unique(y)


def _check_soft_targets(proba, classes):
    """(sorted classes, float64 proba with columns in that order)."""
    proba = check_array(proba, ensure_2d=False, dtype=np.float64,
                        input_name="proba")
    if proba.ndim == 1:
        proba = np.column_stack([1.0 - proba, proba])
    if proba.ndim != 2 or proba.shape[1] < 2:
        raise ValueError(
            f"proba must have shape (n_samples, n_classes) with n_classes >= 2, "
            f"or (n_samples,) for two classes; got {proba.shape}."
        )
    classes = np.arange(proba.shape[1]) if classes is None else np.asarray(classes)
    if classes.ndim != 1 or classes.shape[0] != proba.shape[1]:
        raise ValueError(
            f"classes has {classes.size} labels but proba has {proba.shape[1]} "
            "columns; they must match."
        )
    if np.unique(classes).shape[0] != classes.shape[0]:
        raise ValueError(f"classes has repeated labels: {classes!r}.")
    row_sums = proba.sum(axis=1)
    if np.any(proba < 0) or not np.allclose(row_sums, 1.0, rtol=0, atol=1e-6):
        raise ValueError(
            "proba must hold probability rows: non-negative values summing to 1 "
            f"(row sums range from {row_sums.min():.6g} to {row_sums.max():.6g})."
        )
    order = np.argsort(classes, kind="stable")
    return classes[order], proba[:, order] / row_sums[:, None]


class GDClassifier(ClassifierMixin, BaseGD):
    __doc__ = (
        """Linear classifier trained by (mini-batch / full-batch) gradient descent.

    Minimises the weighted mean loss plus ``alpha`` times the penalty,

    .. math::

        \\frac{\\sum_i s_i L(y_i, x_i^\\top W + b)}{\\sum_i s_i}
        + \\alpha \\left(\\tfrac{1 - \\rho}{2} \\|W\\|_2^2 + \\rho \\|W\\|_1\\right)

    (``rho`` = 0 for "l2", 1 for "l1", ``l1_ratio`` for "elasticnet"), with any
    update rule of :mod:`skgd.solvers` over mini-batches of ``batch_size`` rows.
    ``log_loss`` with three or more classes is the multinomial (softmax) model;
    the margin losses fit one-vs-rest.

    Parameters
    ----------
    loss : {"log_loss", "hinge", "squared_hinge", "modified_huber", \\
"perceptron"}, default="log_loss"
        The loss; "log_loss" is logistic regression (softmax for 3+ classes),
        "hinge" a linear SVM, "perceptron" the hinge with threshold 0.
"""
        + COMMON_PARAMETERS.replace(
            "    validation_fraction",
            """    class_weight : dict, "balanced" or None, default=None
        Weights ``{class_label: weight}`` multiplied into the sample weights;
        "balanced" uses ``n_samples / (n_classes * np.bincount(y))``
        (not available in ``partial_fit``).

    validation_fraction""",
        )
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
"""
        + COMMON_ATTRIBUTES
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgd import GDClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GDClassifier(random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    """
    )

    _is_classifier = True
    _multi_output = False
    _parameter_constraints = {
        **BaseGD._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES))],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        loss="log_loss",
        *,
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
        class_weight=None,
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
        self.class_weight = class_weight
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
        y : array-like of shape (n_samples,)
        coef_init : array-like of shape (n_classes, n_features), default=None
            Initial coefficients (``(n_features,)`` or ``(1, n_features)``
            for a binary problem); overrides ``warm_start``.
        intercept_init : array-like of shape (n_classes,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit(X, y, coef_init, intercept_init, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_soft(self, X, proba, classes=None, sample_weight=None, coef_init=None,
                 intercept_init=None):
        """Fit on soft targets: a probability distribution over the classes
        for each row, instead of one label (``loss="log_loss"`` only).

        Minimises the cross-entropy ``-sum_c q_ic log p_c(x_i)`` (weighted
        mean, plus the penalty) with ``q_i`` the row ``proba[i]``; one-hot rows
        give exactly :meth:`fit` on their labels. Every solver, batch size and
        input layout of :meth:`fit` works; the targets of knowledge
        distillation (see :class:`skgd.DistillationClassifier`) or of label
        smoothing are of this kind.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        proba : array-like of shape (n_samples, n_classes) or (n_samples,)
            Target probabilities, each row non-negative and summing to 1
            (rows are renormalised within 1e-6). A 1-D array is the
            probability of the second class of a binary problem.
        classes : array-like of shape (n_classes,), default=None
            The label of each column of ``proba``; default
            ``0..n_classes-1``. Columns are reordered to sorted ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            ``class_weight`` multiplies in each row's expected class weight.
        coef_init, intercept_init : as in :meth:`fit`

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from skgd import GDClassifier
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> proba = np.array([[0.9, 0.1], [0.7, 0.3], [0.3, 0.7], [0.1, 0.9]])
        >>> clf = GDClassifier(random_state=0).fit_soft(X, proba, classes=["a", "b"])
        >>> clf.predict([[-3.0], [3.0]]).tolist()
        ['a', 'b']
        """
        if self.loss != "log_loss":
            raise ValueError(
                f"fit_soft needs loss='log_loss' (cross-entropy on probability "
                f"targets); got loss={self.loss!r}."
            )
        classes, proba = _check_soft_targets(proba, classes)
        y = classes[np.argmax(proba, axis=1)]
        return self._fit(X, y, coef_init, intercept_init, sample_weight,
                         soft=(classes, proba))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit_soft(self, X, proba, classes=None, sample_weight=None):
        """:meth:`partial_fit` on soft targets (see :meth:`fit_soft`): one
        epoch over the given rows; solver state and ``t_`` carry over.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            The label of each column of ``proba``; default ``classes_`` once
            fitted, else ``0..n_classes-1``.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        if self.loss != "log_loss":
            raise ValueError(
                f"partial_fit_soft needs loss='log_loss'; got loss={self.loss!r}."
            )
        if self.class_weight == "balanced":
            raise ValueError("class_weight='balanced' is not supported for "
                             "partial_fit_soft; pass the weights as a dict.")
        if classes is None and hasattr(self, "classes_"):
            classes = self.classes_
        classes, proba = _check_soft_targets(proba, classes)
        y = classes[np.argmax(proba, axis=1)]
        return self._partial_fit(X, y, classes, sample_weight, soft=(classes, proba))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over the given rows; solver state and ``t_`` carry over.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call; later calls may omit
            it, or must pass the same classes (else ValueError).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: "
                "compute the weights once with sklearn.utils.class_weight."
                "compute_class_weight('balanced', classes=classes, y=y) on a "
                "large enough sample of the targets and pass them as a dict."
            )
        return self._partial_fit(X, y, classes, sample_weight)

    def decision_function(self, X):
        """Confidence scores ``X @ coef_.T + intercept_``.

        Returns
        -------
        ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
        """
        scores = self._decision(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def _has_proba(self):
        if self.loss not in PROBABILISTIC_LOSSES:
            raise AttributeError(
                f"probability estimates are not available for loss={self.loss!r}; "
                f"use one of {PROBABILISTIC_LOSSES}."
            )
        return True

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities (log_loss: sigmoid/softmax; modified_huber:
        scikit-learn's clipped-margin estimate).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        scores = self._decision(X)
        if self.loss == "log_loss":
            if scores.shape[1] == 1:
                p = expit(scores[:, 0])
                return np.column_stack([1.0 - p, p])
            return softmax(scores, axis=1)
        # modified Huber: (clip(f, -1, 1) + 1) / 2, normalised one-vs-rest
        prob = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0
        if scores.shape[1] == 1:
            return np.column_stack([1.0 - prob[:, 0], prob[:, 0]])
        norm = prob.sum(axis=1, keepdims=True)
        all_zero = norm[:, 0] == 0
        prob[all_zero] = 1.0
        norm[all_zero] = prob.shape[1]
        return prob / norm

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    # ---- BaseGD hooks ----------------------------------------------------
    def _start_classes(self, coef_init):
        # fine-tuning on a few rows that miss some classes keeps the model's
        # classes (those of coef_init's model, or of the warm-started fit)
        if hasattr(coef_init, "classes_"):
            return np.asarray(coef_init.classes_)
        if coef_init is None and self.warm_start and hasattr(self, "classes_"):
            return self.classes_
        return None

    def _encode(self, y, classes, reset, dtype, partial, soft=None):
        if soft is not None:  # fit_soft: y are soft's labels, sorted classes
            classes_, proba = soft
            if not reset and not np.array_equal(classes_, self.classes_):
                raise ValueError(
                    f"proba's classes {classes_!r} differ from the model's "
                    f"classes_ {self.classes_!r}."
                )
            Y = proba[:, 1:] if classes_.shape[0] == 2 else proba
            return np.ascontiguousarray(Y, dtype=dtype), {"classes_": classes_}
        if not (y.ndim == 1 and y.dtype.kind in "biu"):
            # 1-D integer or boolean labels are binary or multiclass whatever
            # their values (type_of_target): its np.unique is skipped there
            # (2.8 ms of a fit on 200,000 labels)
            check_classification_targets(y)
        # y's own classes: none is unseen
        all_seen = reset and classes is None
        if reset:
            if classes is None and partial:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            classes_ = (_sorted_labels(y) if classes is None
                        else np.unique(_checked_classes(classes)))
            if classes_.shape[0] < 2:
                raise ValueError(
                    "The number of classes has to be greater than one; got "
                    f"{classes_.shape[0]} class: {classes_!r}."
                )
        else:
            classes_ = self.classes_
            if classes is not None and not np.array_equal(
                    np.unique(_checked_classes(classes)), classes_):
                raise ValueError(
                    f"classes={classes!r} differs from the classes of the first "
                    f"call to partial_fit, {classes_!r}."
                )
        if not all_seen:
            unseen = np.setdiff1d(_sorted_labels(y), classes_)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen!r} that are not in classes {classes_!r}."
                )
        n_classes = classes_.shape[0]
        # the labels' codes: for two classes the second's indicator, else
        # their places in classes_ (np.unique(return_inverse=True), which
        # sorts y, took 5.5 ms for 200,000 labels)
        if n_classes == 2:
            hard = (y == classes_[1]).astype(dtype).reshape(-1, 1)
        else:
            hard = np.zeros((y.shape[0], n_classes), dtype=dtype)
            hard[np.arange(y.shape[0]), np.searchsorted(classes_, y)] = 1.0
        if self.loss != "log_loss":  # margin losses take labels in {-1, +1}
            hard = 2.0 * hard - 1.0
        return np.ascontiguousarray(hard, dtype=dtype), {"classes_": classes_}

    def _sample_weight(self, y, sample_weight, X, encoding, partial, soft=None):
        # given weights stay float64 until BaseGD rescales them into X's dtype
        sw = _check_sample_weight(
            sample_weight, X, ensure_non_negative=True,
            dtype=X.dtype if sample_weight is None else np.float64)
        if self.class_weight is not None:
            classes_ = encoding["classes_"]
            if soft is not None:
                # a soft row's weight is its expected class weight; "balanced"
                # counts each class by its total probability
                proba = soft[1]
                if self.class_weight == "balanced":
                    weights = proba.shape[0] / (proba.shape[1] * proba.sum(axis=0))
                else:
                    weights = compute_class_weight(self.class_weight, classes=classes_,
                                                   y=classes_)
                return sw * (proba @ weights)
            weights = compute_class_weight(self.class_weight, classes=classes_, y=y)
            if not np.all(np.isfinite(weights) & (weights >= 0)):
                raise ValueError(
                    "class_weight must map every class to a finite weight >= 0; "
                    f"got {self.class_weight!r}."
                )
            sw = sw * weights[np.searchsorted(classes_, y)]
        return sw

    def _loss_code_param(self, n_outputs):
        code, param = CLASSIFICATION_LOSSES[self.loss]
        if code == LOG and n_outputs > 1:
            code = MULTINOMIAL
        return code, param

    def _score_theta(self, theta, encoding, X, y, sample_weight):
        classes = encoding["classes_"]
        scores = self._theta_decision(theta, X, len(classes) if len(classes) > 2 else 1)
        if scores.shape[1] == 1:
            pred = classes[(scores[:, 0] > 0).astype(int)]
        else:
            pred = classes[np.argmax(scores, axis=1)]
        # imported here: sklearn.metrics is ~0.1 s of skgd's import time
        from sklearn.metrics import accuracy_score

        return accuracy_score(y, pred, sample_weight=sample_weight)

    def _publish(self, theta, n_features):
        W = theta.reshape(-1, n_features + 1)
        self.coef_ = W[:, :n_features].copy()
        self.intercept_ = W[:, n_features].copy()
