"""Parameter and attribute documentation shared by both estimators."""

COMMON_PARAMETERS = """
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        ``"l2"`` is ``0.5 * ||w||^2`` (scikit-learn's scaling, so ``alpha``
        transfers from SGDClassifier / SGDRegressor); ``"l1"`` and
        ``"elasticnet"`` apply a proximal (soft-thresholding) step after each
        update, so coefficients become exactly zero. The intercept is never
        penalised.

    alpha : float >= 0, default=1e-4
        Regularisation strength. The penalty is not divided by the batch
        size: ``alpha`` means the same at every ``batch_size``.

    l1_ratio : float in [0, 1], default=0.15
        Elastic-net mixing (0 is L2, 1 is L1); used with ``"elasticnet"``.

    fit_intercept : bool, default=True
        Learn an intercept. ``GDRegressor`` starts it at the weighted mean of
        ``y`` (the optimum of the zero-coefficient model) unless
        ``intercept_init`` is given, so unscaled targets train as fast as
        centred ones; classifiers start it at 0.

    solver : {"adam", "sgd", "momentum", "nesterov", "adagrad", "rmsprop"} \
or BaseSolver, default="adam"
        The update rule, by name or as an object of :mod:`skgd.solvers`
        (grid-searchable as ``solver__beta_1`` etc.).

    batch_size : int >= 1 or "full", default=32
        Rows per update: 1 is stochastic gradient descent, ``"full"`` is
        batch gradient descent (one exact-gradient update per epoch). The
        last batch of an epoch may be smaller. Batch gradients are weighted
        means, so ``eta0`` means the same at every size.

    learning_rate : {"adaptive", "constant", "optimal", "invscaling", \
"exponential"} or BaseSchedule, default="adaptive"
        The step-size schedule; see :mod:`skgd.schedules`. The default keeps
        ``eta0`` until the objective stops improving, then divides it by 5,
        which lets Adam settle on the optimum.

    eta0 : float > 0 or "auto", default="auto"
        Initial (base) learning rate. ``"auto"`` asks the solver: Adam and
        RMSprop use 0.01, AdaGrad 0.1 (for a regressor, times the targets'
        standard deviation: their steps ignore the gradient's scale); SGD
        uses ``1 / L`` for the squared losses (``L`` bounds one row's
        curvature: loss smoothness x largest squared row norm + ``alpha``,
        as scikit-learn's SAG), so plain SGD is stable even on unscaled
        data, and 0.3 for losses with bounded derivatives (log, hinge,
        Huber, ...), which cannot diverge; momentum uses ``(1 - momentum)``
        times SGD's step. Note that scikit-learn's SGD default schedule
        ``"optimal"`` ignores ``eta0``.

    power_t : float, default=0.25
        Exponent of the ``"invscaling"`` schedule.

    max_iter : int >= 1, default=1000
        Maximum number of epochs (passes over the data) in ``fit``.

    tol : float or None, default=1e-3
        Stopping tolerance: an epoch counts as an improvement when the
        objective falls by at least ``tol`` below the best so far (with
        ``early_stopping``, when the validation score rises by ``tol``).
        ``None`` runs ``max_iter`` epochs.

    n_iter_no_change : int >= 1, default=5
        Epochs without improvement before the rate is reduced
        (``"adaptive"``) or training stops (other schedules).

    shuffle : bool, default=True
        Shuffle rows before each epoch (irrelevant with ``batch_size="full"``).

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified for
        classifiers) and stop on the validation score instead of the
        training objective. Ignored by ``partial_fit``.

    validation_fraction : float in (0, 1), default=0.1

    average : bool or int, default=False
        Averaged gradient descent: ``coef_`` is the running mean of the
        iterates after each update, starting once ``average`` samples have
        been seen (``True`` means from the start).

    warm_start : bool, default=False
        ``fit`` starts from the previous ``coef_`` / ``intercept_``. The
        solver's state (moments, velocity), ``t_`` and the schedule start
        afresh; use ``partial_fit`` to continue with them.

    penalty_reference : None, "init" or array-like, default=None
        The centre of the penalty (L2-SP, Li et al. 2018): ``None`` penalises
        ``w`` (the usual pull toward zero); ``"init"`` penalises ``w - w0``
        with ``w0`` the coefficients training started from (``coef_init``,
        the warm-started model, :func:`skgd.warm_start_from`'s model; zeros
        for a fresh start), so ``"l2"`` becomes ``0.5 * ||w - w0||^2`` and
        ``"l1"`` ``||w - w0||_1``; an array of the shape of ``coef_`` (or a
        fitted linear model) gives ``w0`` itself. Every solver, dense and
        sparse.

    freeze_features : None or array-like of bool (n_features,) or int, \
default=None
        Coefficients that do not train: a boolean mask over the features (or
        their column indices). They keep, bit for bit, the value training
        started from (for every output); the others train as usual.

    freeze_intercept : bool, default=False
        Keep the intercept at the value training started from
        (``intercept_init``, the warm-started model's; else the default
        start) instead of learning it.

    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split.

    verbose : int, default=0
        Print the objective after each epoch.

    n_jobs : int or None, default=None
        Threads used to train: independent outputs (one-vs-rest classes, the
        columns of a 2-D regression target) train in parallel, and a full
        batch's gradient is summed over row chunks in parallel. ``None``
        means 1 (unless in a ``joblib.parallel_config`` context), ``-1`` all
        cores. The model is bit-identical for any value.
"""

COMMON_ATTRIBUTES = """
    n_iter_ : int
        Epochs run: by the last ``fit``, plus one per ``partial_fit`` call.

    t_ : int
        Number of updates (mini-batches) so far; the step counter of the
        schedule and of Adam's bias correction, persisting across
        ``partial_fit`` calls.

    loss_curve_ : list of float
        Objective (weighted mean loss during the epoch + penalty at its end)
        after each epoch.

    validation_scores_ : list of float or None
        Validation score after each epoch when ``early_stopping=True``.

    best_validation_score_ : float or None

    n_features_in_ : int

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when X has string feature names.
"""
