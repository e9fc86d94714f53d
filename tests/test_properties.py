"""Property-based tests (hypothesis): random shapes, dtypes, sparsity, weights
and hyper-parameters.

* fit and partial_fit either work, giving finite coefficients and
  predictions of the right dtype, or raise a ValueError that says what is
  wrong (one of the messages below), never anything else;
* dense and CSR input give the same model, or the same error (where the
  lazy CSR updates are exact);
* scaling every sample weight by a power of two gives the same model, bit
  for bit, from 2**-1000 to 2**1000.

Examples are derandomised (the same ones on every run, so CI is stable) and
small; the kernels compile once per dtype, so each example costs
milliseconds.
"""

import re
import warnings

import numpy as np
import scipy.sparse as sp
from hypothesis import assume, HealthCheck, given, settings
from hypothesis import strategies as st

from skgd import DivergenceError, GDClassifier, GDRegressor
from skgd._losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES
from skgd.schedules import SCHEDULES
from skgd.solvers import SOLVERS

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

# every ValueError a valid-typed but unlucky draw may meet, and why
CLEAR_ERRORS = [
    r"Training diverged at epoch \d+: .* Use a smaller eta0 .* scale the data",
    r"Training diverged at epoch \d+: .* Use a larger alpha .* scale the data",
    r"number of classes has to be greater than one",  # y drew one label
    r"alpha must be > 0 since learning_rate is 'optimal'",
    r"sample weights sum to zero",  # weights of the training part all zero
    r"at least one non-zero",  # sample_weight all zero
    r"early_stopping: ",  # too few rows for a validation split
    r"The least populated class",  # stratified split of a rare class
    r"too large to train on",
]


@st.composite
def problems(draw, Estimator=None):
    """(Estimator, params, X dense, y, sample_weight) of a small random problem."""
    if Estimator is None:
        Estimator = draw(st.sampled_from([GDClassifier, GDRegressor]))
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    density = draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
    scale = draw(st.sampled_from([1e-6, 1.0, 1e3]))
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, d)) * scale * (rng.uniform(size=(n, d)) < density)
    X = np.round(X).astype(dtype) if dtype == np.int64 else X.astype(dtype)
    if Estimator is GDClassifier:
        n_classes = draw(st.integers(2, 3))
        y = rng.randint(0, n_classes, size=n)
        loss = draw(st.sampled_from(sorted(CLASSIFICATION_LOSSES)))
    else:
        n_targets = draw(st.sampled_from([0, 1, 2]))  # 0: 1-D y
        y = rng.standard_normal((n, max(n_targets, 1))) * draw(st.sampled_from([1.0, 1e3]))
        y = y[:, 0] if n_targets == 0 else y
        loss = draw(st.sampled_from(sorted(REGRESSION_LOSSES)))
    weights = draw(st.sampled_from(["none", "uniform", "with zeros"]))
    sw = (None if weights == "none"
          else rng.uniform(0.1, 3.0, n) * (rng.uniform(size=n) < 0.7 if weights == "with zeros" else 1))
    learning_rate = draw(st.sampled_from(sorted(SCHEDULES)))
    params = dict(
        loss=loss,
        solver=draw(st.sampled_from(sorted(SOLVERS))),
        batch_size=draw(st.sampled_from([1, 3, "full"])),
        learning_rate=learning_rate,
        eta0=draw(st.sampled_from(["auto", 1e-3, 0.1, 10.0])),
        penalty=draw(st.sampled_from([None, "l2", "l1", "elasticnet"])),
        alpha=draw(st.sampled_from([0.0, 1e-4, 0.1])),
        fit_intercept=draw(st.booleans()),
        average=draw(st.sampled_from([False, True, 3])),
        early_stopping=draw(st.sampled_from([False, False, False, True])),
        max_iter=draw(st.integers(1, 4)),
        tol=draw(st.sampled_from([None, 1e-3])),
        shuffle=draw(st.booleans()),
        random_state=seed % 1000,
    )
    return Estimator, params, X, y, sw


def _fit_or_clear_error(Estimator, params, X, y, sw):
    """The fitted model, or the text of a clear ValueError (None if neither)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence, R^2 of one row, ...
        try:
            return Estimator(**params).fit(X, y, sample_weight=sw)
        except ValueError as exc:
            message = str(exc)
            assert any(re.search(p, message) for p in CLEAR_ERRORS), message
            return message


def _expected_dtype(X):
    return np.float32 if X.dtype == np.float32 else np.float64


def _assert_finite_model(model, X):
    assert model.coef_.dtype == _expected_dtype(X)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    assert np.all(np.isfinite(model.loss_curve_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prediction = model.predict(X)
    assert prediction.shape[0] == X.shape[0]
    if isinstance(model, GDRegressor):
        assert np.all(np.isfinite(prediction))


@SETTINGS
@given(problem=problems(), as_sparse=st.booleans())
def test_fit_gives_a_finite_model_or_a_clear_error(problem, as_sparse):
    Estimator, params, X, y, sw = problem
    Xin = sp.csr_matrix(X) if as_sparse else X
    model = _fit_or_clear_error(Estimator, params, Xin, y, sw)
    if isinstance(model, str):
        # standardised-scale data and the default step never diverge
        if "diverged" in model:
            assert params["eta0"] != "auto" or params["learning_rate"] == "optimal" \
                or np.max(np.abs(X)) > 100, model
        return
    _assert_finite_model(model, Xin)
    # a later partial_fit keeps it finite, or fails clearly and changes nothing
    coef = model.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.partial_fit(Xin, y, sample_weight=sw)
        except ValueError as exc:
            assert any(re.search(p, str(exc)) for p in CLEAR_ERRORS), str(exc)
            np.testing.assert_array_equal(model.coef_, coef)
            return
    _assert_finite_model(model, Xin)


def _lazy_sparse_is_exact(params):
    """Whether CSR input takes the same path as dense (to rounding): see
    skgd._kernels.updates.catch_up; averaging uses the dense-update kernel."""
    solver, penalty = params.get("solver", "adam"), params.get("penalty", "l2")
    if params.get("average"):
        return True
    if solver == "sgd":
        return True
    if solver == "adam" or (penalty is not None and params.get("alpha", 1e-4) > 0):
        return False
    # momentum's lazy drift is exact for a step that is constant within an epoch
    return solver not in ("momentum", "nesterov") or params.get(
        "learning_rate", "adaptive") in ("constant", "adaptive", "exponential")


def _sparse_is_exact(params):
    """Whether CSR input must give the dense model to rounding: the lazy CSR
    updates are exact for these rules (user guide, "Sparse input"), and
    averaging runs the dense-update kernel on CSR input."""
    if params["average"] is not False or params["solver"] == "sgd":
        return True
    if params["penalty"] is not None and params["alpha"] > 0:
        return False
    if params["solver"] in ("momentum", "nesterov"):
        return params["learning_rate"] in ("constant", "adaptive", "exponential")
    return params["solver"] in ("adagrad", "rmsprop")


@SETTINGS
@given(problem=problems())
def test_dense_and_sparse_input_agree(problem):
    Estimator, params, X, y, sw = problem
    if not _sparse_is_exact(params):
        params = dict(params, average=True)
    assume(_lazy_sparse_is_exact(params))
    dense = _fit_or_clear_error(Estimator, params, X, y, sw)
    sparse = _fit_or_clear_error(Estimator, params, sp.csr_matrix(X), y, sw)
    if isinstance(dense, str) or isinstance(sparse, str):
        # the same error (the step size it quotes may differ in the last bit)
        assert isinstance(dense, str) and isinstance(sparse, str), (dense, sparse)
        assert dense.split(":")[0] == sparse.split(":")[0]
        return
    # the same sums, though a dense row adds its zeros and may be summed in
    # another order: equal up to rounding, accumulated over a few epochs
    rtol, atol = (1e-3, 1e-4) if X.dtype == np.float32 else (1e-8, 1e-10)
    scale = max(1.0, float(np.max(np.abs(dense.coef_))))
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=rtol, atol=atol * scale)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=rtol,
                               atol=atol * scale)
    assert sparse.n_iter_ == dense.n_iter_


@SETTINGS
@given(problem=problems(), exponent=st.integers(-1000, 1000))
def test_scaling_all_weights_by_a_power_of_two_changes_nothing(problem, exponent):
    # the objective divides by the weights' sum; skgd brings extreme weights
    # back near 1 by a power of two, so no scale over- or underflows
    Estimator, params, X, y, sw = problem
    if sw is None:
        sw = np.ones(X.shape[0])
    reference = _fit_or_clear_error(Estimator, params, X, y, sw)
    scaled = _fit_or_clear_error(Estimator, params, X, y, np.ldexp(sw, exponent))
    if isinstance(reference, str):
        assert isinstance(scaled, str) and scaled.split(":")[0] == reference.split(":")[0]
        return
    np.testing.assert_array_equal(scaled.coef_, reference.coef_)
    np.testing.assert_array_equal(scaled.intercept_, reference.intercept_)


@SETTINGS
@given(problem=problems(Estimator=GDClassifier))
def test_partial_fit_streams_any_chunking_without_crashing(problem):
    Estimator, params, X, y, sw = problem
    params = dict(params, early_stopping=False)
    model = Estimator(**params)
    classes = np.unique(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for start in range(0, X.shape[0], 4):
            chunk = slice(start, start + 4)
            try:
                model.partial_fit(X[chunk], y[chunk], classes=classes,
                                  sample_weight=None if sw is None else sw[chunk])
            except ValueError as exc:
                assert any(re.search(p, str(exc)) for p in CLEAR_ERRORS), str(exc)
    if hasattr(model, "coef_"):
        _assert_finite_model(model, X)
        np.testing.assert_array_equal(model.classes_, classes)


def test_divergence_error_is_a_value_error():
    # the properties above rely on it
    assert issubclass(DivergenceError, ValueError)
