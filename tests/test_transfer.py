"""Fine-tuning and transfer: coef_init from any linear model, warm_start_from,
L2-SP (penalty_reference) and freezing (freeze_features, freeze_intercept).

Independent truths: the L2-SP optimum of squared_error is a linear system
(ridge toward w0), that of log_loss comes from scipy.optimize; frozen
coefficients are compared bit for bit with np.array_equal.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import clone
from sklearn.linear_model import (
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.model_selection import GridSearchCV
from sklearn.svm import LinearSVC

from skgd import GDClassifier, GDRegressor, warm_start_from
from skgd.solvers import SOLVERS

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

LAYOUTS = [np.asarray, sp.csr_matrix]
LAYOUT_IDS = ["dense", "csr"]


def _data(n=120, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    # a column with few non-zeros, so the lazy sparse path skips it often
    X[rng.random(n) < 0.8, 2] = 0.0
    w = rng.normal(size=d)
    return X, X @ w + 0.3 + 0.1 * rng.normal(size=n), w


# ---------------------------------------------------------------------------
# coef_init from fitted models, warm_start_from
# ---------------------------------------------------------------------------
def _classification(n_classes):
    X, y, _ = _data()
    y = np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, np.array(["a", "b", "c", "d"])[y]


SOURCES = {
    "LogisticRegression-binary": (lambda: LogisticRegression(), 2),
    "LogisticRegression-multinomial": (lambda: LogisticRegression(), 3),
    "SGDClassifier-ovr": (lambda: SGDClassifier(random_state=0), 3),
    "LinearSVC": (lambda: LinearSVC(), 2),
    "RidgeClassifier": (lambda: RidgeClassifier(), 3),
    "GDClassifier": (lambda: GDClassifier(random_state=0, max_iter=5), 3),
    "Ridge": (lambda: Ridge(), 0),
    "Ridge-multitarget": (lambda: Ridge(), -2),
    "SGDRegressor": (lambda: SGDRegressor(random_state=0), 0),
    "GDRegressor": (lambda: GDRegressor(random_state=0, max_iter=5), 0),
}


def _source_data(n_classes):
    if n_classes > 0:
        return _classification(n_classes)
    X, y, _ = _data()
    return X, (y if n_classes == 0 else np.c_[y, 2 * y - 1])


@pytest.mark.parametrize("name", list(SOURCES))
def test_coef_init_and_warm_start_from_take_any_linear_model(name):
    make, n_classes = SOURCES[name]
    X, y = _source_data(n_classes)
    source = make().fit(X, y)
    Est = GDRegressor if n_classes <= 0 else GDClassifier
    # everything frozen: fit must return the source's parameters exactly
    frozen = Est(freeze_features=np.ones(X.shape[1], bool), freeze_intercept=True,
                 max_iter=2, tol=None, random_state=0)
    frozen.fit(X, y, coef_init=source)
    assert_array_equal(np.atleast_2d(frozen.coef_), np.atleast_2d(source.coef_))
    assert_array_equal(frozen.intercept_.ravel(),
                       np.broadcast_to(source.intercept_, frozen.intercept_.shape))
    # the same from plain arrays
    coef, intercept = np.array(source.coef_), np.array(source.intercept_)
    again = clone(frozen).fit(X, y, coef_init=coef, intercept_init=intercept)
    assert_array_equal(again.coef_, frozen.coef_)

    model = warm_start_from(source, max_iter=3, tol=None, random_state=0)
    assert isinstance(model, Est) and model.warm_start
    assert_allclose(model.predict(X) if n_classes <= 0 else model.decision_function(X),
                    source.predict(X) if n_classes <= 0 else source.decision_function(X),
                    rtol=1e-12, atol=1e-12)
    if n_classes > 0:
        assert_array_equal(model.predict(X), source.predict(X))
        assert_array_equal(model.classes_, source.classes_)
    start = np.array(model.coef_)
    model.fit(X, y)  # continues from the source: few epochs, small moves
    assert model.n_iter_ == 3 and not np.array_equal(model.coef_, start)
    model.partial_fit(X, y)
    assert model.n_iter_ == 4


def test_warm_start_from_continues_rather_than_restarts():
    X, y = _classification(2)
    source = LogisticRegression(C=100.0).fit(X, y)
    params = dict(solver="sgd", eta0=1e-4, learning_rate="constant", max_iter=1,
                  tol=None, random_state=0)
    tuned = warm_start_from(source, **params).fit(X, y)
    fresh = GDClassifier(**params).fit(X, y)
    gap = np.abs(tuned.coef_ - source.coef_).max()
    assert gap < 1e-2 * np.abs(source.coef_).max()
    assert np.abs(fresh.coef_ - source.coef_).max() > 100 * gap
    # partial_fit of a warm_start_from model starts its optimiser afresh
    streamed = warm_start_from(source, **params).partial_fit(X, y)
    assert streamed.t_ == tuned.t_


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_fine_tuning_to_targets_on_another_scale_is_no_divergence(call):
    # the start's loss (targets 100 times smaller) is far above 1e4 times
    # the all-zero model's before any step: a start, not a blow-up. Plain
    # SGD from there reaches Ridge's fit of the new targets
    rng = np.random.RandomState(0)
    X = rng.randn(500, 3)
    w = np.array([1.0, -2.0, 0.5])
    pre = Ridge(alpha=1e-6).fit(X, X @ w)
    y_new = 0.01 * (X @ w) + 1e-3 * rng.randn(500)
    model = warm_start_from(pre, solver="sgd", batch_size=1, eta0=0.01,
                            learning_rate="constant", alpha=1e-6, max_iter=20,
                            tol=None, random_state=0)
    if call == "fit":
        model.fit(X, y_new)
    else:
        for _ in range(20):
            model.partial_fit(X, y_new)
    target = Ridge(alpha=1e-6 * 500).fit(X, y_new)
    assert_allclose(model.coef_, target.coef_, atol=2e-4)


def test_coef_init_model_with_other_classes_is_rejected():
    X, y = _classification(3)
    source = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="classes"):
        GDClassifier().fit(X, np.where(y == "a", "z", y), coef_init=source)
    with pytest.raises(TypeError, match="coef_"):
        from sklearn.tree import DecisionTreeClassifier
        warm_start_from(DecisionTreeClassifier().fit(X, y))


def test_warm_start_fit_resets_the_optimiser_partial_fit_keeps_it():
    X, y, _ = _data()
    reg = GDRegressor(solver="adam", max_iter=3, tol=None, random_state=0).fit(X, y)
    assert reg.t_ == 3 * 4
    reg.set_params(warm_start=True).fit(X, y)
    assert reg.t_ == 3 * 4 and reg.n_iter_ == 3  # fresh moments, t_ and schedule
    reg.partial_fit(X, y)
    assert reg.t_ == 4 * 4 and reg.n_iter_ == 4  # partial_fit continues


# ---------------------------------------------------------------------------
# L2-SP: the penalty centred on a reference
# ---------------------------------------------------------------------------
def _ridge_toward(X, y, alpha, w0):
    """argmin mean 0.5 (y - Xw - b)^2 + alpha/2 ||w - w0||^2 (b free)."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    n, d = X.shape
    w = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(d), Xc.T @ yc / n + alpha * w0)
    return w, y.mean() - X.mean(axis=0) @ w


# full batch: every rule converges to the optimum (settings as in
# test_optimality.py); mini-batches with a schedule that decays on plateaus
FULL_BATCH = {
    "sgd": dict(solver="sgd", learning_rate="constant", eta0=0.3, max_iter=3000,
                tol=None),
    "momentum": dict(solver="momentum", learning_rate="constant", eta0=0.04,
                     max_iter=3000, tol=None),
    "nesterov": dict(solver="nesterov", learning_rate="constant", eta0=0.04,
                     max_iter=3000, tol=None),
    "adagrad": dict(solver="adagrad", learning_rate="constant", eta0=0.5,
                    max_iter=3000, tol=None),
    # normalised steps zig-zag near the optimum: "adaptive" shrinks them
    "rmsprop": dict(solver="rmsprop", eta0=0.01, max_iter=5000, n_iter_no_change=20),
    "adam": dict(solver="adam", eta0=0.01, max_iter=5000, n_iter_no_change=50),
}
MINI_BATCH = {
    "sgd": dict(solver="sgd", eta0=0.05), "momentum": dict(solver="momentum", eta0=0.01),
    "nesterov": dict(solver="nesterov", eta0=0.01), "adagrad": dict(solver="adagrad", eta0=0.3),
    "rmsprop": dict(solver="rmsprop", eta0=0.01), "adam": dict(solver="adam", eta0=0.01),
}
L2SP_CASES = ([(s, "full", 1e-4 if s in ("rmsprop", "adam") else 1e-8)
               for s in FULL_BATCH]
              + [(s, 16, 2e-2) for s in MINI_BATCH] + [("sgd", 1, 1e-2)])


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("solver, batch_size, atol", L2SP_CASES)
def test_l2sp_reaches_ridge_toward_reference(solver, batch_size, atol, layout):
    X, y, w_true = _data()
    w0 = w_true + np.array([1.0, -1.0, 2.0, 0.5, -0.5, 0.0])
    alpha = 0.5  # strong: the reference matters, the problem is well conditioned
    w_opt, b_opt = _ridge_toward(X, y, alpha, w0)
    assert np.abs(w_opt - _ridge_toward(X, y, alpha, 0 * w0)[0]).max() > 0.3
    config = dict(tol=1e-12) | (FULL_BATCH[solver] if batch_size == "full"
                                else dict(MINI_BATCH[solver], max_iter=3000,
                                          tol=1e-10, n_iter_no_change=20))
    reg = GDRegressor(alpha=alpha, penalty_reference="init", random_state=0,
                      batch_size=batch_size, **config)
    reg.fit(layout(X), y, coef_init=w0)
    assert_allclose(reg.coef_, w_opt, atol=atol)
    assert_allclose(reg.intercept_, b_opt, atol=atol)
    # an explicit reference is the same objective, reached from zero (the
    # adaptive stop of Adam leaves it ~4e-3 away from this farther start)
    ref = clone(reg).set_params(penalty_reference=w0).fit(layout(X), y)
    assert_allclose(ref.coef_, w_opt, atol=max(atol, 1e-2))


def test_l2sp_lazy_sparse_sgd_equals_dense():
    # plain SGD's lazy sparse updates are exact: CSR == dense to rounding,
    # also for the coordinates a batch skips (column 2 is mostly zeros)
    X, y, w_true = _data()
    reg = GDRegressor(solver="sgd", batch_size=4, alpha=0.3, penalty="elasticnet",
                      penalty_reference=w_true + 1.0, eta0=0.02,
                      learning_rate="invscaling", max_iter=5, tol=None, random_state=0)
    dense = clone(reg).fit(X, y)
    sparse = clone(reg).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)


def test_l2sp_log_loss_matches_scipy():
    X, y = _classification(2)
    t = (y == "b").astype(float)
    n, d = X.shape
    w0 = np.linspace(-1.0, 1.0, d)
    alpha = 0.05

    def objective(wb):
        z = X @ wb[:d] + wb[d]
        loss = np.mean(np.logaddexp(0.0, z) - t * z)
        grad_z = (expit(z) - t) / n
        dw = wb[:d] - w0
        return (loss + 0.5 * alpha * dw @ dw,
                np.r_[X.T @ grad_z + alpha * dw, grad_z.sum()])

    opt = minimize(objective, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                   options=dict(gtol=1e-12, ftol=1e-15, maxiter=10000)).x
    for layout in LAYOUTS:
        clf = GDClassifier(alpha=alpha, penalty_reference=w0, batch_size="full",
                           solver="sgd", eta0=1.0, learning_rate="constant",
                           max_iter=4000, tol=None).fit(layout(X), y)
        assert_allclose(clf.coef_.ravel(), opt[:d], atol=1e-5)
        assert_allclose(clf.intercept_, opt[d], atol=1e-5)
        assert clf.loss_curve_[-1] == pytest.approx(objective(opt)[0], rel=1e-7)


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_l1_toward_reference_gives_exact_reference_values(solver, layout):
    # a strong L1 pull toward w0 ends on w0 exactly (the prox of |w - w0|)
    X, y, _ = _data()
    w0 = np.linspace(-1.0, 1.0, X.shape[1])
    reg = GDRegressor(solver=solver, penalty="l1", alpha=50.0, penalty_reference=w0,
                      batch_size=8, eta0=0.01, learning_rate="constant", max_iter=5,
                      tol=None, random_state=0).fit(layout(X), y)
    assert_array_equal(reg.coef_, w0)


def test_penalty_reference_is_grid_searchable():
    X, y, w_true = _data()
    search = GridSearchCV(
        GDRegressor(alpha=1.0, max_iter=50, random_state=0),
        {"penalty_reference": [None, "init"]}, cv=3)
    search.fit(X, y, coef_init=w_true)
    assert search.best_params_["penalty_reference"] == "init"
    with pytest.raises(ValueError, match="penalty_reference has shape"):
        GDRegressor(penalty_reference=np.ones(3)).fit(X, y)


# ---------------------------------------------------------------------------
# freezing
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_frozen_coefficients_stay_bit_for_bit(solver, batch_size, layout):
    X, y, _ = _data()
    y3 = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    mask = np.array([True, False, True, False, False, True])
    rng = np.random.default_rng(1)
    for est, target, k in [
        (GDRegressor(penalty="elasticnet", alpha=0.01, average=3), y, 1),
        (GDClassifier(penalty="l2", alpha=0.01), y3, 3),
    ]:
        coef = rng.normal(size=(k, X.shape[1]))
        intercept = rng.normal(size=k)
        est.set_params(solver=solver, batch_size=batch_size, freeze_features=mask,
                       freeze_intercept=True, max_iter=3, tol=None, random_state=0)
        est.fit(layout(X), target, coef_init=coef, intercept_init=intercept)
        W = np.atleast_2d(est.coef_)
        assert_array_equal(W[:, mask], coef[:, mask])
        assert_array_equal(est.intercept_, intercept)
        assert np.all(W[:, ~mask] != coef[:, ~mask])
        est.partial_fit(layout(X), target)
        assert_array_equal(np.atleast_2d(est.coef_)[:, mask], coef[:, mask])


def test_freeze_features_by_index_and_bad_masks():
    X, y, _ = _data()
    w0 = np.arange(6.0)
    reg = GDRegressor(freeze_features=[0, 4], max_iter=3, tol=None).fit(
        X, y, coef_init=w0)
    assert reg.coef_[0] == 0.0 and reg.coef_[4] == 4.0
    with pytest.raises(ValueError, match="freeze_features"):
        GDRegressor(freeze_features=np.ones(5, bool)).fit(X, y)
    with pytest.raises(ValueError, match="freeze_features"):
        GDRegressor(freeze_features=[7]).fit(X, y)


def test_fine_tuning_on_rows_missing_classes_keeps_the_model_classes():
    X, y = _classification(3)
    source = LogisticRegression().fit(X, y)
    few = np.flatnonzero(y != "c")[:10]  # no "c" among them
    for model in (warm_start_from(source, max_iter=2, tol=None),
                  GDClassifier(max_iter=2, tol=None)):
        if model.warm_start:
            model.fit(X[few], y[few])
        else:
            model.fit(X[few], y[few], coef_init=source)
        assert_array_equal(model.classes_, source.classes_)
        assert model.coef_.shape == source.coef_.shape
    with pytest.raises(ValueError, match="not in classes"):
        warm_start_from(source).fit(X[:5], ["a", "b", "q", "a", "b"])


def test_grid_search_fine_tunes_every_candidate_from_a_fitted_model():
    X, y = _classification(3)
    source = LogisticRegression().fit(X, y)
    search = GridSearchCV(
        GDClassifier(penalty_reference="init", max_iter=3, tol=None, random_state=0),
        {"alpha": [1e-3, 1e-1], "freeze_intercept": [False, True]}, cv=2)
    search.fit(X, y, coef_init=source)  # a model is passed through unsplit
    best = search.best_estimator_
    assert_array_equal(best.classes_, source.classes_)
    if best.freeze_intercept:
        assert_array_equal(best.intercept_, source.intercept_)
