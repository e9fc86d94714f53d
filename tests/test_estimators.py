"""Behaviour of fit / partial_fit / warm_start as a user relies on it."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.preprocessing import StandardScaler

from skgd import DivergenceError, GDClassifier, GDRegressor
from skgd.solvers import SOLVERS, AdaGrad, Adam, Momentum, RMSprop


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def _fitted_state(est):
    return (est.coef_.copy(), est.intercept_.copy(), est.t_,
            est._progress.state.copy())


@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("batch_size", [1, 7, "full"])
def test_partial_fit_over_chunks_equals_one_epoch(iris, solver, batch_size):
    # one partial_fit over all rows is one epoch of fit(shuffle=False); and
    # chunks whose sizes are multiples of the batch size give the same
    # batches, so the same iterates, as one pass over all rows
    X, y = iris
    params = dict(solver=solver, batch_size=batch_size, shuffle=False, eta0=0.05,
                  learning_rate="invscaling", random_state=0)
    one_epoch = GDClassifier(max_iter=1, tol=None, **params).fit(X, y)
    streamed = GDClassifier(**params).partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_array_equal(streamed.coef_, one_epoch.coef_)
    assert streamed.t_ == one_epoch.t_
    if batch_size != "full":
        chunked = GDClassifier(**params)
        size = 7 * 3 if batch_size == 7 else 25
        perm = np.random.RandomState(0).permutation(len(y))  # all classes early
        Xp, yp = X[perm], y[perm]
        whole = GDClassifier(**params).partial_fit(Xp, yp, classes=np.unique(y))
        for start in range(0, len(y), size):
            chunked.partial_fit(Xp[start:start + size], yp[start:start + size],
                                classes=np.unique(y))
        np.testing.assert_allclose(chunked.coef_, whole.coef_, rtol=1e-12)
        assert chunked.t_ == whole.t_


def test_partial_fit_carries_solver_state(iris):
    # two partial_fit calls == two epochs of fit: Adam's moments and t_ carry over
    X, y = iris
    params = dict(solver="adam", batch_size=10, shuffle=False, eta0=0.01,
                  learning_rate="constant", tol=None)
    two_epochs = GDClassifier(max_iter=2, **params).fit(X, y)
    streamed = GDClassifier(**params)
    streamed.partial_fit(X, y, classes=np.unique(y)).partial_fit(X, y)
    np.testing.assert_allclose(streamed.coef_, two_epochs.coef_, rtol=1e-12)
    assert streamed.t_ == two_epochs.t_ == 2 * 15
    # a fresh optimiser from the first epoch's weights is a different path
    restarted = GDClassifier(max_iter=1, **params).fit(
        X, y, coef_init=GDClassifier(max_iter=1, **params).fit(X, y).coef_,
        intercept_init=GDClassifier(max_iter=1, **params).fit(X, y).intercept_)
    assert not np.allclose(restarted.coef_, two_epochs.coef_)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("sparse", [False, True])
def test_partial_fit_after_the_l1_part_appears_or_goes(iris, solver, sparse):
    # the cumulative L1 penalty keeps two budgets a coefficient after the
    # solver's state: turning L1 on or off between calls restarts the state
    # (the first call of a fresh model with the new penalty, bit for bit)
    X, y = iris
    X = sp.csr_matrix(X) if sparse else X
    params = dict(solver=solver, batch_size=10, shuffle=False, eta0=0.01,
                  learning_rate="constant", tol=None, alpha=0.01)
    model = GDClassifier(penalty="l2", **params).partial_fit(X, y, classes=np.unique(y))
    for penalty in ("l1", "elasticnet", "l2"):
        fresh_state = GDClassifier(penalty=penalty, max_iter=1, **params).fit(
            X, y, coef_init=model.coef_, intercept_init=model.intercept_)
        t_before = model.t_
        model.set_params(penalty=penalty).partial_fit(X, y)
        assert model.t_ == t_before + 15
        # the solver's slots, then the two budgets while the penalty has L1
        # (Adam: m and v; AMSGrad's maximum only with amsgrad=True)
        n_slots = {"sgd": 0, "adam": 2}[solver] + (2 if penalty != "l2" else 0)
        assert model._progress.state.shape[1] == n_slots
        assert np.all(np.isfinite(model.coef_))
        if solver == "sgd":  # no moments: only the budgets could differ
            np.testing.assert_allclose(model.coef_, fresh_state.coef_, rtol=1e-12,
                                       atol=1e-15)


@pytest.mark.parametrize("Estimator, data", [(GDClassifier, "iris"), (GDRegressor, "diabetes")])
def test_warm_start_and_coef_init_continue_from_given_weights(Estimator, data, request):
    X, y = request.getfixturevalue(data)
    params = dict(max_iter=3, tol=None, random_state=0, eta0=0.01, solver="sgd")
    first = Estimator(**params).fit(X, y)
    # warm_start: fit starts from the previous coefficients
    warm = Estimator(warm_start=True, **params).fit(X, y)
    warm.fit(X, y)
    via_init = Estimator(**params).fit(X, y, coef_init=first.coef_,
                                       intercept_init=first.intercept_)
    np.testing.assert_allclose(warm.coef_, via_init.coef_, rtol=1e-12)
    # zero epochs of progress would leave the given weights: with a tiny step
    # the result stays next to coef_init, far from a fit from zeros
    tiny = Estimator(**dict(params, eta0=1e-12)).fit(
        X, y, coef_init=first.coef_, intercept_init=first.intercept_)
    np.testing.assert_allclose(tiny.coef_, first.coef_, rtol=1e-6)
    np.testing.assert_allclose(tiny.intercept_, first.intercept_, rtol=1e-6, atol=1e-9)


def test_coef_init_shape_is_checked(iris):
    X, y = iris
    with pytest.raises(ValueError, match="coef_init has shape"):
        GDClassifier().fit(X, y, coef_init=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="intercept_init"):
        GDClassifier().fit(X, y, intercept_init=np.zeros(2))


# where the lazy sparse updates are exact (see skgd._kernels.updates.catch_up):
# plain SGD under every penalty, and every rule but Adam without a penalty
LAZY_EXACT = [(s, p) for s in SOLVERS for p in ("l2", "elasticnet", None)
              if s == "sgd" or (p is None and s != "adam")]


@pytest.mark.parametrize("solver, penalty", LAZY_EXACT)
@pytest.mark.parametrize("batch_size", [1, 16, "full"])
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
def test_dense_and_sparse_give_the_same_model(iris, solver, batch_size, penalty,
                                              learning_rate):
    X, y = iris
    X = X.copy()
    X[np.abs(X) < 0.5] = 0.0  # make the CSR form genuinely sparse
    if solver in ("momentum", "nesterov") and learning_rate == "invscaling":
        pytest.skip("momentum's lazy drift is exact for a constant step only")
    params = dict(solver=solver, batch_size=batch_size, penalty=penalty, alpha=1e-3,
                  max_iter=5, tol=None, random_state=0, eta0=0.05,
                  learning_rate=learning_rate)
    dense = GDClassifier(**params).fit(X, y)
    sparse = GDClassifier(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("freeze", [None, [3, 17]])
@pytest.mark.parametrize("Est", [GDRegressor, GDClassifier])
def test_adam_without_momentum_is_exact_on_sparse_data(Est, freeze):
    # with beta_1 = 0 and no penalty Adam's lazy updates are exact: m is 0
    # once a column is skipped, so skipped steps leave its weight alone, and
    # each decays v by beta_2. On CSR the regressor's outputs train one by
    # one, each caught up as a batch's columns are marked
    # (skgd._kernels.sparse._adam_in_place); the three-class
    # classifier's coupled (multinomial) outputs take the general marking
    # pass and catch_up's list. Frozen columns are never caught up nor
    # updated
    rng = np.random.RandomState(0)
    X = rng.randn(600, 40) * (rng.rand(600, 40) < 0.08)
    W = rng.randn(40, 3)
    Y = X @ W + 0.1 * rng.randn(600, 3) if Est is GDRegressor else np.argmax(X @ W, 1)
    params = dict(solver=Adam(beta_1=0.0, beta_2=0.9), penalty=None, eta0=0.02,
                  learning_rate="constant", batch_size=16, max_iter=4, tol=None,
                  random_state=0, freeze_features=freeze)
    init = rng.randn(3, 40)
    dense = Est(**params).fit(X, Y, coef_init=init)
    sparse = Est(**params).fit(sp.csr_matrix(X), Y, coef_init=init)
    # most columns skip batches (a column has a non-zero in 1 - 0.92**16,
    # about 3 in 4, of them)
    assert np.all(np.delete(dense.coef_ - init, freeze or [], axis=1) != 0.0)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10)
    if freeze:
        np.testing.assert_array_equal(sparse.coef_[:, freeze], init[:, freeze])


def test_adam_deferred_updates_on_csr_survive_the_rebase_flush():
    # On CSR, Adam with one output defers each column's update to the next
    # time a batch meets the column, or to a flush
    # (skgd._kernels.sparse._adam_in_place). With no zero entries no step is
    # skipped, so nothing is approximated and CSR must give the dense model,
    # also when the L2 decay's prefix product (0.9 a step here, 1 - eta0 *
    # alpha) falls below exp(-50) mid-epoch (after ~475 of the 600 steps)
    # and forces a flush of the waiting updates
    rng = np.random.RandomState(0)
    X = rng.uniform(0.5, 1.5, (600, 8)) * rng.choice([-1.0, 1.0], (600, 8))
    y = X @ rng.randn(8) + 0.1 * rng.randn(600)
    params = dict(solver="adam", alpha=2.0, eta0=0.05, learning_rate="constant",
                  batch_size=1, max_iter=2, tol=None, random_state=0)
    assert 600 * params["eta0"] * params["alpha"] > 50
    dense = GDRegressor(**params).fit(X, y)
    sparse = GDRegressor(**params).fit(sp.csr_matrix(X), y)
    assert np.all(np.abs(dense.coef_) > 1e-3)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10)


@pytest.mark.parametrize("batch_size", [1, "full"])
def test_csr_duplicate_entries_add_up_as_in_toarray(batch_size):
    # rows 0 and 2 hold a cell twice: toarray() sums them, and so must the
    # fit, eta0="auto" (from the largest squared row norm, row 0's: 16, not
    # 2**2 + 2**2) included
    data = np.array([2.0, 2.0, -1.0, 1.0, 0.5, 0.5, 1.0])
    indices = np.array([1, 1, 0, 2, 3, 3, 0])
    indptr = np.array([0, 2, 4, 7])
    X = sp.csr_matrix((data, indices, indptr), shape=(3, 4))
    assert not X.has_canonical_format
    y = np.array([1.0, -2.0, 0.5])
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    params = dict(solver="sgd", batch_size=batch_size, shuffle=False, max_iter=3,
                  tol=None)
    sparse = GDRegressor(**params).fit(X, y)
    dense = GDRegressor(**params).fit(X.toarray(), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-12)
    for array, kept in zip((X.data, X.indices, X.indptr), before):
        np.testing.assert_array_equal(array, kept)  # the caller's X is untouched


@pytest.mark.parametrize("solver, penalty, alpha", [
    (Momentum(momentum=0.99), None, 0.0),
    (Momentum(momentum=0.99, nesterov=True), None, 0.0),
    (RMSprop(rho=0.99), None, 0.0),
    (AdaGrad(), None, 0.0),
    # L2 strong enough that the kernel's prefix products rebase mid-epoch; an
    # L1 part weak enough that the cumulative penalty's budget (498 skipped
    # steps of it) leaves column 0 non-zero after its last row
    ("sgd", "elasticnet", 1.2),
], ids=["momentum", "nesterov", "rmsprop", "adagrad", "sgd"])
def test_dense_and_sparse_agree_over_long_skips(solver, penalty, alpha):
    # column 0 has a non-zero in the first and the last row only: on CSR its
    # coefficient catches up 498 skipped steps at once (powers read from the
    # per-step table), then is flushed at the end of the epoch
    rng = np.random.RandomState(0)
    n, d = 500, 6
    X = rng.randn(n, d) * (rng.rand(n, d) < 0.3)
    X[:, 0] = 0.0
    X[[0, n - 1], 0] = [2.0, -1.5]
    y = (X @ rng.randn(d) + 0.3 * rng.randn(n) > 0).astype(int)
    params = dict(solver=solver, penalty=penalty, alpha=alpha, l1_ratio=0.001,
                  batch_size=1, learning_rate="constant",
                  eta0=0.1 if solver == "sgd" else 0.05, shuffle=False, max_iter=2,
                  tol=None)
    dense = GDClassifier(**params).fit(X, y)
    sparse = GDClassifier(**params).fit(sp.csr_matrix(X), y)
    assert dense.coef_[0, 0] != 0.0
    # the solver state, the cumulative penalty's budgets included
    np.testing.assert_allclose(sparse._progress.state, dense._progress.state,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("solver", ["adam", "rmsprop", "adagrad", "momentum"])
def test_fine_tuning_on_sparse_data_keeps_untouched_weights(solver):
    # columns 15.. are never non-zero: their pre-trained weights move only
    # by the L2 penalty. An adaptive rule's state is zero there, and the lazy
    # L2 step once shrank them with scale = 1 / epsilon: 0.5 -> 0.0008 on
    # CSR where the dense steps leave 0.33 (Adam), 0.31 (RMSprop), 0.47
    # (AdaGrad). The L2 step's move is bounded by what an L2 gradient alone
    # would do; CSR must now move them as dense input does, within 12%.
    rng = np.random.RandomState(0)
    X = rng.randn(2000, 20) * (rng.rand(2000, 20) < 0.1)
    X[:, 15:] = 0.0
    y = (X[:, 0] > 0).astype(int)
    coef_init = np.full((1, 20), 0.5)
    params = dict(solver=solver, batch_size=32, alpha=1e-4, max_iter=3, tol=None,
                  learning_rate="constant", eta0=1e-3, random_state=0)
    dense = GDClassifier(**params).fit(X, y, coef_init=coef_init)
    sparse = GDClassifier(**params).fit(sp.csr_matrix(X), y, coef_init=coef_init)
    moved_dense = 0.5 - dense.coef_[0, 15:]
    moved_sparse = 0.5 - sparse.coef_[0, 15:]
    assert np.all(moved_dense > 1e-5)
    np.testing.assert_allclose(moved_sparse, moved_dense, rtol=0.12)
    # and the columns with data agree as before
    np.testing.assert_allclose(sparse.coef_[0, :15], dense.coef_[0, :15], atol=5e-3)


@pytest.mark.parametrize("solver", ["adam", "momentum", "adagrad", "rmsprop"])
def test_lazy_sparse_approximations_still_reach_the_optimum(solver):
    # lazy Adam, and L2 applied as decoupled shrinkage to skipped coordinates,
    # change the path on sparse data, not the optimum: both layouts get within
    # 1e-3 (relative objective) of LogisticRegression's exact solution
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X[np.abs(X) < 0.7] = 0.0  # about half the entries
    alpha = 1e-2
    exact = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)

    def objective(coef, intercept):
        p = X @ coef.ravel() + intercept[0]
        return np.mean(np.logaddexp(0, p) - y * p) + 0.5 * alpha * np.sum(coef ** 2)

    best = objective(exact.coef_, exact.intercept_)
    params = dict(solver=solver, alpha=alpha, batch_size=16, random_state=0,
                  tol=1e-7, n_iter_no_change=20, max_iter=3000)
    gaps = []
    for layout in (X, sp.csr_matrix(X)):
        clf = GDClassifier(**params).fit(layout, y)
        gaps.append((objective(clf.coef_, clf.intercept_) - best) / best)
    dense_gap, sparse_gap = gaps
    # RMSprop (rho=0.9) stalls near 1e-3 at small batches on dense data too;
    # what matters here is that the lazy path does not stall further
    assert sparse_gap < max(1e-3, 2 * dense_gap), (solver, gaps)
    assert dense_gap < 5e-3, (solver, gaps)


def test_sparse_epoch_cost_does_not_grow_with_n_features():
    # the lazy kernel touches only the columns present in a batch: widening
    # the matrix 256-fold (same non-zeros) must not change the model, and an
    # epoch that scanned every column per update would visit 2**20 * 2000
    # coordinates (far beyond this test's time budget)
    rng = np.random.RandomState(0)
    X_small = sp.random(2000, 64, density=0.1, format="csr", random_state=rng)
    y = (X_small @ rng.randn(64) > 0).astype(int)
    X_wide = sp.csr_matrix((X_small.data, X_small.indices, X_small.indptr),
                           shape=(2000, 2**20))
    params = dict(solver="adam", batch_size=1, max_iter=2, tol=None, random_state=0,
                  eta0=0.01)
    small = GDClassifier(**params).fit(X_small, y)
    wide = GDClassifier(**params).fit(X_wide, y)
    np.testing.assert_allclose(wide.coef_[:, :64], small.coef_, rtol=1e-12)
    assert not np.any(wide.coef_[:, 64:])


@pytest.mark.parametrize("Estimator, data", [(GDClassifier, "iris"), (GDRegressor, "diabetes")])
def test_float32_stays_float32(Estimator, data, request):
    X, y = request.getfixturevalue(data)
    X32 = X.astype(np.float32)
    est = Estimator(random_state=0, max_iter=20).fit(X32, y)
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    est.partial_fit(X, y)  # later float64 chunks are cast to the model's dtype
    assert est.coef_.dtype == np.float32
    est64 = Estimator(random_state=0, max_iter=20).fit(X, y)
    np.testing.assert_allclose(est.predict(X[:5]), est64.predict(X[:5]), rtol=0.1, atol=0.1)
    sparse32 = Estimator(random_state=0, max_iter=20).fit(sp.csr_matrix(X32), y)
    assert sparse32.coef_.dtype == np.float32


def test_multioutput_regression_equals_separate_fits(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, -2.0 * y + 1.0])
    # a given eta0: "auto" scales Adam's rate by the targets' spread, which
    # for the joint fit pools both outputs
    params = dict(batch_size="full", solver="adam", eta0=0.01, max_iter=50, tol=None)
    joint = GDRegressor(**params).fit(X, Y)
    assert joint.coef_.shape == (2, X.shape[1]) and joint.predict(X).shape == Y.shape
    for j in range(2):
        single = GDRegressor(**params).fit(X, Y[:, j])
        np.testing.assert_allclose(joint.coef_[j], single.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_l1_gives_exact_zeros(diabetes, solver):
    # proximal full-batch GD recovers the lasso's zero pattern exactly (for
    # momentum because its L1 threshold scales with the 1 / (1 - mu) effective
    # step); the lasso optimum itself comes from scikit-learn's coordinate descent
    from sklearn.linear_model import Lasso

    X, y = diabetes
    rng = np.random.RandomState(0)
    X = np.hstack([X, rng.randn(X.shape[0], 10)])  # 10 pure-noise features
    lasso = Lasso(alpha=0.05, tol=1e-12, max_iter=100_000).fit(X, y)
    reg = GDRegressor(penalty="l1", alpha=0.05, solver=solver, batch_size="full",
                      max_iter=5000, tol=1e-9, random_state=0).fit(X, y)
    assert np.sum(lasso.coef_ == 0.0) >= 8  # the truth is sparse
    np.testing.assert_array_equal(reg.coef_ == 0.0, lasso.coef_ == 0.0)


def test_predict_proba_is_a_distribution(iris):
    X, y = iris
    for loss in ["log_loss", "modified_huber"]:
        clf = GDClassifier(loss=loss, random_state=0).fit(X, y)
        proba = clf.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert np.all(proba >= 0)
        np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    with pytest.raises(AttributeError, match="predict_proba"):
        GDClassifier(loss="hinge").fit(X, y).predict_proba(X)


def test_multinomial_softmax_not_one_vs_rest(iris):
    # the multinomial model's probabilities are the softmax of its decision values
    from scipy.special import softmax

    X, y = iris
    clf = GDClassifier(random_state=0).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(clf.decision_function(X), axis=1))


def test_divergence_raises_and_leaves_model_unchanged(diabetes):
    X, y = diabetes
    reg = GDRegressor(solver="sgd", learning_rate="constant", eta0=0.01, max_iter=2,
                      tol=None, random_state=0).fit(X, y)
    before = _fitted_state(reg)
    X_bad = X * 1e8
    reg.set_params(eta0=1e4)
    with pytest.raises(DivergenceError, match="diverged at epoch 3.*smaller eta0"):
        reg.partial_fit(X_bad, y)
    for a, b in zip(before, _fitted_state(reg)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(DivergenceError):
        reg.set_params(warm_start=True).fit(X_bad, y)
    for a, b in zip(before, _fitted_state(reg)):
        np.testing.assert_array_equal(a, b)


def test_adaptive_backtracks_instead_of_diverging(diabetes):
    X, y = diabetes
    reg = GDRegressor(solver="sgd", eta0=10.0, learning_rate="adaptive", random_state=0)
    reg.fit(X * 100, y)
    assert np.all(np.isfinite(reg.coef_)) and reg.score(X * 100, y) > 0.4


def test_failed_partial_fit_leaves_model_as_it_was(iris):
    X, y = iris
    clf = GDClassifier(random_state=0).fit(X, y)
    before = _fitted_state(clf)
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, np.where(y == 2, 7, y))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :3], y)
    for a, b in zip(before, _fitted_state(clf)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad, match", [
    (dict(solver="lbfgs"), "solver"),
    (dict(loss="bogus"), "log_loss"),
    (dict(batch_size=0), "batch_size"),
    (dict(learning_rate="optimal", alpha=0.0), "alpha must be > 0"),
    (dict(eta0=-1.0), "eta0"),
])
def test_invalid_parameters_are_named(iris, bad, match):
    X, y = iris
    with pytest.raises(ValueError, match=match):
        GDClassifier(**bad).fit(X, y)


def test_partial_fit_needs_classes_first(iris):
    X, y = iris
    with pytest.raises(ValueError, match="classes must be passed"):
        GDClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="balanced"):
        GDClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.parametrize("labels", [
    np.array([3, 1, 1, 7], dtype=np.int32), np.array([0, 1] * 5, dtype=np.uint8),
    np.array([-1, 1, 1]), np.array([10**9, 2, 2]), np.array([2**63 - 1, 0], np.uint64),
    np.array([True, False, True]), np.array(["b", "a", "b"]), np.array([3.0, 1.0, 3.0]),
], ids=["int32", "uint8", "negative", "sparse range", "uint64", "bool", "str", "float"])
def test_classes_are_those_of_np_unique(labels):
    # small non-negative integers are counted, the rest hashed or sorted:
    # the same classes_, values and dtype, and the same model either way
    X = np.random.default_rng(0).normal(size=(labels.shape[0], 3))
    expected = np.unique(labels)
    fitted = GDClassifier(max_iter=2, tol=None, random_state=0).fit(X, labels)
    assert fitted.classes_.dtype == expected.dtype
    np.testing.assert_array_equal(fitted.classes_, expected)
    codes = np.searchsorted(expected, labels)
    by_code = GDClassifier(max_iter=2, tol=None, random_state=0).fit(X, codes)
    np.testing.assert_array_equal(fitted.coef_, by_code.coef_)
    np.testing.assert_array_equal(fitted.predict(X), expected[by_code.predict(X)])


def test_average_is_the_mean_of_the_iterates(diabetes):
    X, y = diabetes
    params = dict(solver="sgd", batch_size=50, shuffle=False, eta0=0.05,
                  learning_rate="constant", max_iter=1, tol=None)
    averaged = GDRegressor(average=True, **params).fit(X, y, intercept_init=0.0)
    # replay the same updates one batch at a time and average by hand
    stepper = GDRegressor(**params).fit(X[:50], y[:50], intercept_init=0.0)
    iterates = [stepper.coef_.copy()]
    for start in range(50, len(y), 50):
        stepper.partial_fit(X[start:start + 50], y[start:start + 50])
        iterates.append(stepper.coef_.copy())
    np.testing.assert_allclose(averaged.coef_, np.mean(iterates, axis=0), rtol=1e-10)


def test_pickle_and_clone_round_trip(iris):
    X, y = iris
    clf = GDClassifier(random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    # a model pickled mid-stream resumes partial_fit exactly
    clf.partial_fit(X, y)
    restored.partial_fit(X, y)
    np.testing.assert_array_equal(restored.coef_, clf.coef_)
    assert clone(clf).get_params() == clf.get_params()


def test_early_stopping_records_validation_scores(iris):
    X, y = iris
    clf = GDClassifier(early_stopping=True, random_state=0).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.8


def test_loss_curve_decreases_for_full_batch(diabetes):
    X, y = diabetes
    reg = GDRegressor(batch_size="full", solver="sgd", learning_rate="constant",
                      max_iter=30, tol=None).fit(X, y)
    assert len(reg.loss_curve_) == reg.n_iter_ == 30
    assert np.all(np.diff(reg.loss_curve_) <= 1e-12)


# --- same algorithm as scikit-learn's SGD -------------------------------------
@pytest.mark.parametrize("loss", ["squared_error", "huber", "epsilon_insensitive"])
@pytest.mark.parametrize("penalty", ["l2", None])
def test_matches_sgdregressor_weight_for_weight(diabetes, loss, penalty):
    X, y = diabetes
    common = dict(loss=loss, penalty=penalty, alpha=1e-3, learning_rate="constant",
                  eta0=0.01, shuffle=False)
    # scikit-learn starts the intercept at 0, skgd at mean(y): give it 0
    ours = GDRegressor(solver="sgd", batch_size=1, max_iter=2, tol=None, **common)
    ours.fit(X, y, intercept_init=0.0)
    ref = SGDRegressor(**common)
    for _ in range(2):
        ref.partial_fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber", "squared_hinge",
                                  "perceptron"])
def test_matches_sgdclassifier_weight_for_weight_binary(iris, loss):
    X, y = iris
    X, y = X[y != 2], y[y != 2]
    common = dict(loss=loss, alpha=1e-3, learning_rate="constant", eta0=0.01,
                  shuffle=False)
    ours = GDClassifier(solver="sgd", batch_size=1, **common)
    ref = SGDClassifier(**common)
    for _ in range(2):
        ours.partial_fit(X, y, classes=[0, 1])
        ref.partial_fit(X, y, classes=[0, 1])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)


def test_partial_fit_weights_hold_across_calls(iris):
    # weights are relative to the stream's first call, not to each call's
    # own mean: one row a call, each normalised by its own weight, would
    # count the same. With the first row's weight 1 that is scikit-learn's
    # SGD, whose weights scale each step
    X, y = iris
    X, y = X[y != 2], y[y != 2]
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    sw[0] = 1.0
    common = dict(loss="log_loss", alpha=1e-3, learning_rate="constant", eta0=0.01,
                  shuffle=False, class_weight={y[0]: 1.0, 1 - y[0]: 5.0})

    def stream(model, scale=1.0):
        for i in range(len(y)):
            model.partial_fit(X[i:i + 1], y[i:i + 1], classes=[0, 1],
                              sample_weight=scale * sw[i:i + 1])
        return model

    ours = stream(GDClassifier(solver="sgd", batch_size=1, **common))
    ref = stream(SGDClassifier(**common))
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)
    # only relative weights matter, across the whole stream
    scaled = stream(GDClassifier(solver="sgd", batch_size=1, **common), scale=3.0)
    np.testing.assert_allclose(scaled.coef_, ours.coef_, rtol=1e-12)
    # and they do matter
    unweighted = GDClassifier(solver="sgd", batch_size=1, **dict(common, class_weight=None))
    for i in range(len(y)):
        unweighted.partial_fit(X[i:i + 1], y[i:i + 1], classes=[0, 1])
    assert np.abs(unweighted.coef_ - ours.coef_).max() > 0.1 * np.abs(ours.coef_).max()


@pytest.mark.parametrize("Est", [GDClassifier, GDRegressor])
def test_average_turned_off_between_partial_fit_calls(iris, diabetes, Est):
    # the plain iterate is what a model trained without averaging reaches
    # (averaging never changes it; another kernel, so to rounding): after
    # set_params(average=False) it is the one published, as in scikit-learn
    X, y = iris if Est is GDClassifier else diabetes
    kw = dict(solver="sgd", batch_size=1, learning_rate="constant", eta0=0.01,
              random_state=0)
    fit_kw = dict(classes=np.unique(y)) if Est is GDClassifier else {}
    averaged = Est(average=True, **kw).partial_fit(X, y, **fit_kw)
    plain = Est(average=False, **kw).partial_fit(X, y, **fit_kw)
    assert np.abs(averaged.coef_ - plain.coef_).max() > 1e-3
    averaged.set_params(average=False).partial_fit(X, y)
    plain.partial_fit(X, y)
    np.testing.assert_allclose(averaged.coef_, plain.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(averaged.intercept_, plain.intercept_, rtol=1e-12,
                               atol=1e-15)


def test_regressor_stream_keeps_its_output_shape(diabetes):
    X, y = diabetes
    one = GDRegressor(random_state=0).partial_fit(X, y)
    one.partial_fit(X, y[:, None])
    assert one.coef_.shape == (X.shape[1],) and one.predict(X).shape == (len(y),)
    column = GDRegressor(random_state=0).partial_fit(X, y[:, None])
    column.partial_fit(X, y)
    assert column.coef_.shape == (1, X.shape[1])
    assert column.predict(X).shape == (len(y), 1)


def test_intercept_init_without_fit_intercept_stays(iris, diabetes):
    # as scikit-learn: fit_intercept=False keeps the intercept where it
    # starts, intercept_init when given (else 0)
    X, y = iris
    common = dict(fit_intercept=False, max_iter=5, tol=None, random_state=0)
    clf = GDClassifier(**common).fit(X, y, intercept_init=[1.0, 2.0, 3.0])
    ref = SGDClassifier(**common).fit(X, y, intercept_init=[1.0, 2.0, 3.0])
    np.testing.assert_array_equal(clf.intercept_, ref.intercept_)
    assert np.all(GDClassifier(**common).fit(X, y).intercept_ == 0.0)
    X, y = diabetes
    reg = GDRegressor(**common).fit(X, y, intercept_init=5.0)
    np.testing.assert_array_equal(reg.intercept_, [5.0])
    # and the decision uses it: the coefficients fit y - 5
    shifted = GDRegressor(**common).fit(X, y - 5.0)
    np.testing.assert_allclose(reg.coef_, shifted.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", ["adam", "rmsprop", "adagrad"])
def test_auto_eta0_of_adaptive_rules_follows_the_targets_scale(diabetes, solver):
    # they move each coefficient by ~eta a step whatever the gradient's
    # scale, so "auto" scales eta by the targets' standard deviation: the
    # fit of c * y is c times the fit of y (to epsilon's effect), and an
    # unscaled target trains as a standardised one does
    X, y = diabetes
    params = dict(solver=solver, batch_size=16, max_iter=20, tol=None, alpha=0.0,
                  random_state=0)
    unit = GDRegressor(**params).fit(X, y)
    scaled = GDRegressor(**params).fit(X, 1e6 * y + 3e6)
    np.testing.assert_allclose(scaled.coef_, 1e6 * unit.coef_, rtol=1e-5)
    assert scaled.score(X, 1e6 * y + 3e6) > 0.45  # Ridge: 0.52
    # a stream whose first chunk is one row (no spread) takes the targets'
    # root mean square instead of falling back to 1
    first = GDRegressor(solver=solver, random_state=0).partial_fit(X[:1], 1e6 * y[:1])
    base = 0.1 if solver == "adagrad" else 0.01
    np.testing.assert_allclose(first._progress.eta, base * abs(1e6 * y[0]), rtol=1e-12)
    # the classifier's base rate is unchanged
    clf = GDClassifier(solver=solver, learning_rate="constant", max_iter=1, tol=None)
    assert clf.fit(X, y > 0)._progress.eta == (0.1 if solver == "adagrad" else 0.01)


def test_regressor_intercept_starts_at_the_mean(diabetes):
    # unscaled targets: Adam moves each weight ~eta per step, so only a start
    # at mean(y) makes raw diabetes targets reachable within max_iter
    from sklearn.linear_model import Ridge

    X, _ = diabetes
    _, y_raw = load_diabetes(return_X_y=True)
    reg = GDRegressor(random_state=0).fit(X, y_raw)
    exact = Ridge(alpha=1e-4 * len(y_raw)).fit(X, y_raw)
    assert reg.score(X, y_raw) > exact.score(X, y_raw) - 0.01
    one_step = GDRegressor(max_iter=1, tol=None, eta0=1e-12).fit(X, y_raw)
    np.testing.assert_allclose(one_step.intercept_, y_raw.mean(), rtol=1e-9)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_fused_sgd_weight_scale_folds_back_exactly(diabetes, layout):
    # batch_size=1 plain SGD runs the weight-scaled fast path; a decay of
    # 0.95 per row drives the scale below 1e-9 (and folds it back) several
    # times an epoch. The iterates must still be those of the NumPy
    # reference transcription of the update w <- w - lr (g x + l2 w).
    import _reference as ref

    X, y = diabetes
    X = X[:200]
    y = y[:200]
    alpha, eta0 = 0.5, 0.1
    Xin = X if layout == "dense" else sp.csr_matrix(X)
    reg = GDRegressor(solver="sgd", batch_size=1, alpha=alpha, eta0=eta0,
                      learning_rate="constant", shuffle=False, max_iter=2, tol=None)
    reg.fit(Xin, y, intercept_init=0.0)
    expected = ref.reference_fit(X, y, ref.sgd, 2, 1, eta0, "squared_error", l2=alpha)
    np.testing.assert_allclose(reg.coef_, expected[0, :-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(reg.intercept_, expected[0, -1:], rtol=1e-9, atol=1e-12)
