"""Bad input, table driven: every case names the error type and a message
fragment, and runs for both estimators. Then the input layouts that must
work, each giving the same model as a C-contiguous float64 array."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from skgd import GDClassifier, GDRegressor
from skgd.schedules import Adaptive, Exponential, InvScaling
from skgd.solvers import AdaGrad, Adam, Momentum, RMSprop

ESTIMATORS = [GDClassifier, GDRegressor]
FAST = dict(max_iter=3, tol=None, random_state=0)

# integer-valued, about half zeros: every layout below (int, sparse, ...) can
# hold it exactly, so each must give the float64 model bit for bit
_RNG = np.random.RandomState(0)
X = _RNG.randint(-2, 3, size=(40, 4)).astype(np.float64)
Y = {GDClassifier: np.where(X[:, 0] + _RNG.randn(40) > 0, 1, 0),
     GDRegressor: X @ [1.0, -2.0, 0.5, 0.0] + 0.1 * _RNG.randn(40)}


def _with(a, index, value):
    a = np.array(a, dtype=np.float64)
    a[index] = value
    return a


def _fitted(Estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Estimator(**FAST).fit(X, Y[Estimator])


# ---- bad input: (id, call(Estimator, y), error type, message fragment) ------


def _fit(Estimator, _, **kwargs):
    return Estimator(**FAST).fit(**kwargs)


def _bad_column_index(j):
    # the kernels index the weights with these unchecked: one out of range
    # must be refused before any work, not read outside the array
    A = sp.csr_matrix(X)
    A.indices[A.indptr[2]] = j
    return A


NAN_MSG = "Input X contains NaN"
INF_MSG = "Input X contains infinity"

COMMON_CASES = [
    ("nan in X", lambda E, y: _fit(E, y, X=_with(X, (3, 1), np.nan), y=y),
     ValueError, NAN_MSG),
    ("inf in X", lambda E, y: _fit(E, y, X=_with(X, (3, 1), np.inf), y=y),
     ValueError, INF_MSG),
    ("-inf in X", lambda E, y: _fit(E, y, X=_with(X, (3, 1), -np.inf), y=y),
     ValueError, INF_MSG),
    ("nan in sparse X",
     lambda E, y: _fit(E, y, X=sp.csr_matrix(_with(X, (3, 1), np.nan)), y=y),
     ValueError, NAN_MSG),
    ("inf in sparse X",
     lambda E, y: _fit(E, y, X=sp.csc_matrix(_with(X, (3, 1), np.inf)), y=y),
     ValueError, INF_MSG),
    ("CSR column index >= n_features",
     lambda E, y: _fit(E, y, X=_bad_column_index(X.shape[1]), y=y),
     ValueError, "column indices outside \\[0, 4\\)"),
    ("CSR column index < 0",
     lambda E, y: _fit(E, y, X=_bad_column_index(-1), y=y),
     ValueError, "column indices outside \\[0, 4\\)"),
    ("nan in y", lambda E, y: _fit(E, y, X=X, y=_with(y, 5, np.nan)),
     ValueError, "Input y contains NaN"),
    ("inf in y", lambda E, y: _fit(E, y, X=X, y=_with(y, 5, np.inf)),
     ValueError, "Input y contains infinity"),
    ("nan in sample_weight",
     lambda E, y: _fit(E, y, X=X, y=y, sample_weight=_with(np.ones(40), 2, np.nan)),
     ValueError, "sample_weight contains NaN"),
    ("inf in sample_weight",
     lambda E, y: _fit(E, y, X=X, y=y, sample_weight=_with(np.ones(40), 2, np.inf)),
     ValueError, "sample_weight contains infinity"),
    ("negative sample_weight",
     lambda E, y: _fit(E, y, X=X, y=y, sample_weight=_with(np.ones(40), 2, -1.0)),
     ValueError, "Negative values in data passed to `sample_weight`"),
    ("all-zero sample_weight",
     lambda E, y: _fit(E, y, X=X, y=y, sample_weight=np.zeros(40)),
     ValueError, "at least one non-zero"),
    ("sample_weight of wrong length",
     lambda E, y: _fit(E, y, X=X, y=y, sample_weight=np.ones(39)),
     ValueError, r"sample_weight.shape == \(39,\), expected \(40,\)"),
    ("2-D sample_weight",
     lambda E, y: _fit(E, y, X=X, y=y, sample_weight=np.ones((40, 1))),
     ValueError, "Sample weights must be 1D"),
    ("string sample_weight",
     lambda E, y: _fit(E, y, X=X, y=y, sample_weight=np.array(["a"] * 40)),
     ValueError, "could not convert string to float"),
    ("empty X", lambda E, y: _fit(E, y, X=X[:0], y=y[:0]),
     ValueError, r"0 sample\(s\)"),
    ("no features", lambda E, y: _fit(E, y, X=X[:, :0], y=y),
     ValueError, r"0 feature\(s\)"),
    ("1-D X", lambda E, y: _fit(E, y, X=X[:, 0], y=y),
     ValueError, "Expected 2D array, got 1D array"),
    ("3-D X", lambda E, y: _fit(E, y, X=X[:, :, None], y=y),
     ValueError, "Found array with dim 3"),
    ("3-D y", lambda E, y: _fit(E, y, X=X, y=np.asarray(y)[:, None, None]),
     ValueError, "dim 3|y should be a 1d array"),
    ("X and y of different lengths", lambda E, y: _fit(E, y, X=X, y=y[:-1]),
     ValueError, "inconsistent numbers of samples"),
    ("object X holding strings",
     lambda E, y: _fit(E, y, X=np.array([["a", 1]] * 40, dtype=object), y=y),
     ValueError, "could not convert string to float"),
    ("string X", lambda E, y: _fit(E, y, X=X.astype(str).astype("U8") + "x", y=y),
     ValueError, "could not convert string to float"),
    ("complex X", lambda E, y: _fit(E, y, X=X.astype(complex), y=y),
     ValueError, "Complex data not supported"),
    ("complex y", lambda E, y: _fit(E, y, X=X, y=np.asarray(y).astype(complex)),
     ValueError, "Complex data not supported"),
    ("finite X whose squares overflow", lambda E, y: _fit(E, y, X=X * 1e200, y=y),
     ValueError, "too large to train on in float64.*Scale the data"),
    ("float32 X whose squares overflow",
     lambda E, y: _fit(E, y, X=(X * 1e30).astype(np.float32), y=y),
     ValueError, "too large to train on in float32"),
    ("coef_init of wrong shape",
     lambda E, y: _fit(E, y, X=X, y=y, coef_init=np.zeros(3)),
     ValueError, "coef_init has shape"),
    ("coef_init transposed",
     lambda E, y: _fit(E, y, X=X, y=y, coef_init=np.zeros((4, 1))),
     ValueError, r"coef_init has shape \(4, 1\); expected \(1, 4\) or \(4,\)"),
    ("penalty_reference transposed",
     lambda E, y: E(penalty_reference=np.zeros((4, 1)), **FAST).fit(X, y),
     ValueError, r"penalty_reference has shape \(4, 1\); expected \(1, 4\)"),
    ("coef_init with NaN",
     lambda E, y: _fit(E, y, X=X, y=y, coef_init=_with(np.zeros(4), 0, np.nan)),
     ValueError, "must be finite"),
    ("intercept_init of wrong size",
     lambda E, y: _fit(E, y, X=X, y=y, intercept_init=np.zeros(3)),
     ValueError, "intercept_init has 3 values"),
    ("early stopping without room for a validation set",
     lambda E, y: E(early_stopping=True, validation_fraction=0.01).fit(X, y),
     ValueError, "early_stopping"),
]

# calls on a fitted model (4 features): (id, call(model, y), type, fragment)
FITTED_CASES = [
    ("predict with fewer features", lambda m, y: m.predict(X[:, :3]),
     ValueError, "X has 3 features, but .* is expecting 4 features"),
    ("predict with more features", lambda m, y: m.predict(np.hstack([X, X])),
     ValueError, "X has 8 features, but .* is expecting 4 features"),
    ("predict sparse with fewer features",
     lambda m, y: m.predict(sp.csr_matrix(X[:, :3])),
     ValueError, "X has 3 features"),
    ("score with fewer features", lambda m, y: m.score(X[:, :3], y),
     ValueError, "X has 3 features"),
    ("partial_fit with fewer features", lambda m, y: m.partial_fit(X[:, :3], y),
     ValueError, "X has 3 features, but .* is expecting 4 features"),
    ("partial_fit with NaN", lambda m, y: m.partial_fit(_with(X, (0, 0), np.nan), y),
     ValueError, NAN_MSG),
    ("partial_fit with all-zero weights",
     lambda m, y: m.partial_fit(X, y, sample_weight=np.zeros(40)),
     ValueError, "at least one non-zero"),
    ("partial_fit with negative weights",
     lambda m, y: m.partial_fit(X, y, sample_weight=-np.ones(40)),
     ValueError, "Negative values"),
    ("partial_fit with empty X", lambda m, y: m.partial_fit(X[:0], y[:0]),
     ValueError, r"0 sample\(s\)"),
    ("predict with NaN", lambda m, y: m.predict(_with(X, (0, 0), np.nan)),
     ValueError, NAN_MSG),
    ("predict with complex X", lambda m, y: m.predict(X.astype(complex)),
     ValueError, "Complex data not supported"),
    ("predict with 1-D X", lambda m, y: m.predict(X[0]),
     ValueError, "Expected 2D array"),
    ("nested solver parameter on a solver name",
     lambda m, y: m.set_params(solver__beta_1=0.95),
     ValueError, (r"Cannot set 'solver__beta_1': solver is the name 'adam'. Give "
                  r"solver as an object \(e.g. solver=Adam")),
    ("nested schedule parameter on a schedule name",
     lambda m, y: m.set_params(learning_rate__power_t=0.3),
     ValueError, r"Cannot set 'learning_rate__power_t': learning_rate is the name"),
    ("warm_start fit with other features",
     lambda m, y: m.set_params(warm_start=True).fit(X[:, :3], y),
     ValueError, "warm_start: the previous fit has a different number"),
    # scikit-learn skips parameter validation in partial_fit once fitted;
    # skgd validates on every call
    ("invalid eta0 set between partial_fit calls",
     lambda m, y: m.set_params(eta0=-1.0).partial_fit(X, y),
     ValueError, r"'eta0' parameter .* range \(0.0, inf\)"),
    ("invalid solver object set between partial_fit calls",
     lambda m, y: m.set_params(solver=Adam(beta_1=2.0)).partial_fit(X, y),
     ValueError, r"'beta_1' parameter of Adam .* range \[0.0, 1.0\)"),
    ("optimal without alpha set between partial_fit calls",
     lambda m, y: m.set_params(learning_rate="optimal", alpha=0.0).partial_fit(X, y),
     ValueError, "alpha must be > 0"),
]

CLASSIFIER_CASES = [
    ("y with a single class", lambda E, y: _fit(E, y, X=X, y=np.zeros(40)),
     ValueError, "number of classes has to be greater than one"),
    ("continuous y", lambda E, y: _fit(E, y, X=X, y=X[:, 0] + 0.5),
     ValueError, "Unknown label type: continuous"),
    ("partial_fit without classes", lambda E, y: E().partial_fit(X, y),
     ValueError, "classes must be passed on the first call"),
    ("partial_fit with a single class",
     lambda E, y: E().partial_fit(X, np.zeros(40), classes=[0]),
     ValueError, "number of classes has to be greater than one"),
    ("partial_fit with a label outside classes",
     lambda E, y: E().partial_fit(X, y + 1, classes=[0, 1]),
     ValueError, r"y contains labels array\(\[2\]\) that are not in classes"),
    ("partial_fit with a NaN class",
     lambda E, y: E().partial_fit(X, y, classes=[0, 1, np.nan]),
     ValueError, "classes must not contain NaN"),
    ("partial_fit with 2-D classes",
     lambda E, y: E().partial_fit(X, y, classes=[[0, 1]]),
     ValueError, r"classes must be a 1-D array-like of labels; got shape \(1, 2\)"),
    ("partial_fit with a scalar for classes",
     lambda E, y: E().partial_fit(X, y, classes=3),
     ValueError, r"classes must be a 1-D array-like of labels; got shape \(\)"),
    ("multiclass coef_init as (n_features, n_classes)",
     lambda E, y: _fit(E, y, X=X, y=np.arange(40) % 3, coef_init=np.zeros((4, 3))),
     ValueError, r"coef_init has shape \(4, 3\); expected \(3, 4\)\."),
    ("multiclass coef_init flattened",
     lambda E, y: _fit(E, y, X=X, y=np.arange(40) % 3, coef_init=np.zeros(12)),
     ValueError, r"coef_init has shape \(12,\); expected \(3, 4\)\."),
    ("partial_fit with classes changed",
     lambda E, y: E().partial_fit(X, y, classes=[0, 1]).partial_fit(
         X, y, classes=[0, 1, 2]),
     ValueError, "differs from the classes of the first call"),
    ("partial_fit with class_weight='balanced'",
     lambda E, y: E(class_weight="balanced").partial_fit(X, y, classes=[0, 1]),
     ValueError, "class_weight='balanced' is not supported for partial_fit"),
    ("class_weight for an unknown class",
     lambda E, y: E(class_weight={5: 1.0}).fit(X, y),
     ValueError, r"classes, \[0, 1\], are not in class_weight"),
    ("negative class_weight", lambda E, y: E(class_weight={0: -2.0}).fit(X, y),
     ValueError, "class_weight must map every class to a finite weight >= 0"),
    ("class weights that zero every row",
     lambda E, y: E(class_weight={0: 0.0, 1: 0.0}).fit(X, y),
     ValueError, "sample weights sum to zero"),
    ("predict_proba of a margin loss",
     lambda E, y: E(loss="hinge", **FAST).fit(X, y).predict_proba(X),
     AttributeError, "has no attribute 'predict_proba'"),
]

REGRESSOR_CASES = [
    ("non-numeric y", lambda E, y: _fit(E, y, X=X, y=np.array(["a", "b"] * 20)),
     ValueError, "needs numeric targets"),
    ("non-numeric object y",
     lambda E, y: _fit(E, y, X=X, y=np.array(["a", "b"] * 20, dtype=object)),
     ValueError, "could not convert string to float"),
    ("y whose squares overflow", lambda E, y: _fit(E, y, X=X, y=y * 1e300),
     ValueError, "y has values too large to train on in float64.*Scale the targets"),
    ("y too large for float32 X",
     lambda E, y: _fit(E, y, X=X.astype(np.float32), y=y * 1e30),
     ValueError, "y has values too large to train on in float32"),
    ("two-target coef_init as (n_features, n_targets)",
     lambda E, y: _fit(E, y, X=X, y=np.column_stack([y, y]),
                       coef_init=np.zeros((4, 2))),
     ValueError, r"coef_init has shape \(4, 2\); expected \(2, 4\)\."),
    ("partial_fit with another number of targets",
     lambda E, y: E().partial_fit(X, y).partial_fit(X, np.column_stack([y, y])),
     ValueError, r"y has 2 target\(s\) but the model was fitted on 1"),
]


def _cases(cases, estimators):
    return [pytest.param(E, call, error, match, id=f"{E.__name__}-{name}")
            for name, call, error, match in cases for E in estimators]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
@pytest.mark.parametrize(
    "Estimator, call, error, match",
    _cases(COMMON_CASES, ESTIMATORS) + _cases(CLASSIFIER_CASES, [GDClassifier])
    + _cases(REGRESSOR_CASES, [GDRegressor]),
)
def test_bad_input_raises_a_clear_error(Estimator, call, error, match):
    with pytest.raises(error, match=match) as info:
        call(Estimator, Y[Estimator])
    if error is AttributeError:  # available_if chains the reason
        assert "not available for loss='hinge'" in str(info.value.__cause__)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("layout", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_of_finite_squares_are_accepted_though_their_total_overflows(
        Estimator, layout, dtype):
    # every row's squared norm is finite, the sum of all of them is not: the
    # one-pass check over all squares overflows, and the rows decide
    value = np.sqrt(np.finfo(dtype).max) / 8  # a row of 4: 1/16 of the largest
    big = np.full((40, 4), value, dtype=dtype)
    X_checked, _ = Estimator(**FAST)._validate_X_y(layout(big), Y[Estimator], reset=True,
                                                   dtype=dtype)
    with np.errstate(over="ignore"):
        assert np.isinf(np.sum(np.square(big, dtype=dtype), dtype=dtype))
    assert X_checked.dtype == dtype and X_checked.shape == big.shape
    # one row of eight times that value: its own squares overflow
    big[7] *= 8
    with pytest.raises(ValueError, match="too large to train on"):
        Estimator(**FAST)._validate_X_y(layout(big), Y[Estimator], reset=True, dtype=dtype)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator, call, error, match",
                         _cases(FITTED_CASES, ESTIMATORS))
def test_bad_input_to_a_fitted_model_raises_and_changes_nothing(Estimator, call,
                                                                 error, match):
    model = _fitted(Estimator)
    y = Y[Estimator]
    coef, intercept, t, state = (model.coef_.copy(), model.intercept_.copy(),
                                 model.t_, model._progress.state.copy())
    with pytest.raises(error, match=match):
        call(model, y)
    np.testing.assert_array_equal(model.coef_, coef)
    np.testing.assert_array_equal(model.intercept_, intercept)
    np.testing.assert_array_equal(model._progress.state, state)
    assert model.t_ == t


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("method", ["predict", "score", "decision_function"])
def test_unfitted_model_raises_not_fitted(Estimator, method):
    est = Estimator()
    if not hasattr(est, method):
        pytest.skip(f"{Estimator.__name__} has no {method}")
    args = (X, Y[Estimator]) if method == "score" else (X,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(est, method)(*args)


# ---- invalid hyper-parameters: each named, with its valid range -------------
# (parameter, bad value, fragment of the range or choices the message lists)
PARAMETERS = [
    ("alpha", -1.0, r"range \[0.0, inf\)"),
    ("l1_ratio", 1.5, r"range \[0.0, 1.0\]"),
    ("eta0", 0.0, r"range \(0.0, inf\) or a str among \{'auto'\}"),
    ("eta0", np.inf, r"range \(0.0, inf\)"),
    ("eta0", "fast", r"a str among \{'auto'\}"),
    ("power_t", np.nan, r"range \(-inf, inf\)"),
    ("max_iter", 0, r"int in the range \[1, inf\)"),
    ("max_iter", 2.5, r"int in the range \[1, inf\)"),
    ("tol", np.inf, r"range \(-inf, inf\) or None"),
    ("n_iter_no_change", 0, r"int in the range \[1, inf\)"),
    ("validation_fraction", 1.0, r"range \(0.0, 1.0\)"),
    ("validation_fraction", 0.0, r"range \(0.0, 1.0\)"),
    ("average", -1, r"range \[0, inf\)"),
    ("batch_size", 0, r"int in the range \[1, inf\) or a str among \{'full'\}"),
    ("batch_size", "half", r"a str among \{'full'\}"),
    ("batch_size", 2.0, r"int in the range \[1, inf\)"),
    ("solver", "lbfgs", r"str among \{.*'adam'.*\} or an instance of .*BaseSolver"),
    ("learning_rate", "bogus", r"str among \{.*'adaptive'.*\} or an instance of"),
    ("penalty", "l3", r"str among \{.*'elasticnet'.*\} or None"),
    ("fit_intercept", "yes", "instance of 'bool'"),
    ("shuffle", 2, "instance of 'bool'"),
    ("early_stopping", "no", "instance of 'bool'"),
    ("warm_start", None, "instance of 'bool'"),
    ("random_state", "seed", r"range \[0, 4294967295\]"),
    ("verbose", -1, r"range \[0, inf\)"),
    ("n_jobs", "all", "instance of 'int' or None"),
    ("loss", "bogus", "str among"),
]
CLASSIFIER_PARAMETERS = [
    ("loss", "squared_error", r"\{.*'hinge'.*'log_loss'.*\}|\{.*'log_loss'.*'hinge'.*\}"),
    ("class_weight", "auto", r"str among \{'balanced'\}, an instance of 'dict' or None"),
]
REGRESSOR_PARAMETERS = [
    ("loss", "hinge", r"'squared_error'"),
    ("epsilon", -0.1, r"range \[0.0, inf\)"),
]
# solver and schedule objects validate their own parameters
OBJECT_PARAMETERS = [
    ("solver", Adam(beta_1=1.0), "beta_1", r"range \[0.0, 1.0\)"),
    ("solver", Adam(beta_2=-0.5), "beta_2", r"range \[0.0, 1.0\)"),
    ("solver", Adam(epsilon=0.0), "epsilon", r"range \(0.0, inf\)"),
    ("solver", Adam(amsgrad="yes"), "amsgrad", "instance of 'bool'"),
    ("solver", Momentum(momentum=1.0), "momentum", r"range \[0.0, 1.0\)"),
    ("solver", Momentum(nesterov=1.5), "nesterov", "instance of 'bool'"),
    ("solver", RMSprop(rho=-0.1), "rho", r"range \[0.0, 1.0\)"),
    ("solver", AdaGrad(epsilon=-1.0), "epsilon", r"range \(0.0, inf\)"),
    ("learning_rate", Adaptive(factor=1.5), "factor", r"range \(0.0, 1.0\)"),
    ("learning_rate", Adaptive(min_eta=0.0), "min_eta", r"range \(0.0, inf\)"),
    ("learning_rate", Exponential(gamma=0.0), "gamma", r"range \(0.0, 1.0\]"),
    ("learning_rate", InvScaling(power_t=np.inf), "power_t", r"range \(-inf, inf\)"),
]


def _parameter_cases():
    for E, table in [(GDClassifier, PARAMETERS + CLASSIFIER_PARAMETERS),
                     (GDRegressor, PARAMETERS + REGRESSOR_PARAMETERS)]:
        for name, value, valid in table:
            yield pytest.param(E, name, value, name, valid,
                               id=f"{E.__name__}-{name}={value!r}")
        for name, value, inner, valid in OBJECT_PARAMETERS:
            yield pytest.param(E, name, value, inner, valid,
                               id=f"{E.__name__}-{name}={value!r}")


@pytest.mark.parametrize("Estimator, name, value, named, valid", _parameter_cases())
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_hyper_parameter_is_named_with_its_range(Estimator, name, value,
                                                         named, valid, method):
    est = Estimator(**{name: value})
    y = Y[Estimator]
    kwargs = {"classes": [0, 1]} if method == "partial_fit" and Estimator is GDClassifier else {}
    with pytest.raises(ValueError, match=rf"'{named}' parameter .*must be .*{valid}"):
        getattr(est, method)(X, y, **kwargs)
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_cross_parameter_rule_is_explained(Estimator):
    with pytest.raises(ValueError, match="alpha must be > 0 since learning_rate is 'optimal'"):
        Estimator(learning_rate="optimal", alpha=0.0).fit(X, Y[Estimator])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_custom_solver_without_update_is_a_type_error(Estimator):
    from skgd.solvers import BaseSolver

    class NoUpdate(BaseSolver):
        pass

    with pytest.raises(TypeError, match="NoUpdate must define `update`"):
        Estimator(solver=NoUpdate()).fit(X, Y[Estimator])


# ---- pandas: feature names kept and checked ---------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_dataframe_feature_names_are_kept_and_checked(Estimator):
    y = Y[Estimator]
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = Estimator(**FAST).fit(df, pd.Series(y))
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c", "d"])
    # the same numbers as an array give the same model
    plain = Estimator(**FAST).fit(X, y)
    np.testing.assert_array_equal(model.coef_, plain.coef_)
    np.testing.assert_allclose(model.predict(df), plain.predict(X), rtol=1e-12)
    renamed = df.rename(columns={"a": "z"})
    for call in (model.predict, lambda Z: model.partial_fit(Z, y)):
        with pytest.raises(ValueError, match="feature names should match"):
            call(renamed)
        with pytest.raises(ValueError, match="must be in the same order"):
            call(df[["b", "a", "c", "d"]])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        model.predict(X)
    # a failed refit on other columns keeps the fitted names
    with pytest.raises(ValueError, match="NaN"):
        model.fit(pd.DataFrame(_with(X, (0, 0), np.nan), columns=list("wxyz")), y)
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c", "d"])
    assert model.n_features_in_ == 4


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_dataframe_with_missing_or_text_columns_is_rejected(Estimator):
    y = Y[Estimator]
    df = pd.DataFrame(X, columns=list("abcd"))
    with pytest.raises(ValueError, match="could not convert string to float"):
        Estimator(**FAST).fit(df.assign(e="text"), y)
    nullable = pd.array([1] * 39 + [None], dtype="Int64")
    with pytest.raises(ValueError, match="Input X contains NaN"):
        Estimator(**FAST).fit(df.assign(e=nullable), y)


# ---- layouts that must work, and give the plain float64 model ---------------
def _memmap(tmp_path):
    path = tmp_path / "X.dat"
    writer = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    writer[:] = X
    writer.flush()
    del writer
    return np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)


def _read_only(_):
    frozen = X.copy()
    frozen.flags.writeable = False
    return frozen


def _strided(_):
    wide = np.zeros((X.shape[0], 2 * X.shape[1]))
    wide[:, ::2] = X
    return wide[:, ::2]


def _explicit(A):
    """CSR equal to ``A`` with an explicit 0.0 stored in every row's last column
    that holds none (and kept, since nothing calls eliminate_zeros)."""
    indptr, indices, data = [0], [], []
    for r in range(A.shape[0]):
        cols = list(A.indices[A.indptr[r]:A.indptr[r + 1]])
        vals = list(A.data[A.indptr[r]:A.indptr[r + 1]])
        for c in range(A.shape[1]):
            if c not in cols:
                cols.append(c)
                vals.append(0.0)
        order = np.argsort(cols)
        indices.extend(np.asarray(cols)[order])
        data.extend(np.asarray(vals)[order])
        indptr.append(len(indices))
    out = sp.csr_matrix((np.asarray(data), np.asarray(indices, dtype=np.int32),
                         np.asarray(indptr, dtype=np.int32)), shape=A.shape)
    assert out.nnz == A.shape[0] * A.shape[1] > A.nnz  # zeros really stored
    return out


def _unsorted(_):
    A = sp.csr_matrix(X)
    for r in range(A.shape[0]):
        s, e = A.indptr[r], A.indptr[r + 1]
        A.indices[s:e] = A.indices[s:e][::-1].copy()
        A.data[s:e] = A.data[s:e][::-1].copy()
    A.has_sorted_indices = False
    assert not A.has_sorted_indices
    return A


def _duplicates(_):
    """CSR whose every stored value is split into two entries of its cell
    (0.25 and 0.75 of it), which X.toarray() adds up."""
    A = sp.csr_matrix(X)
    counts = np.diff(A.indptr)
    B = sp.csr_matrix((np.repeat(A.data, 2) * np.tile([0.25, 0.75], A.nnz),
                       np.repeat(A.indices, 2), np.r_[0, np.cumsum(2 * counts)]),
                      shape=A.shape)
    assert not B.has_canonical_format
    return B


def _int64_indices(_):
    A = sp.csr_matrix(X)
    A.indices = A.indices.astype(np.int64)
    A.indptr = A.indptr.astype(np.int64)
    assert A.indices.dtype == np.int64
    return A


def _int64_indptr(_):
    A = sp.csr_matrix(X)
    A.indptr = A.indptr.astype(np.int64)  # int32 column indices, int64 indptr
    return A


DENSE_LAYOUTS = {
    "fortran": lambda _: np.asfortranarray(X),
    "non-contiguous": _strided,
    "read-only": _read_only,
    "memmap": _memmap,
    "int64": lambda _: X.astype(np.int64),
    "int32": lambda _: X.astype(np.int32),
    "int8": lambda _: X.astype(np.int8),
    "float16": lambda _: X.astype(np.float16),
    "object": lambda _: X.astype(object),
    "list of lists": lambda _: X.tolist(),
    "dataframe": lambda _: pd.DataFrame(X.astype(np.int64)),
}
SPARSE_LAYOUTS = {
    **{f"{fmt}_matrix": (lambda fmt: lambda _: sp.csr_matrix(X).asformat(fmt))(fmt)
       for fmt in ["csr", "csc", "coo", "bsr", "lil", "dok", "dia"]},
    **{f"{fmt}_array": (lambda fmt: lambda _: sp.csr_array(X).asformat(fmt))(fmt)
       for fmt in ["csr", "csc", "coo", "bsr", "lil", "dok", "dia"]},
    "csr with explicit zeros": lambda _: _explicit(sp.csr_matrix(X)),
    "csr with unsorted indices": _unsorted,
    "csr with duplicate entries": _duplicates,
    "csr with int64 indices": _int64_indices,
    "csr with int64 indptr, int32 indices": _int64_indptr,
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("layout", list(DENSE_LAYOUTS) + list(SPARSE_LAYOUTS))
def test_layout_gives_the_model_of_a_float64_array(Estimator, layout, tmp_path):
    make = {**DENSE_LAYOUTS, **SPARSE_LAYOUTS}[layout]
    y = Y[Estimator]
    params = dict(FAST, batch_size=8, alpha=1e-3)
    reference = Estimator(**params).fit(X, y)
    Xl = make(tmp_path)
    model = Estimator(**params).fit(Xl, y)
    assert model.coef_.dtype == np.float64
    if layout in SPARSE_LAYOUTS:
        # sums over a row's stored entries in their stored order: equal up to
        # rounding (and in practice bit for bit)
        check = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)  # noqa: E731
    else:
        check = np.testing.assert_array_equal
    check(model.coef_, reference.coef_)
    check(model.intercept_, reference.intercept_)
    # BLAS may sum a Fortran array's products in another order
    np.testing.assert_allclose(model.predict(Xl), reference.predict(X), rtol=1e-12)
    # partial_fit takes the layout too, and continues the same way
    check(model.partial_fit(Xl, y).coef_, reference.partial_fit(X, y).coef_)
    if isinstance(Xl, np.ndarray):
        np.testing.assert_array_equal(np.asarray(Xl), X)  # input left untouched


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_validation_split_of_zero_weights_is_a_clear_error(Estimator):
    # one row of weight: wherever the split puts it, the other part is all
    # zeros, which must fail before any work with a message that says so
    # (not "weights must contain at least one non-zero number" from
    # sklearn.metrics after an epoch)
    messages = set()
    for row in range(0, 40, 4):
        sw = np.zeros(40)
        sw[row] = 1.0
        with pytest.raises(ValueError) as error:
            Estimator(early_stopping=True, **FAST).fit(
                X, Y[Estimator], sample_weight=sw)
        messages.add("validation samples all have weight 0" in str(error.value))
    assert True in messages  # the row landed in training at least once
