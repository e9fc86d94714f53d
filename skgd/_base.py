"""BaseGD: parameters, validation and the Python epoch loop of both estimators.

The epoch loop is Python; each epoch is one call into a Numba kernel
(``skgd._kernels.epoch``). Between epochs Python evaluates the objective,
applies the stopping rules and per-epoch schedules, and checks for
divergence. Training works on copies of the parameters and commits them to
the estimator only when the call succeeds, so a failed ``fit`` or
``partial_fit`` leaves a fitted model exactly as it was.
"""

import warnings
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
import dataclasses
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import row_norms, safe_sparse_dot
from sklearn.utils.validation import _assert_all_finite, check_is_fitted, validate_data

from ._epoch_runner import EpochRunner, _readonly
from ._kernels.epoch import OPTIMAL
from ._kernels.shuffle import epoch_orders
from ._losses import BOUNDED_LOSS_STEP, UNBOUNDED_CURVATURE, loss_derivative
from .exceptions import DivergenceError
from .schedules import SCHEDULES, BaseSchedule, get_schedule
from .solvers import SOLVERS, BaseSolver, get_solver

# CSR index arrays reach the kernels unsigned: Numba wraps a negative signed
# index around (a select per access), which unsigned indices skip; that
# halved the time of a sparse batch_size=1 epoch (0.19 -> 0.12 s, 200,000 x
# 2**18, 50 nnz a row). Column indices are uint32 (so ``base + j`` stays an
# integer in Numba, where uint64 + int64 is a float); indptr keeps its width.
# The dense path's placeholders share the int32-CSR specialisation.
_PLACEHOLDER_INDEX = np.uint32


def _unpack_init(coef_init, intercept_init, encoding):
    """``coef_init`` given as a fitted linear model (skgd or scikit-learn:
    anything with ``coef_`` and ``intercept_``): its arrays, its intercept
    unless ``intercept_init`` is given, and its classes checked."""
    if not hasattr(coef_init, "coef_"):
        return coef_init, intercept_init
    model = coef_init
    classes = encoding.get("classes_")
    if (classes is not None and hasattr(model, "classes_")
            and not np.array_equal(np.asarray(model.classes_), classes)):
        raise ValueError(
            f"coef_init: the model was fitted on classes {model.classes_!r}, "
            f"but y has classes {classes!r}; they must be the same."
        )
    coef = model.coef_
    coef = coef.toarray() if sp.issparse(coef) else np.asarray(coef)
    if intercept_init is None:
        intercept_init = np.asarray(getattr(model, "intercept_", 0.0), dtype=np.float64)
    return coef, intercept_init


# "adaptive" with the full batch returns its best iterate when training ends
# this much (relatively) worse than it. Only at the end: resuming from the
# best at each plateau stopped RMSprop's zig-zag near the optimum early (gap
# 4e-4 rather than 1e-8) and sent a slowly recovering fit back to its start
# (scikit-learn's check_class_weight_classifiers, accuracy 0.74 rather than
# 1.0). Not with stochastic batches: their epoch's objective is a noisy
# average over moving iterates
_RESUME_MARGIN = 0.1


def _resumed_from(best, current):
    """A copy of ``best`` (a checkpoint, never written to) that carries on
    from ``current``: its epoch count, loss curve, update and sample counts
    and rate."""
    resumed = best.copy()
    resumed.epochs, resumed.eta = current.epochs, current.eta
    resumed.loss_curve = list(current.loss_curve)
    resumed.counters[:2] = current.counters[:2]
    return resumed


class _StartAboveBlowUpLimit(Exception):
    """Raised by ``_epochs`` when what looked like a divergence was the
    starting model's own loss being above the blow-up limit."""


def _coef_matrix(value, name, k, d, dtype):
    """``value`` as a ``(k, d)`` coefficient matrix: of that shape, or
    ``(d,)`` for one output (as ``coef_``). Checked by shape, not by size:
    a transposed ``(d, k)`` array must not be silently reshaped."""
    coef = np.asarray(value, dtype=dtype)
    if coef.shape != (k, d) and not (k == 1 and coef.shape == (d,)):
        raise ValueError(
            f"{name} has shape {coef.shape}; expected ({k}, {d})"
            + (f" or ({d},)" if k == 1 else "") + "."
        )
    return coef.reshape(k, d)


def _rescaled_weights(sw, dtype):
    """``sw`` as ``dtype``, times the power of two that brings its largest
    value near 1 when it is far from 1, and that power's exponent ``e``
    (the weights were multiplied by ``2**-e``; 0 when they kept their values).

    The objective divides by the sum of the weights, so scaling them changes
    nothing, and a power of two keeps every product exact. It keeps weights
    such as 1e300 (whose sum overflows, and which float32 cannot hold) or
    1e-320 (whose mean has no finite reciprocal) from wrecking the
    normalisation; weights within 2**+-32 of 1 keep their values.
    """
    exponent = int(np.frexp(np.max(sw, initial=0.0))[1])
    if -32 <= exponent <= 32:
        return sw.astype(dtype, copy=False), 0
    return np.ldexp(sw, -exponent).astype(dtype, copy=False), exponent


def _unsigned_columns(X):
    """X.indices as uint32 (a view of int32 indices), checked to lie in
    [0, n_features): an index out of range would read outside the weights."""
    if X.shape[1] > np.iinfo(np.uint32).max:
        raise ValueError(f"At most 2**32 - 1 features are supported; got {X.shape[1]}.")
    indices = X.indices
    if indices.dtype == np.int32:
        # a negative index viewed as uint32 is at least 2**31: one pass over
        # the indices checks both ends
        unsigned = indices.view(np.uint32)
        in_range = not unsigned.size or unsigned.max() < X.shape[1]
    else:
        unsigned = None
        in_range = not indices.size or (indices.min() >= 0 and indices.max() < X.shape[1])
    if not in_range:
        raise ValueError(
            f"The CSR matrix has column indices outside [0, {X.shape[1]}): "
            "it is malformed (see scipy.sparse's check_format)."
        )
    return unsigned if unsigned is not None else indices.astype(np.uint32)


@dataclass
class _Data:
    """Training rows in the form the kernels take."""

    X: np.ndarray  # dense (n, d), or a (0, 0) placeholder for CSR input
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    sparse: bool
    Y: np.ndarray  # (n, k) encoded targets
    sw: np.ndarray  # (n,) sample weights (class weights folded in)

    @classmethod
    def build(cls, X, Y, sw):
        dtype = Y.dtype
        if sp.issparse(X):
            dense = np.zeros((0, 0), dtype=dtype)
            data, indices, indptr = X.data, _unsigned_columns(X), X.indptr
            indptr = indptr.view(np.uint32 if indptr.dtype == np.int32 else np.uint64)
        else:
            dense = X
            data = np.zeros(0, dtype=dtype)
            indices = indptr = np.zeros(0, dtype=_PLACEHOLDER_INDEX)
        dense, data, indices, indptr, Y, sw = map(
            _readonly, (dense, data, indices, indptr, Y, sw))
        return cls(dense, data, indices, indptr, sp.issparse(X), Y, sw)

    @property
    def n_samples(self):
        return self.Y.shape[0]


@dataclass
class _Progress:
    """Everything training changes; committed to the estimator on success."""

    theta: np.ndarray  # (k * (d + 1),) parameters, see _kernels/epoch.py
    state: np.ndarray  # (k * (d + 1), n_slots [+ 2 L1 budgets]) solver state
    avg: np.ndarray  # averaged parameters, empty when not averaging
    counters: np.ndarray  # int64 [updates t, samples seen, averaged updates]
    eta: float  # current base learning rate
    epochs: int  # epochs run so far (n_iter_)
    loss_curve: list
    # theta where this training run began (fit, first partial_fit, or the
    # model given to warm_start_from): penalty_reference="init" pulls to it.
    # Read-only and shared by every copy: it never changes once set
    start: np.ndarray
    # the mean sample weight that batch gradients are divided by (in the
    # weights' own units), set by the run's first training call (fit's
    # training rows, or the first partial_fit chunk) and kept by the calls
    # that follow, so that relative weights hold across partial_fit chunks
    mean_weight: float | None = None

    def copy(self):
        return _Progress(self.theta.copy(), self.state.copy(), self.avg.copy(),
                         self.counters.copy(), self.eta, self.epochs,
                         list(self.loss_curve), self.start, self.mean_weight)


class BaseGD(BaseEstimator, metaclass=ABCMeta):
    """Shared machinery of :class:`GDClassifier` and :class:`GDRegressor`."""

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS)), BaseSolver],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"full"})],
        "learning_rate": [StrOptions(set(SCHEDULES)), BaseSchedule],
        "eta0": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, None, None, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "average": [Interval(Integral, 0, None, closed="left"), "boolean"],
        "warm_start": ["boolean"],
        "penalty_reference": [StrOptions({"init"}), "array-like", None],
        "freeze_features": ["array-like", None],
        "freeze_intercept": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
    }

    # ---- subclass hooks -------------------------------------------------
    @abstractmethod
    def _encode(self, y, classes, reset, dtype, partial, soft=None):
        """Targets as an ``(n, k)`` array of ``dtype``; returns (Y, encoding),
        encoding being the attributes committed on success (e.g. classes_)."""

    @abstractmethod
    def _loss_code_param(self, n_outputs):
        """(kernel loss code, loss parameter) for ``n_outputs`` outputs."""

    @abstractmethod
    def _sample_weight(self, y, sample_weight, X, encoding, partial, soft=None):
        """Per-row weights, class weights folded in."""

    @abstractmethod
    def _score_theta(self, theta, encoding, X, y, sample_weight):
        """Validation score (higher is better) of parameters ``theta``."""

    @abstractmethod
    def _publish(self, theta, n_features):
        """Set ``coef_`` and ``intercept_`` from flat parameters."""

    # ---- public API ------------------------------------------------------
    def set_params(self, **params):
        # "solver__beta_1" on solver="adam" would fail inside scikit-learn
        # with "'str' object has no attribute 'set_params'": say what to do
        for key in params:
            name, nested, _ = key.partition("__")
            if nested and name in ("solver", "learning_rate"):
                current = params.get(name, getattr(self, name, None))
                if isinstance(current, str):
                    example = ("solver=Adam(beta_1=0.95)" if name == "solver"
                               else "learning_rate=InvScaling(power_t=0.5)")
                    raise ValueError(
                        f"Cannot set {key!r}: {name} is the name {current!r}. "
                        f"Give {name} as an object (e.g. {example}, from "
                        f"skgd.{'solvers' if name == 'solver' else 'schedules'}) "
                        "to set its parameters."
                    )
        return super().set_params(**params)

    def _fit(self, X, y, coef_init, intercept_init, sample_weight, soft=None):
        # soft: GDClassifier.fit_soft's (n, n_classes) target rows; y then
        # holds their most likely labels (for validation splits and scores)
        self._check_params()
        with self._atomic():
            X, y = self._validate_X_y(X, y, reset=True, dtype=[np.float64, np.float32])
            Y, encoding = self._encode(y, self._start_classes(coef_init), reset=True,
                                       dtype=X.dtype, partial=False, soft=soft)
            sw = self._sample_weight(y, sample_weight, X, encoding, partial=False,
                                     soft=soft)
            sw, weight_exponent = _rescaled_weights(sw, X.dtype)
            n_outputs = Y.shape[1]
            d = X.shape[1]
            coef_init, intercept_init = _unpack_init(coef_init, intercept_init,
                                                     encoding)
            theta = self._initial_theta(coef_init, intercept_init, n_outputs, d,
                                        X.dtype, self._start_intercept(Y, sw))
            solver = get_solver(self.solver)
            progress = self._fresh_progress(theta, solver, X, sw, Y)
            validation = None
            if self.early_stopping:
                X, y, Y, sw, validation = self._split_validation(X, y, Y, sw)
                validation = (encoding, *validation)
            progress, scores = self._train(X, Y, sw, progress, solver,
                                           max_epochs=self.max_iter,
                                           validation=validation, stop_rules=True,
                                           weight_exponent=weight_exponent)
            self._commit(progress, encoding, d)
            if self.early_stopping:
                self.validation_scores_ = scores
                self.best_validation_score_ = max(scores)
            else:
                self.validation_scores_ = None
                self.best_validation_score_ = None
        return self

    def _partial_fit(self, X, y, classes, sample_weight, soft=None):
        first_call = not hasattr(self, "_progress")
        if not first_call:
            # scikit-learn's _fit_context skips validation once fitted; a
            # set_params between calls must still fail clearly (~0.1 ms)
            self._validate_params()
        self._check_params()
        with self._atomic():
            dtype = [np.float64, np.float32] if first_call else self._progress.theta.dtype
            X, y = self._validate_X_y(X, y, reset=first_call, dtype=dtype)
            Y, encoding = self._encode(y, classes, reset=first_call,
                                       dtype=X.dtype, partial=True, soft=soft)
            sw = self._sample_weight(y, sample_weight, X, encoding, partial=True,
                                     soft=soft)
            sw, weight_exponent = _rescaled_weights(sw, X.dtype)
            solver = get_solver(self.solver)
            d = X.shape[1]
            if first_call:
                theta = self._initial_theta(None, None, Y.shape[1], d, X.dtype,
                                            self._start_intercept(Y, sw), warm=False)
                progress = self._fresh_progress(theta, solver, X, sw, Y)
            else:
                # a shallow copy whose fields may be rebound here (_train
                # never writes into the arrays of the progress it is given)
                progress = dataclasses.replace(self._progress)
                if progress.state.shape[1] != self._n_state_columns(solver):
                    # the solver, or whether the penalty has an L1 part, changed
                    progress.state = self._init_state(solver, progress.theta.shape[0],
                                                      X.dtype)
                if self.average and progress.avg.shape[0] == 0:
                    progress.avg = np.zeros_like(progress.theta)
                elif not self.average and progress.avg.shape[0] > 0:
                    # set_params(average=False) since the last call: the plain
                    # iterate trains and is published (_commit), as in
                    # scikit-learn; averaging restarts if turned on again
                    progress.avg = progress.avg[:0]
                    progress.counters = progress.counters.copy()
                    progress.counters[2] = 0
                if self.eta0 != getattr(self, "_eta0_used", self.eta0):
                    # set_params(eta0=...) since the last call: start from it
                    progress.eta = self._initial_eta(solver, X, sw, Y)
            progress, _ = self._train(X, Y, sw, progress, solver, max_epochs=1,
                                      validation=None, stop_rules=False,
                                      weight_exponent=weight_exponent)
            self._commit(progress, encoding, d)
        return self

    def _decision(self, X):
        """Decision values ``(n_samples, n_outputs)``."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False,
                          dtype=[np.float64, np.float32])
        coef = np.atleast_2d(self.coef_)
        return safe_sparse_dot(X, coef.T, dense_output=True) + self.intercept_

    # ---- validation ------------------------------------------------------
    def _check_params(self):
        solver = self.solver
        if isinstance(solver, BaseSolver):
            solver._validate()
        if isinstance(self.learning_rate, BaseSchedule):
            self.learning_rate._validate_params()
        schedule = get_schedule(self.learning_rate, self.power_t)
        if schedule._code == OPTIMAL and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal': alpha is "
                "used to compute the optimal learning rate."
            )

    def _validate_X_y(self, X, y, reset, dtype):
        # X's finiteness is checked below, in one pass over X with the
        # squares (scikit-learn's check would be a second pass: 0.016 s of
        # a 0.11 s batch_size=1 epoch on 200,000 x 100)
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=dtype, order="C", reset=reset,
            multi_output=self._multi_output, y_numeric=not self._is_classifier,
            ensure_all_finite=False,
        )
        if sp.issparse(X) and not X.has_canonical_format:
            # duplicate entries of a cell add up (as in X.toarray()); the
            # kernels agree, but a row's squared norm (eta0="auto") would
            # square the parts. Summed on a copy: the caller's X is theirs
            X = X.copy()
            X.sum_duplicates()
        # finite X whose squares overflow would turn every gradient step into
        # inf / NaN (or, with Adam's g**2, silently into no step at all). The
        # sum of all squares, one BLAS dot product, is finite when every row's
        # squared norm is (CSR 200,000 x 2**18 with 50 non-zeros a row: 1.9
        # ms, the rows' norms 5.2 ms); only when it is not are the rows told
        # apart from the total
        values = X.data if sp.issparse(X) else X.reshape(-1)  # X is C-ordered
        with np.errstate(over="ignore", invalid="ignore"):  # inf / NaN: told below
            sum_of_squares = np.dot(values, values)
        if (not np.isfinite(sum_of_squares)
                and not np.isfinite(np.max(row_norms(X, squared=True), initial=0.0))):
            if not np.all(np.isfinite(values)):
                # scikit-learn's own message ("Input X contains NaN.", ...)
                _assert_all_finite(values, input_name="X",
                                   estimator_name=type(self).__name__)
                raise ValueError("Input X contains NaN or infinity.")
            raise ValueError(
                f"X has values too large to train on in {X.dtype}: the squared "
                f"norm of a row overflows (largest |x| = {abs(values).max():.3g}). "
                "Scale the data, e.g. with StandardScaler."
            )
        return X, y

    @contextmanager
    def _atomic(self):
        # attributes are only ever rebound, never mutated in place, so a
        # shallow snapshot restores the model after any exception
        snapshot = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise

    def _start_classes(self, coef_init):
        """Classes a fit starting from a model keeps (None: those of y)."""
        return None

    def _start_intercept(self, Y, sw):
        """Intercept a fit starts from when none is given (zeros here)."""
        return np.zeros(Y.shape[1])

    def _initial_theta(self, coef_init, intercept_init, k, d, dtype, start_intercept,
                       warm=True):
        theta = np.zeros((k, d + 1), dtype=dtype)
        # without fit_intercept the intercept stays where it starts: at
        # intercept_init (or the warm start's), as in scikit-learn, else 0
        theta[:, d] = start_intercept if self.fit_intercept else 0.0
        if coef_init is not None:
            theta[:, :d] = _coef_matrix(coef_init, "coef_init", k, d, dtype)
        elif warm and self.warm_start and hasattr(self, "_progress"):
            previous = self._progress.theta
            if previous.shape[0] != k * (d + 1):
                raise ValueError(
                    "warm_start: the previous fit has a different number of "
                    "features or outputs; fit with warm_start=False."
                )
            theta[:] = previous.reshape(k, d + 1)
        if intercept_init is not None:
            intercept = np.asarray(intercept_init, dtype=dtype).ravel()
            if intercept.size not in (1, k):
                raise ValueError(
                    f"intercept_init has {intercept.size} values; expected {k}."
                )
            theta[:, d] = intercept
        if not np.all(np.isfinite(theta)):
            raise ValueError("coef_init and intercept_init must be finite.")
        return theta.ravel()

    # ---- training --------------------------------------------------------
    def _fresh_progress(self, theta, solver, X, sw, Y):
        n_params = theta.shape[0]
        return _Progress(
            theta=theta, state=self._init_state(solver, n_params, X.dtype),
            avg=np.zeros(n_params if self.average else 0, dtype=X.dtype),
            counters=np.zeros(3, dtype=np.int64),
            eta=self._initial_eta(solver, X, sw, Y), epochs=0, loss_curve=[],
            start=_readonly(theta.copy()))

    def _n_state_columns(self, solver):
        # the L1 part's cumulative penalty keeps two budgets a coordinate in
        # the last two columns (skgd._kernels.updates.cumulative_clip)
        return solver.n_slots + (2 if self._penalty()[1] > 0 else 0)

    def _init_state(self, solver, n_params, dtype):
        state = np.zeros((n_params, self._n_state_columns(solver)), dtype=dtype)
        state[:, :solver.n_slots] = solver.init_state(n_params, dtype)
        return state

    def _target_scale(self, Y, sw):
        """The scale of the coefficients the targets call for, by which
        ``eta0="auto"`` multiplies the base rate of the rules whose steps
        ignore the gradient's scale (``BaseSolver._scale_free``): 1 for
        classification."""
        return 1.0

    def _initial_eta(self, solver, X, sw, Y):
        if self.eta0 != "auto":
            return float(self.eta0)
        if getattr(solver, "_scale_free", False):
            return float(solver.auto_eta0(1.0)) * self._target_scale(Y, sw)
        loss_code, _ = self._loss_code_param(Y.shape[1])
        if loss_code not in UNBOUNDED_CURVATURE:
            return float(solver.auto_eta0(BOUNDED_LOSS_STEP))
        # 1 / L, L bounding the curvature of any one row's loss (as SAG)
        # rows of zero weight do not count: they never move the weights.
        # Unweighted otherwise: a row of weight 2 must get the step of two
        # copies of the row (scikit-learn's check_sample_weight_equivalence);
        # with very uneven weights a stochastic step may need a smaller eta0
        max_sq_norm = float(np.max(row_norms(X, squared=True)[sw > 0], initial=0.0))
        lipschitz = (UNBOUNDED_CURVATURE[loss_code]
                     * (max_sq_norm + float(self.fit_intercept)) + float(self.alpha))
        return float(solver.auto_eta0(1.0 / max(lipschitz, 1e-12)))

    def _penalty(self):
        """(l2 strength, l1 strength) of the objective's penalty."""
        if self.penalty is None:
            return 0.0, 0.0
        ratio = {"l2": 0.0, "l1": 1.0, "elasticnet": float(self.l1_ratio)}[self.penalty]
        return float(self.alpha) * (1.0 - ratio), float(self.alpha) * ratio

    def _objective_penalty(self, theta, d, k, theta0):
        l2, l1 = self._penalty()
        coef = theta.reshape(k, d + 1)[:, :d]
        if theta0.shape[0] or coef.dtype != np.float64:
            coef = coef.astype(np.float64)
            if theta0.shape[0]:
                coef -= theta0.reshape(k, d + 1)[:, :d]
        # row by row with BLAS, without a temporary array of the weights
        # (once per epoch: at 2**22 features it is most of a partial_fit)
        value = 0.5 * l2 * sum(float(np.dot(row, row)) for row in coef) if l2 else 0.0
        return value + (l1 * float(np.abs(coef).sum()) if l1 else 0.0)

    def _optimal_init(self, loss_code, loss_param):
        # Bottou's heuristic for the initial rate, as scikit-learn's _plain_sgd
        if self.alpha == 0:
            return 0.0
        typw = np.sqrt(1.0 / np.sqrt(self.alpha))
        eta0 = typw / max(1.0, loss_derivative(loss_code, -typw, 1.0, loss_param))
        return 1.0 / (eta0 * self.alpha)

    def _penalty_centre(self, progress, d, k):
        """The L2-SP reference laid out as theta, or empty (penalty toward 0)."""
        ref = self.penalty_reference
        if ref is None:
            return np.zeros(0, dtype=progress.theta.dtype)
        if isinstance(ref, str):  # "init": where this training run began
            return progress.start.astype(progress.theta.dtype)
        coef = _coef_matrix(getattr(ref, "coef_", ref), "penalty_reference", k, d,
                            np.float64)
        if not np.all(np.isfinite(coef)):
            raise ValueError("penalty_reference must be finite.")
        centre = np.zeros((k, d + 1), dtype=progress.theta.dtype)
        centre[:, :d] = coef
        return centre.ravel()

    def _frozen_mask(self, d):
        """freeze_features as a bool (d,) mask, or empty when nothing is frozen."""
        if self.freeze_features is None:
            return np.zeros(0, dtype=np.bool_)
        mask = np.asarray(self.freeze_features)
        if mask.dtype.kind in "iu" and mask.ndim == 1:  # column indices
            if mask.size and not (0 <= mask.min() and mask.max() < d):
                raise ValueError(
                    f"freeze_features has column indices outside [0, {d})."
                )
            mask = np.isin(np.arange(d), mask)
        if mask.dtype != np.bool_ or mask.shape != (d,):
            raise ValueError(
                "freeze_features must be a boolean mask of shape (n_features,) = "
                f"({d},) or an array of column indices; got {mask.dtype} array "
                f"of shape {mask.shape}."
            )
        # contiguous: a strided mask would compile another kernel specialisation
        return np.ascontiguousarray(mask) if mask.any() else np.zeros(0, dtype=np.bool_)

    def _batch_rows(self, n):
        return n if self.batch_size == "full" else min(int(self.batch_size), n)

    def _train(self, X, Y, sw, progress, solver, max_epochs, validation, stop_rules,
               weight_exponent=0):
        """Run up to ``max_epochs`` epochs from ``progress``, which is left as it
        is (training works on a copy); returns (new progress, scores).
        ``sw`` are the weights times ``2**-weight_exponent``
        (:func:`_rescaled_weights`)."""
        data = _Data.build(X, Y, sw)
        n, d, k = data.n_samples, X.shape[1], Y.shape[1]
        sw_sum = float(np.sum(sw, dtype=np.float64))
        if not sw_sum > 0:
            raise ValueError(
                "The sample weights sum to zero: nothing to learn from (check "
                "sample_weight and class_weight)."
            )
        # batch gradients are divided by the run's mean weight: this call's,
        # or the one its first call set (partial_fit chunks after the first)
        if progress.mean_weight is None:
            mean_sw = sw_sum / n
            progress = dataclasses.replace(
                progress, mean_weight=float(np.ldexp(mean_sw, weight_exponent)))
        else:
            mean_sw = float(np.ldexp(progress.mean_weight, -weight_exponent))
        loss_code, loss_param = self._loss_code_param(k)
        schedule = get_schedule(self.learning_rate, self.power_t)
        l2, l1 = self._penalty()
        optimal_init = self._optimal_init(loss_code, loss_param)
        # an int64 in the kernel: average=10**20 means "never" either way
        average_start = 1 if self.average is True else min(int(self.average),
                                                           np.iinfo(np.int64).max)
        batch = self._batch_rows(n)
        rng = check_random_state(self.random_state)
        shuffle = self.shuffle and batch < n
        theta0 = _readonly(self._penalty_centre(progress, d, k))
        frozen = _readonly(self._frozen_mask(d))
        runner = EpochRunner(
            data, d, k, solver=solver, loss_code=loss_code, loss_param=loss_param,
            l2=l2, l1=l1, fit_intercept=bool(self.fit_intercept) and not self.freeze_intercept,
            power_t=schedule.power(), optimal_init=optimal_init, alpha=float(self.alpha),
            average_start=average_start, mean_sw=mean_sw, theta0=theta0, frozen=frozen,
            averaging=progress.avg.shape[0] > 0, n_jobs=self.n_jobs)
        with runner:
            try:
                return self._epochs(runner, progress, rng, shuffle, batch, schedule,
                                    sw_sum, d, k, theta0, max_epochs, validation,
                                    stop_rules)
            except _StartAboveBlowUpLimit:
                # the limit now allows for the start (EpochRunner.allow_start):
                # run the call again from the start (with the same shuffles
                # when random_state is an integer)
                return self._epochs(runner, progress,
                                    check_random_state(self.random_state), shuffle,
                                    batch, schedule, sw_sum, d, k, theta0, max_epochs,
                                    validation, stop_rules)

    def _epochs(self, runner, progress, rng, shuffle, batch, schedule, sw_sum, d, k,
                theta0, max_epochs, validation, stop_rules):
        """The epoch loop of ``_train``: stopping rules and divergence retries."""
        n = runner.data.n_samples
        run = runner.run

        def last_update_blew_up(progress, order):
            # the kernel checks a batch's loss before its update, so no later
            # batch checks a call's last update: score the final iterate on
            # (up to 1024 of) the last batch's rows
            rows = order[-min(batch, 1024):]
            return not runner.loss_is_sound(progress.theta, rows)

        # the first epoch's checkpoint is the caller's progress itself (never
        # written to): a partial_fit copies the weights and state once
        start = original = progress
        progress = progress.copy()
        start_checked = False  # whether a divergence has asked runner.allow_start
        best_loss, best_score, no_improvement, scores = np.inf, -np.inf, 0, []
        epochs_left, converged, checkpoint = max_epochs, False, None
        # "adaptive" with the full batch returns the best iterate if training
        # ends clearly worse (_RESUME_MARGIN). A full-batch epoch's objective
        # is that of its first iterate, so the best is the snapshot taken
        # before its epoch; a validation score is that of the epoch's last
        # iterate, the next epoch's snapshot (``best_is_next`` until taken)
        # (tracked only then: a kept snapshot is one more copy of the
        # weights and state in memory)
        track_best = stop_rules and schedule.backtracks and batch == n
        best, best_quality, best_is_next = None, np.inf, False
        orders = epoch_orders(n, shuffle, rng)
        while epochs_left > 0:
            epochs_left -= 1
            order = next(orders)
            eta = schedule.epoch_eta(progress.eta, progress.epochs)
            previous = checkpoint
            # the epoch's start, for "adaptive" to go back to (other schedules
            # never do: no copy of the weights and state each epoch)
            snapshot = (None if not schedule.backtracks
                        else original if original is not None else progress.copy())
            original = None
            checkpoint = ((snapshot, len(scores), best_loss, best_score,
                           no_improvement) if schedule.backtracks else None)
            if best_is_next:
                best, best_is_next = snapshot, False
            updates_before = int(progress.counters[0])
            loss_sum = run(progress, order, batch, schedule._code, eta)
            progress.epochs += 1
            diverged = not (np.isfinite(loss_sum) and np.all(np.isfinite(progress.theta)))
            if not diverged and epochs_left == 0:
                diverged = last_update_blew_up(progress, order)
            if diverged and not start_checked:
                start_checked = True
                if runner.allow_start(start.theta, order):
                    # the blow-up limit is relative to the all-zero model, and
                    # a start far from it (a model fine-tuned to targets on
                    # another scale) can be above it before any step: not a
                    # divergence
                    raise _StartAboveBlowUpLimit
            if diverged:
                if (checkpoint is not None and previous is not None
                        and progress.counters[0] == updates_before):
                    # the first batch already blew up: the previous epoch's
                    # last update did it (always so with batch_size="full"),
                    # so retry from the start of that epoch
                    checkpoint, epochs_left = previous, epochs_left + 1
                smaller = (schedule.on_plateau(checkpoint[0].eta)
                           if checkpoint is not None else None)
                if smaller is not None:
                    # "adaptive": undo the epoch and retry it with a smaller rate
                    if self.verbose:
                        print(f"-- Epoch {progress.epochs} diverged with eta "
                              f"{eta:.3g}; retrying with {smaller:.3g}")
                    progress, n_scores, best_loss, best_score, no_improvement = checkpoint
                    progress = progress.copy()  # checkpoints are never written to
                    progress.eta, scores = smaller, scores[:n_scores]
                    checkpoint = None
                    epochs_left += 1
                    continue
                if schedule._code == OPTIMAL:
                    # its rate 1 / (alpha (t0 + t)) reads neither eta0 nor eta
                    rate, remedy = "", "Use a larger alpha or another learning_rate"
                else:
                    rate = f" at a base step size of {eta:.3g}"
                    remedy = f"Use a smaller eta0 (now {self.eta0!r})"
                raise DivergenceError(
                    f"Training diverged at epoch {progress.epochs}: the loss blew "
                    "up (to inf/NaN, or 1e4 times the loss of the all-zero model "
                    f"and of the starting model){rate}. {remedy}, or scale the "
                    "data (e.g. StandardScaler); the model was left as it was "
                    "before this call."
                )
            objective = loss_sum / sw_sum + self._objective_penalty(progress.theta, d, k,
                                                                    theta0)
            progress.loss_curve.append(objective)
            if self.verbose:
                print(f"-- Epoch {progress.epochs}: objective {objective:.6g}, "
                      f"eta {eta:.3g}, updates {progress.counters[0]}")
            if validation is not None:
                # recorded every epoch, also when tol=None turns stopping off
                score = self._score_theta(progress.theta, *validation)
                scores.append(score)
            if not stop_rules or self.tol is None:
                continue
            if validation is not None:
                improved = score >= best_score + self.tol
                best_score = max(best_score, score)
            else:
                improved = objective <= best_loss - self.tol
                best_loss = min(best_loss, objective)
            quality = -score if validation is not None else objective
            if track_best and quality < best_quality:
                best_quality = quality
                if validation is None:
                    best = snapshot
                else:
                    best, best_is_next = None, True
            no_improvement = 0 if improved else no_improvement + 1
            if no_improvement >= self.n_iter_no_change:
                new_eta = schedule.on_plateau(progress.eta)
                if new_eta is None:
                    if self.verbose:
                        print(f"Converged after {progress.epochs} epochs.")
                    converged = True
                    break
                progress.eta, no_improvement = new_eta, 0
        if (track_best and self.tol is not None and best is not None
                and quality > best_quality
                + max(self.tol, _RESUME_MARGIN * abs(best_quality))):
            # the full batch ended clearly worse than its best iterate (a rate
            # too large for the data: the loss grew without blowing up, or
            # momentum overshooting): return that one, not a model that may
            # be far worse than where training started
            what = "validation score" if validation is not None else "objective"
            warnings.warn(
                f"Training ended with its {what} clearly worse than its best epoch's "
                f"({abs(quality):.6g} against {abs(best_quality):.6g}); the best "
                "iterate is kept. The rate may be too large for the data: use a "
                "smaller eta0 or scale the data (e.g. StandardScaler).",
                ConvergenceWarning,
            )
            progress = _resumed_from(best, progress)
        if epochs_left == 0 and not converged:
            if stop_rules and self.tol is not None:
                warnings.warn(
                    f"Maximum number of epochs ({max_epochs}) reached before "
                    "convergence. Consider increasing max_iter to improve the fit.",
                    ConvergenceWarning,
                )
        return progress, scores

    def _split_validation(self, X, y, Y, sw):
        from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

        splitter_cls = StratifiedShuffleSplit if self._is_classifier else ShuffleSplit
        splitter = splitter_cls(test_size=self.validation_fraction,
                                random_state=check_random_state(self.random_state)
                                .randint(np.iinfo(np.int32).max))
        try:
            train, val = next(splitter.split(np.zeros((Y.shape[0], 1)), y))
        except ValueError as exc:
            raise ValueError(
                f"early_stopping: cannot split {Y.shape[0]} samples with "
                f"validation_fraction={self.validation_fraction}: {exc}"
            ) from exc
        min_val = 1 if self._is_classifier else 2  # R^2 needs two rows
        if val.shape[0] < min_val or train.shape[0] == 0:
            raise ValueError(
                f"early_stopping: validation_fraction={self.validation_fraction} "
                f"of {Y.shape[0]} samples leaves an empty training set or fewer "
                f"than {min_val} validation samples."
            )
        if not np.any(sw[val] > 0):
            raise ValueError(
                f"early_stopping: the {val.shape[0]} validation samples all have "
                "weight 0, so they cannot score the model; use another "
                "random_state or validation_fraction, or fewer zero weights."
            )
        validation = (X[val], y[val], sw[val])
        return X[train], y[train], Y[train], sw[train], validation

    def _commit(self, progress, encoding, d):
        for name, value in encoding.items():
            setattr(self, name, value)
        self._progress = progress
        self._eta0_used = self.eta0  # the eta0 that progress.eta comes from
        theta = progress.avg if progress.counters[2] > 0 else progress.theta
        self._publish(theta, d)
        self.t_ = int(progress.counters[0])
        self.n_iter_ = progress.epochs
        self.loss_curve_ = list(progress.loss_curve)

    def _theta_decision(self, theta, X, k):
        W = theta.reshape(k, -1)
        d = W.shape[1] - 1
        return safe_sparse_dot(X, W[:, :d].T, dense_output=True) + W[:, d]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
