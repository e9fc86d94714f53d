"""Soft targets (GDClassifier.fit_soft) and DistillationClassifier.

Independent truths: one-hot soft targets are the hard labels (bit for bit);
the soft cross-entropy's derivative against finite differences; the soft
optimum against scipy.optimize; alpha=0 is training on the labels; a
temperature-1 teacher that knows the labels' distribution gives fit_soft on
that distribution.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skgd import DistillationClassifier, GDClassifier
from skgd._kernels.losses import LOG, MULTINOMIAL, row_loss
from skgd.solvers import SOLVERS

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

LAYOUTS = [np.asarray, sp.csr_matrix]
LAYOUT_IDS = ["dense", "csr"]


def _data(n_classes=3, n=90, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random(n) < 0.6, 1] = 0.0
    logits = X @ rng.normal(size=(d, n_classes))
    proba = softmax(2.0 * logits, axis=1)
    y = np.array([rng.choice(n_classes, p=p) for p in proba])
    return X, y, proba


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("batch_size", [1, 8, "full"])
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_one_hot_soft_targets_equal_hard_labels(solver, batch_size, layout):
    for n_classes in (2, 3):
        X, y, _ = _data(n_classes)
        params = dict(solver=solver, batch_size=batch_size, max_iter=2, tol=None,
                      random_state=0)
        hard = GDClassifier(**params).fit(layout(X), y)
        soft = GDClassifier(**params).fit_soft(layout(X), np.eye(n_classes)[y])
        assert_array_equal(soft.coef_, hard.coef_)
        assert_array_equal(soft.intercept_, hard.intercept_)
        assert_array_equal(soft.classes_, hard.classes_)


@pytest.mark.parametrize("code, k", [(LOG, 1), (MULTINOMIAL, 3)])
def test_soft_cross_entropy_derivative_matches_finite_differences(code, k):
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = rng.normal(scale=2.0, size=k)
        q = rng.dirichlet(np.ones(k + (k == 1)))[-k:]  # LOG: q = P(class 1)
        dloss = np.zeros(k)
        loss = row_loss(code, p, q, 0.0, dloss)
        expected = (np.logaddexp(0.0, p[0]) - q[0] * p[0] if code == LOG
                    else -q @ log_softmax(p))
        assert loss == pytest.approx(expected, rel=1e-12)
        h = 1e-6
        for c in range(k):
            e = np.zeros(k)
            e[c] = h
            numeric = (row_loss(code, p + e, q, 0.0, np.zeros(k))
                       - row_loss(code, p - e, q, 0.0, np.zeros(k))) / (2 * h)
            assert dloss[c] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
def test_soft_targets_reach_the_soft_optimum(layout):
    X, _, proba = _data(3)
    n, d = X.shape
    alpha = 0.01

    def objective(flat):
        W = flat.reshape(3, d + 1)
        Z = X @ W[:, :d].T + W[:, d]
        G = (softmax(Z, axis=1) - proba) / n
        value = -np.sum(proba * log_softmax(Z, axis=1)) / n
        value += 0.5 * alpha * np.sum(W[:, :d] ** 2)
        grad = np.column_stack([G.T @ X + alpha * W[:, :d], G.sum(axis=0)])
        return value, grad.ravel()

    opt = minimize(objective, np.zeros(3 * (d + 1)), jac=True, method="L-BFGS-B",
                   options=dict(gtol=1e-12, ftol=1e-15, maxiter=10000))
    clf = GDClassifier(alpha=alpha, solver="sgd", batch_size="full", eta0=2.0,
                       learning_rate="constant", max_iter=3000, tol=None)
    clf.fit_soft(layout(X), proba)
    assert clf.loss_curve_[-1] == pytest.approx(opt.fun, rel=1e-8)
    W = opt.x.reshape(3, d + 1)
    # the softmax is invariant to a shift of every class's scores, the L2
    # penalty pins the coefficients' and the class-mean of the intercepts
    assert_allclose(clf.coef_, W[:, :d], atol=1e-4)
    assert_allclose(clf.intercept_ - clf.intercept_.mean(), W[:, d] - W[:, d].mean(),
                    atol=1e-4)


def test_fit_soft_input_checks_and_binary_forms():
    X, y, _ = _data(2)
    q = np.where(y == 1, 0.8, 0.3)
    a = GDClassifier(max_iter=3, tol=None, random_state=0).fit_soft(X, q)
    b = GDClassifier(max_iter=3, tol=None, random_state=0).fit_soft(
        X, np.c_[q, 1 - q][:, ::-1], classes=["x", "y"])
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(b.classes_, ["x", "y"])
    # columns are matched to sorted classes
    c = GDClassifier(max_iter=3, tol=None, random_state=0).fit_soft(
        X, np.c_[q, 1 - q], classes=["y", "x"])
    assert_array_equal(c.coef_, b.coef_)
    with pytest.raises(ValueError, match="probability rows"):
        GDClassifier().fit_soft(X, np.c_[q, q])
    with pytest.raises(ValueError, match="columns"):
        GDClassifier().fit_soft(X, np.c_[q, 1 - q], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="log_loss"):
        GDClassifier(loss="hinge").fit_soft(X, q)


class _Oracle(ClassifierMixin, BaseEstimator):
    """A teacher that knows the labels' distribution: predict_proba returns
    the rows it was built with, for the rows of X it was built on."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return self.proba


def test_distillation_alpha_zero_is_training_on_labels():
    X, y, _ = _data(3)
    student = GDClassifier(max_iter=5, tol=None, random_state=0)
    model = DistillationClassifier(LogisticRegression(), student, alpha=0.0,
                                   temperature=3.0).fit(X, y)
    hard = clone(student).fit(X, y)
    assert_array_equal(model.student_.coef_, hard.coef_)
    assert_array_equal(model.predict(X), hard.predict(X))


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("batch_size", [1, 8, "full"])
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_distillation_from_perfect_teacher_learns_its_distribution(solver, batch_size,
                                                                   layout):
    X, y, proba = _data(3)
    student = GDClassifier(solver=solver, batch_size=batch_size, max_iter=3, tol=None,
                           random_state=0)
    model = DistillationClassifier(_Oracle(proba), student, alpha=1.0,
                                   temperature=1.0).fit(layout(X), y)
    direct = clone(student).fit_soft(layout(X), proba)
    assert_array_equal(model.student_.coef_, direct.coef_)
    assert_allclose(model.predict_proba(X), direct.predict_proba(X))


def test_temperature_softens_and_decision_function_teachers():
    X, y, _ = _data(3)
    model = DistillationClassifier(LogisticRegression(), temperature=4.0).fit(X, y)
    teacher = model.teacher_
    expected = softmax(np.log(teacher.predict_proba(X)) / 4.0, axis=1)
    assert_allclose(model.soft_targets(X), expected, rtol=1e-10)
    assert model.soft_targets(X).max() < teacher.predict_proba(X).max()
    # a teacher with only decision_function: binary scores are logits [0, f]
    Xb, yb, _ = _data(2)
    svm = DistillationClassifier(LinearSVC(), temperature=2.0).fit(Xb, yb)
    f = svm.teacher_.decision_function(Xb)
    assert_allclose(svm.soft_targets(Xb)[:, 1], 1 / (1 + np.exp(-f / 2.0)))
    assert svm.score(Xb, yb) > 0.7


def test_distillation_is_a_scikit_learn_estimator():
    X, y, _ = _data(3)
    model = DistillationClassifier(LogisticRegression(),
                                   GDClassifier(max_iter=20, random_state=0))
    params = model.get_params()
    assert "teacher__C" in params and "student__solver" in params
    assert clone(model).get_params()["student__max_iter"] == 20
    pipe = make_pipeline(StandardScaler(), model)
    search = GridSearchCV(pipe, {"distillationclassifier__alpha": [0.0, 0.7],
                                 "distillationclassifier__student__solver": ["sgd",
                                                                             "adam"]},
                          cv=2)
    search.fit(X, y)
    assert search.best_estimator_.predict(X).shape == y.shape
    assert search.best_estimator_[-1].student_.loss == "log_loss"
    # the default student (None, a GDClassifier()) takes student__ parameters
    default = DistillationClassifier(LogisticRegression())
    default.set_params(student__eta0=0.05)
    assert default.get_params()["student__eta0"] == 0.05
    search = GridSearchCV(DistillationClassifier(LogisticRegression()),
                          {"student__batch_size": [8, 16]}, cv=2).fit(X, y)
    assert search.best_estimator_.student_.batch_size in (8, 16)
    # a prefit teacher is used as given, not refitted
    teacher = LogisticRegression().fit(X, y)
    prefit = DistillationClassifier(teacher, prefit=True).fit(X[:30], y[:30])
    assert prefit.teacher_ is teacher
    with pytest.raises(ValueError, match="teacher does not know"):
        DistillationClassifier(teacher, prefit=True).fit(X, np.where(y == 0, 7, y))


def test_unlabeled_rows_take_the_teachers_targets_only():
    X, y, _ = _data(3)
    y_partial = y.copy()
    y_partial[40:] = -1
    student = GDClassifier(max_iter=3, tol=None, random_state=0)
    model = DistillationClassifier(LogisticRegression(), student, alpha=0.3,
                                   temperature=2.0, unlabeled=-1).fit(X, y_partial)
    teacher = LogisticRegression().fit(X[:40], y[:40])
    assert_allclose(model.teacher_.coef_, teacher.coef_)
    soft = softmax(np.log(teacher.predict_proba(X)) / 2.0, axis=1)
    targets = soft.copy()
    targets[:40] = 0.3 * soft[:40] + 0.7 * np.eye(3)[y[:40]]
    direct = clone(student).fit_soft(X, targets)
    assert_allclose(model.student_.coef_, direct.coef_, rtol=1e-10, atol=1e-12)
    assert_array_equal(model.classes_, [0, 1, 2])


@parametrize_with_checks(
    [DistillationClassifier(LogisticRegression(),
                            GDClassifier(max_iter=20, random_state=0))])
def test_distillation_passes_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_soft_streams_like_partial_fit(solver, layout):
    X, y, proba = _data(3)
    hard = GDClassifier(solver=solver, random_state=0)
    soft = GDClassifier(solver=solver, random_state=0)
    for chunk in (slice(0, 45), slice(45, None)):
        hard.partial_fit(layout(X[chunk]), y[chunk], classes=[0, 1, 2])
        soft.partial_fit_soft(layout(X[chunk]), np.eye(3)[y[chunk]])
    assert_array_equal(soft.coef_, hard.coef_)
    assert soft.t_ == hard.t_
    soft.partial_fit_soft(layout(X), proba)  # real soft rows continue the stream
    assert soft.n_iter_ == 3
    with pytest.raises(ValueError, match="differ"):
        soft.partial_fit_soft(X, proba, classes=[0, 1, 5])
