"""Update rules: each step equals a NumPy transcription of torch.optim's
formula (tests/_reference.py), alone and inside whole epochs through the
estimators; solver state carries over; solver objects are sklearn parameter
objects; user-written solvers work; the Numba configuration is the shared one
and the epoch kernel compiles few specialisations."""

import ast
import importlib
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from numba.core.dispatcher import Dispatcher
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

import skgd
from skgd import GDClassifier, GDRegressor
from skgd._kernels._config import FASTMATH_FLAGS, NJIT
from skgd.solvers import SOLVERS, SGD, AdaGrad, Adam, BaseSolver, Momentum, RMSprop
from skgd.solvers._adam import adam_update

try:  # tests/ as a package, or as a rootdir on sys.path
    from . import _reference as ref
except ImportError:
    import _reference as ref

# the registry, plus non-default settings of every hyper-parameter
SOLVER_CASES = [pytest.param(factory, id=name) for name, factory in SOLVERS.items()] + [
    pytest.param(lambda: Adam(amsgrad=True), id="adam-amsgrad"),
    pytest.param(lambda: Adam(beta_1=0.7, beta_2=0.95, epsilon=1e-3, amsgrad=True),
                 id="adam-amsgrad-custom"),
    pytest.param(lambda: Momentum(momentum=0.5), id="momentum-0.5"),
    pytest.param(lambda: Momentum(momentum=0.3, nesterov=True), id="nesterov-0.3"),
    pytest.param(lambda: RMSprop(rho=0.5, epsilon=1e-3), id="rmsprop-custom"),
    pytest.param(lambda: AdaGrad(epsilon=0.1), id="adagrad-eps0.1"),
]

# gradient magnitudes that shrink and grow, so that AMSGrad's running maximum
# differs from v, and step sizes that change, so that "lr outside the buffer"
# is tested
GRAD_SCALES = [10.0, 1.0, 0.1, 3.0, 0.01]
STEP_SIZES = [0.1, 0.05, 0.2, 0.01, 0.1]


def _replay(solver, n=7, seed=0):
    """Five steps of ``solver.update`` over every coordinate and of the
    oracle; yields (theta, scales, ref_theta, ref_scales) after each step."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    expected = theta.copy()
    state = solver.init_state(n, np.float64)
    ref_state = {}
    hyper = solver.hyper()
    rule = ref.rule_of(solver)
    for t, (scale, lr) in enumerate(zip(GRAD_SCALES, STEP_SIZES), start=1):
        g = rng.normal(size=n) * scale
        grad = g.copy()
        scales = np.array([type(solver).update(theta, grad, state, i, hyper, t, lr)
                           for i in range(n)])
        expected, ref_state, ref_scales = rule(expected, g, ref_state, t, lr)
        yield theta.copy(), scales, expected, ref_scales


# ---------------------------------------------------------------------------
# one step, called directly
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("make_solver", SOLVER_CASES)
def test_update_matches_reference(make_solver):
    solver = make_solver()
    for theta, scales, expected, ref_scales in _replay(solver):
        assert_allclose(theta, expected, rtol=1e-10, atol=1e-14)
        assert_allclose(scales, ref_scales, rtol=1e-10)


@pytest.mark.parametrize("make_solver", SOLVER_CASES)
def test_builtin_dispatch_runs_the_solver_update(make_solver):
    """The int-code dispatch of the cached epoch kernel reaches the same
    step as the solver's own ``update``. Also catches a stale on-disk Numba
    cache: Numba does not invalidate a cached caller when a callee defined in
    another file changes (numba/numba#1833); delete skgd's __pycache__/*.nb?"""
    from skgd._epoch_runner import _hyper_tuple
    from skgd._kernels.updates import apply_step

    solver = make_solver()
    rng = np.random.default_rng(1)
    n = 5
    grad = rng.normal(size=n)
    theta_a = rng.normal(size=n)
    theta_b = theta_a.copy()
    state_a = solver.init_state(n, np.float64) + 0.5 * (solver.n_slots > 0)
    state_b = state_a.copy()
    for i in range(n):
        type(solver).update(theta_a, grad, state_a, i, solver.hyper(), 3, 0.1)
    # the kernels' path: hyper-parameters as a padded tuple, the rule chosen
    # by its integer code; the gradient is consumed (zeroed) by the pass
    # (one output, d = n columns, the intercept's slot n not fitted)
    grad_b = np.append(grad, 0.0)
    theta_b = np.append(theta_b, 0.0)
    state_b = np.vstack([state_b, np.zeros((1, solver.n_slots))])
    apply_step(solver._code, None, theta_b, grad_b, state_b, np.arange(n + 1), n, 1, n,
               _hyper_tuple(solver), 3, 0.1, 0.0, 0.0, np.zeros(0), False, False)
    # equal to rounding: the fastmath flags let LLVM contract / reassociate
    # the inlined rule differently from the standalone one
    assert_allclose(theta_b[:n], theta_a, rtol=1e-14, atol=1e-15,
                    err_msg="stale Numba cache or wrong solver code")
    assert_allclose(state_b[:n], state_a, rtol=1e-14, atol=1e-15)
    assert_array_equal(grad_b, 0.0)
    assert theta_b[n] == 0.0  # the intercept is not fitted


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_adam_keeps_the_amsgrad_slot_only_when_used(sparse):
    """Adam's state holds m and v, and AMSGrad's maximum only with
    amsgrad=True; toggling it between partial_fit calls resizes the state."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=60)
    if sparse:
        X = sp.csr_matrix(X)
    params = dict(batch_size=8, eta0=0.05, learning_rate="constant", random_state=0)
    for amsgrad, n_slots in ((False, 2), (True, 3)):
        reg = GDRegressor(solver=Adam(amsgrad=amsgrad), max_iter=3, tol=None,
                          **params).fit(X, y)
        assert reg._progress.state.shape == (5, n_slots)
    reg = GDRegressor(solver=Adam(), **params).partial_fit(X, y)
    reg.set_params(solver=Adam(amsgrad=True)).partial_fit(X, y)
    assert reg._progress.state.shape == (5, 3)
    assert reg.t_ == 16 and np.all(np.isfinite(reg.coef_))


def test_oracle_variants_are_distinguished():
    # the replay above is only a test if the variants it covers differ on it
    def final(solver):
        return list(_replay(solver))[-1][2]

    assert not np.allclose(final(Adam()), final(Adam(amsgrad=True)), rtol=1e-6)
    assert not np.allclose(final(Momentum()), final(Momentum(nesterov=True)), rtol=1e-6)
    assert not np.allclose(final(RMSprop()), final(AdaGrad()), rtol=1e-6)


def _step_once(solver, w, g, lr, t=1, state=None):
    w = np.array(w, dtype=np.float64)
    g = np.array(g, dtype=np.float64)
    state = solver.init_state(w.shape[0], np.float64) if state is None else state
    for i in range(w.shape[0]):
        type(solver).update(w, g, state, i, solver.hyper(), t, lr)
    return w, state


def test_first_steps_closed_form():
    """Closed forms of the first steps, derived by hand from the formulas."""
    w0, g, lr = np.array([1.0, -2.0, 0.5]), np.array([0.3, -4.0, 2e-3]), 0.1
    eps = 1e-8
    # Adam, step 1: m = (1-b1) g, v = (1-b2) g^2, both corrections cancel
    w, _ = _step_once(Adam(), w0, g, lr)
    assert_allclose(w, w0 - lr * g / (np.abs(g) + eps), rtol=1e-12)
    # AdaGrad, step 1: s = g^2
    w, _ = _step_once(AdaGrad(), w0, g, lr)
    assert_allclose(w, w0 - lr * g / (np.abs(g) + eps), rtol=1e-12)
    # RMSprop, step 1: v = (1 - rho) g^2, no bias correction
    w, _ = _step_once(RMSprop(rho=0.75), w0, g, lr)
    assert_allclose(w, w0 - lr * g / (0.5 * np.abs(g) + eps), rtol=1e-12)
    # heavy ball: w2 = w0 - lr1 g1 - lr2 (mu g1 + g2); Nesterov: w1 = w0 - lr (1+mu) g1
    g2 = np.array([1.0, 1.0, -1.0])
    w, state = _step_once(Momentum(momentum=0.5), w0, g, lr)
    w, _ = _step_once(Momentum(momentum=0.5), w, g2, 0.2, t=2, state=state)
    assert_allclose(w, w0 - lr * g - 0.2 * (0.5 * g + g2), rtol=1e-12)
    w, _ = _step_once(Momentum(momentum=0.5, nesterov=True), w0, g, lr)
    assert_allclose(w, w0 - lr * 1.5 * g, rtol=1e-12)
    # AMSGrad step 2 with |g2| << |g1|: vmax keeps the uncorrected v_1
    b1, b2 = 0.9, 0.999
    g2 = 1e-3 * g
    w, state = _step_once(Adam(amsgrad=True), w0, g, lr)
    w, _ = _step_once(Adam(amsgrad=True), w, g2, lr, t=2, state=state)
    m2 = b1 * (1 - b1) * g + (1 - b1) * g2
    v1 = (1 - b2) * g**2
    w_expected = w0 - lr * g / (np.abs(g) + eps)
    w_expected -= lr / (1 - b1**2) * m2 / (np.sqrt(v1) / np.sqrt(1 - b2**2) + eps)
    assert_allclose(w, w_expected, rtol=1e-12)


# ---------------------------------------------------------------------------
# whole epochs through the estimators
# ---------------------------------------------------------------------------


def _regression_data(n=23, d=4, k=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    coef = rng.normal(size=(d, k))
    coef[1] = 0.0  # a zero coefficient, for L1 to find
    Y = X @ coef + 0.5 + 0.1 * rng.normal(size=(n, k))
    return X, (Y[:, 0] if k == 1 else Y)


def _theta(est, d):
    coef = np.atleast_2d(est.coef_)
    return np.hstack([coef, np.reshape(est.intercept_, (-1, 1))]).reshape(-1, d + 1)


def _penalty(penalty, alpha, l1_ratio=0.15):
    """(l2, l1) strengths of scikit-learn's penalty definitions:
    alpha * ((1 - l1_ratio) / 2 ||w||^2 + l1_ratio ||w||_1)."""
    ratio = {"l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]
    return alpha * (1.0 - ratio), alpha * ratio


COMMON = dict(learning_rate="constant", shuffle=False, tol=None)


def _regressor_reference(X, y, rule, epochs, batch_size, lr, loss, sw=None,
                         fit_intercept=True, **kwargs):
    """reference_fit from GDRegressor's documented start: zero coefficients
    and, with fit_intercept, the intercept at the weighted mean of y."""
    Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
    weights = np.ones(X.shape[0]) if sw is None else sw
    theta = np.zeros((Y.shape[1], X.shape[1] + 1))
    if fit_intercept:
        theta[:, -1] = np.sum(weights[:, None] * Y, axis=0) / np.sum(weights)
    return ref.reference_fit(X, Y, rule, epochs, batch_size, lr, loss, sw=sw,
                             theta=theta, fit_intercept=fit_intercept, **kwargs)


# (penalty, alpha): an L1 strong enough that the proximal step leaves exact
# zeros, weak enough that the cumulative penalty keeps some weights
PENALTIES = {"l2": ("l2", 0.05), "elasticnet": ("elasticnet", 0.05),
             "l1": ("l1", 0.3)}


@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("batch_size", [1, 5, "full"])
@pytest.mark.parametrize("make_solver", SOLVER_CASES)
def test_regressor_epochs_match_reference(make_solver, batch_size, penalty):
    X, y = _regression_data()
    d = X.shape[1]
    penalty, alpha = PENALTIES[penalty]
    l1_ratio, eta0 = 0.5, 0.03
    l2, l1 = _penalty(penalty, alpha, l1_ratio)
    expected = _regressor_reference(X, y, ref.rule_of(make_solver()), 3, batch_size,
                                    eta0, "squared_error", l2=l2, l1=l1)
    for data in (X, sp.csr_matrix(X)):
        reg = GDRegressor(solver=make_solver(), batch_size=batch_size, eta0=eta0,
                          alpha=alpha, penalty=penalty, l1_ratio=l1_ratio,
                          max_iter=3, **COMMON).fit(data, y)
        assert reg.n_iter_ == 3
        assert_allclose(_theta(reg, d), expected, rtol=1e-9, atol=1e-12)
        # L1 gives exact zeros, in the same places as the proximal reference
        assert_array_equal(reg.coef_ == 0.0, expected[0, :d] == 0.0)


@pytest.mark.parametrize("solver", [Adam(), Adam(amsgrad=True), Adam(beta_1=0.0)],
                         ids=["adam", "amsgrad", "beta_1=0"])
def test_adam_steps_skip_only_coordinates_at_rest(solver):
    # apply_step skips a coordinate with no gradient and m = v = 0 (its step
    # would change nothing). Without a penalty a zero column has no
    # gradient: column 0 is always at rest, column 2 until the last batch;
    # column 1 is non-zero in the first and last batches only, so between
    # them it has no gradient but m and v (with beta_1 = 0, v alone) are not
    # zero: it must keep moving and decaying
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    X[:, 0] = 0.0
    X[10:30, 1] = 0.0
    X[:30, 2] = 0.0
    y = X @ [0.0, 2.0, -1.0, 0.5, 1.0] + 0.1 * rng.normal(size=40)
    common = dict(COMMON, solver=solver, eta0=0.05, alpha=0.0, fit_intercept=False)
    expected = _regressor_reference(X, y, ref.rule_of(solver), 2, 10, 0.05,
                                    "squared_error", fit_intercept=False)
    assert expected[0, 0] == 0.0 and np.all(expected[0, 1:4] != 0.0)
    # dense mini-batches step every column (CSR ones catch skipped columns
    # up lazily, exact only with beta_1 = 0: tests/test_estimators.py)
    reg = GDRegressor(batch_size=10, max_iter=2, **common).fit(X, y)
    assert_allclose(_theta(reg, 5), expected, rtol=1e-9, atol=1e-12)
    for data in (X, sp.csr_matrix(X)):
        # a partial_fit call of one batch is one full-batch step, which
        # meets every column, dense or CSR
        stream = GDRegressor(batch_size=10, **common)
        for _ in range(2):
            for start in range(0, 40, 10):
                stream.partial_fit(data[start:start + 10], y[start:start + 10])
        assert_allclose(_theta(stream, 5), expected, rtol=1e-9, atol=1e-12)


def test_l1_reference_makes_zeros():
    # the sparsity comparison above is only a test if zeros appear
    X, y = _regression_data()
    for make_solver in (SGD, Adam, AdaGrad, RMSprop):
        for batch_size in (1, 5, "full"):
            theta = _regressor_reference(X, y, ref.rule_of(make_solver()), 3,
                                         batch_size, 0.03, "squared_error",
                                         l1=PENALTIES["l1"][1])
            assert np.any(theta[0, :-1] == 0.0)
            assert not np.all(theta[0, :-1] == 0.0)


@pytest.mark.parametrize("loss", ["huber", "epsilon_insensitive",
                                  "squared_epsilon_insensitive"])
def test_regressor_losses_match_reference(loss):
    X, y = _regression_data(seed=1)
    epsilon = 0.3
    expected = _regressor_reference(X, y, ref.rule_of(Momentum()), 4, 4, 0.02, loss,
                                    loss_param=epsilon, l2=1e-3)
    reg = GDRegressor(loss=loss, epsilon=epsilon, solver="momentum", batch_size=4,
                      eta0=0.02, alpha=1e-3, max_iter=4, **COMMON).fit(X, y)
    assert_allclose(_theta(reg, X.shape[1]), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_multioutput_weighted_matches_reference(fit_intercept):
    X, Y = _regression_data(n=17, k=3, seed=2)
    sw = np.random.default_rng(3).uniform(0.1, 3.0, size=X.shape[0])
    solver = Adam(beta_1=0.8, amsgrad=True)
    expected = _regressor_reference(X, Y, ref.rule_of(solver), 3, 4, 0.05,
                                    "squared_error", sw=sw, l2=1e-2,
                                    fit_intercept=fit_intercept)
    reg = GDRegressor(solver=solver, batch_size=4, eta0=0.05, alpha=1e-2,
                      fit_intercept=fit_intercept, max_iter=3, **COMMON)
    reg.fit(X, Y, sample_weight=sw)
    assert reg.coef_.shape == (3, X.shape[1])
    assert_allclose(_theta(reg, X.shape[1]), expected, rtol=1e-9, atol=1e-12)
    if not fit_intercept:
        assert_array_equal(reg.intercept_, 0.0)


def _encode(y, classes, loss):
    onehot = (y[:, None] == classes[None, :]).astype(float)
    if len(classes) == 2:
        onehot = onehot[:, 1:]
    return onehot if loss == "log_loss" else 2.0 * onehot - 1.0


@pytest.mark.parametrize("loss, n_classes", [
    ("log_loss", 2), ("log_loss", 3), ("hinge", 2), ("hinge", 3),
    ("squared_hinge", 3), ("modified_huber", 2), ("perceptron", 3),
])
def test_classifier_epochs_match_reference(loss, n_classes):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(25, 3))
    scores = X @ rng.normal(size=(3, n_classes)) + rng.normal(size=(25, n_classes))
    labels = np.array(["ant", "bee", "cat"])[:n_classes]
    y = labels[np.argmax(scores, axis=1)]
    ref_loss = "multinomial" if loss == "log_loss" and n_classes > 2 else loss
    expected = ref.reference_fit(X, _encode(y, labels, loss), ref.rule_of(Adam()), 3,
                                 6, 0.05, ref_loss, l2=1e-3,
                                 loss_param=ref.CLASSIFICATION_PARAM[loss])
    clf = GDClassifier(loss=loss, solver="adam", batch_size=6, eta0=0.05, alpha=1e-3,
                       max_iter=3, **COMMON).fit(X, y)
    # Adam's m / sqrt(v) is scale free: where a gradient nearly cancels (the
    # softmax intercepts), rounding differences of 1e-17 grow to ~1e-11
    assert_allclose(_theta(clf, X.shape[1]), expected, rtol=1e-9, atol=1e-9)


def test_float32_matches_reference():
    X, y = _regression_data()
    expected = _regressor_reference(X, y, ref.rule_of(Adam()), 3, 5, 0.03,
                                    "squared_error", l2=1e-2)
    for data in (X.astype(np.float32), sp.csr_matrix(X.astype(np.float32))):
        reg = GDRegressor(solver="adam", batch_size=5, eta0=0.03, alpha=1e-2,
                          max_iter=3, **COMMON).fit(data, y.astype(np.float32))
        assert reg.coef_.dtype == np.float32
        assert_allclose(_theta(reg, X.shape[1]), expected, rtol=2e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# state carry-over
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("make_solver", SOLVER_CASES)
def test_partial_fit_carries_state(make_solver):
    X, y = _regression_data(n=20)
    X1, y1, X2, y2 = X[:11], y[:11], X[11:], y[11:]
    sw2 = np.linspace(0.5, 2.0, X2.shape[0])
    eta0, power_t = 0.05, 0.3
    # invscaling: the step depends on the update count t, which must resume
    lr = lambda t: eta0 / t**power_t  # noqa: E731
    rule = ref.rule_of(make_solver())
    theta, state, t = np.zeros((1, X.shape[1] + 1)), {}, 0
    theta[0, -1] = y1.mean()  # GDRegressor's documented start
    # every call divides by the first call's mean weight (1), not its own
    for Xc, yc, sw in [(X1, y1, np.ones(11)), (X2, y2, sw2), (X1, y1, np.ones(11))]:
        theta, state, t, _ = ref.reference_epoch(
            Xc, yc[:, None], sw, np.arange(Xc.shape[0]), 3, theta, rule, state, t,
            lr, "squared_error", l2=1e-2, mean_sw=1.0)
    reg = GDRegressor(solver=make_solver(), batch_size=3, eta0=eta0, alpha=1e-2,
                      learning_rate="invscaling", power_t=power_t, shuffle=False)
    reg.partial_fit(X1, y1).partial_fit(X2, y2, sample_weight=sw2).partial_fit(X1, y1)
    assert reg.t_ == t == 4 + 3 + 4
    assert_allclose(_theta(reg, X.shape[1]), theta, rtol=1e-9, atol=1e-12)


def test_partial_fit_twice_equals_fit_two_epochs():
    X, y = _regression_data()
    params = dict(solver=Adam(amsgrad=True), batch_size=4, eta0=0.05, alpha=1e-3,
                  **COMMON)
    reg = GDRegressor(**params)
    reg.partial_fit(X, y).partial_fit(X, y)
    fitted = GDRegressor(max_iter=2, **params).fit(X, y)
    expected = _regressor_reference(X, y, ref.rule_of(Adam(amsgrad=True)), 2, 4, 0.05,
                                    "squared_error", l2=1e-3)
    assert_allclose(_theta(reg, X.shape[1]), expected, rtol=1e-9, atol=1e-12)
    assert_allclose(_theta(fitted, X.shape[1]), expected, rtol=1e-9, atol=1e-12)
    # restarting the state is visibly different (the test above can fail)
    restarted = GDRegressor(max_iter=1, **params).fit(X, y)
    restarted = GDRegressor(max_iter=1, **params).fit(
        X, y, coef_init=restarted.coef_, intercept_init=restarted.intercept_)
    assert not np.allclose(_theta(restarted, X.shape[1]), expected, rtol=1e-6)


# ---------------------------------------------------------------------------
# solvers as scikit-learn parameter objects
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SOLVERS))
def test_registry_solvers_clone_and_params(name):
    solver = SOLVERS[name]()
    assert isinstance(solver, BaseSolver)
    copy = clone(solver)
    assert copy is not solver and type(copy) is type(solver)
    assert copy.get_params() == solver.get_params()
    for key, value in solver.get_params().items():  # set_params round trip
        assert copy.set_params(**{key: value}).get_params()[key] == value
    assert repr(solver).startswith(type(solver).__name__)


def test_registry_defaults():
    # DESIGN.md's table of names and defaults
    assert SOLVERS["nesterov"]().get_params() == {"momentum": 0.9, "nesterov": True}
    assert SOLVERS["momentum"]().get_params() == {"momentum": 0.9, "nesterov": False}
    assert SOLVERS["adam"]().get_params() == dict(beta_1=0.9, beta_2=0.999,
                                                  epsilon=1e-8, amsgrad=False)
    assert SOLVERS["rmsprop"]().get_params() == dict(rho=0.9, epsilon=1e-8)
    assert SOLVERS["adagrad"]().get_params() == dict(epsilon=1e-8)
    assert SOLVERS["sgd"]().get_params() == {}


def test_nested_params_and_clone():
    reg = GDRegressor(solver=Adam(beta_1=0.5))
    params = reg.get_params(deep=True)
    assert params["solver__beta_1"] == 0.5
    reg.set_params(solver__beta_1=0.7, solver__amsgrad=True)
    assert reg.solver.beta_1 == 0.7 and reg.solver.amsgrad is True
    copy = clone(reg)
    assert copy.solver is not reg.solver
    assert copy.solver.get_params() == reg.solver.get_params()


def test_fit_does_not_mutate_solver():
    solver = Momentum(momentum=0.3, nesterov=True)
    before = solver.get_params()
    X, y = _regression_data()
    GDRegressor(solver=solver, eta0=0.01, max_iter=2, **COMMON).fit(X, y)
    assert solver.get_params() == before


def test_invalid_solver_params_raise():
    X, y = _regression_data()
    with pytest.raises(ValueError, match="beta_1"):
        GDRegressor(solver=Adam(beta_1=1.5), eta0=0.01).fit(X, y)


def test_grid_search_over_solver_params():
    X, y = _regression_data(n=24)
    base = GDRegressor(solver=Adam(), batch_size=4, eta0=0.05, alpha=1e-3,
                       max_iter=3, **COMMON)
    grid = GridSearchCV(base, {"solver__beta_1": [0.0, 0.5, 0.9]}, cv=KFold(3))
    grid.fit(X, y)
    assert list(grid.cv_results_["param_solver__beta_1"]) == [0.0, 0.5, 0.9]
    # the parameter reached the kernel: the three settings score differently
    assert len(set(np.round(grid.cv_results_["mean_test_score"], 12))) == 3
    assert base.solver.beta_1 == 0.9  # the template was not touched
    best = grid.best_params_["solver__beta_1"]
    assert grid.best_estimator_.solver.beta_1 == best
    expected = _regressor_reference(X, y, ref.rule_of(Adam(beta_1=best)), 3, 4, 0.05,
                                    "squared_error", l2=1e-3)
    assert_allclose(_theta(grid.best_estimator_, X.shape[1]), expected, rtol=1e-9,
                    atol=1e-12)


# ---------------------------------------------------------------------------
# user-written solvers
# ---------------------------------------------------------------------------


@numba.njit
def adamax_update(theta, grad, state, i, hyper, t, lr):
    beta_1, beta_2, eps = hyper[0], hyper[1], hyper[2]
    g = grad[i]
    m = beta_1 * state[i, 0] + (1.0 - beta_1) * g
    u = max(beta_2 * state[i, 1], abs(g) + eps)
    state[i, 0] = m
    state[i, 1] = u
    theta[i] -= lr / (1.0 - beta_1**t) * m / u
    return 1.0 / u


class Adamax(BaseSolver):
    """torch.optim.Adamax, as a user would write it."""

    n_slots = 2
    update = staticmethod(adamax_update)

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def hyper(self):
        return np.array([self.beta_1, self.beta_2, self.epsilon])


class WrappedAdam(BaseSolver):
    """The built-in Adam step, reached as a user solver (function argument)."""

    n_slots = 3
    update = staticmethod(adam_update)

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=False):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def hyper(self):
        return np.array([self.beta_1, self.beta_2, self.epsilon, float(self.amsgrad)])


def test_custom_solver_matches_its_reference():
    X, y = _regression_data()
    solver = Adamax(beta_1=0.8, beta_2=0.99)
    l2, l1 = _penalty("elasticnet", 0.05, 0.5)

    def rule(w, g, state, t, lr):
        return ref.adamax(w, g, state, t, lr, beta_1=0.8, beta_2=0.99)

    expected = _regressor_reference(X, y, rule, 3, 5, 0.03, "squared_error", l2=l2,
                                    l1=l1)
    reg = GDRegressor(solver=solver, batch_size=5, eta0=0.03, alpha=0.05,
                      penalty="elasticnet", l1_ratio=0.5, max_iter=3, **COMMON)
    reg.fit(X, y)
    assert_allclose(_theta(reg, X.shape[1]), expected, rtol=1e-9, atol=1e-12)
    # a custom solver is a parameter object too
    assert reg.get_params()["solver__beta_1"] == 0.8
    assert clone(reg).solver.get_params() == solver.get_params()
    # and its state carries over partial_fit
    pf = GDRegressor(solver=Adamax(beta_1=0.8, beta_2=0.99), batch_size=5, eta0=0.03,
                     alpha=0.05, penalty="elasticnet", l1_ratio=0.5, **COMMON)
    for _ in range(3):
        pf.partial_fit(X, y)
    assert_allclose(_theta(pf, X.shape[1]), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_wrapped_adam_equals_builtin(amsgrad):
    # equal to rounding, not bit for bit: the built-in loop computes the
    # step's bias terms once a call (adam_step), a user's rule wrapping
    # adam_update once a coordinate, and under the kernels' fastmath flags
    # LLVM may reassociate the two differently (seen: 1 ulp)
    X, y = _regression_data(k=2)
    params = dict(batch_size=5, eta0=0.03, alpha=0.05, penalty="elasticnet",
                  l1_ratio=0.5, max_iter=3, **COMMON)
    builtin = GDRegressor(solver=Adam(beta_1=0.8, amsgrad=amsgrad), **params).fit(X, y)
    custom = GDRegressor(solver=WrappedAdam(beta_1=0.8, amsgrad=amsgrad),
                         **params).fit(X, y)
    assert_allclose(custom.coef_, builtin.coef_, rtol=1e-13, atol=1e-15)
    assert_allclose(custom.intercept_, builtin.intercept_, rtol=1e-13, atol=1e-15)


def test_solver_without_update_is_rejected():
    class Broken(BaseSolver):
        n_slots = 0

    X, y = _regression_data()
    with pytest.raises(TypeError, match="update"):
        GDRegressor(solver=Broken(), eta0=0.01).fit(X, y)


# ---------------------------------------------------------------------------
# lazy updates of CSR data: the catch-up over skipped steps
# ---------------------------------------------------------------------------

LAZY_NAMES = {"SGD": "sgd", "Momentum": "momentum", "AdaGrad": "adagrad",
              "RMSprop": "rmsprop", "Adam": "adam"}


class _Frozen(BaseSolver):
    """A user's rule (``code < 0``): the catch-up leaves weight and state."""

    n_slots = 1
    update = staticmethod(adam_update)


@pytest.mark.parametrize("make_solver", [
    *SOLVER_CASES,
    # r = beta_1 / sqrt(beta_2) = 1 exactly: the drift's sum is k
    pytest.param(lambda: Adam(beta_1=0.5, beta_2=0.25), id="adam-r=1"),
    pytest.param(lambda: Adam(beta_2=0.0), id="adam-beta_2=0"),
    pytest.param(lambda: Adam(beta_2=0.0, amsgrad=True), id="adam-amsgrad-beta_2=0"),
    pytest.param(_Frozen, id="custom"),
])
@pytest.mark.parametrize("l2, l1", [(0.0, 0.0), (0.3, 0.0), (0.3, 0.02)])
def test_catch_up_matches_reference(make_solver, l2, l1):
    """catch_up, reading its powers from the per-step table, equals the
    skipped steps taken one by one with their powers computed per coordinate
    (tests/_reference.py), from 1 to 500 skipped steps. Without L1, Adam
    takes its own loop (one division for drift and L2 step)."""
    from skgd._epoch_runner import _hyper_tuple
    from skgd._kernels import updates

    solver = make_solver()
    name = LAZY_NAMES.get(type(solver).__name__, "custom")
    code = -1 if solver._code is None else solver._code
    e, t, lr = 500, 7, 0.05
    since = np.array([0, 1, 250, 480, 499, 500])  # 500 .. 1, then 0 skipped steps
    n = since.shape[0]
    rng = np.random.default_rng(0)
    theta = rng.normal(size=n)
    state = rng.uniform(0.1, 1.0, size=(n, solver.n_slots))
    if name in ("momentum", "adam"):  # a velocity or first moment has a sign
        state[:, 0] *= rng.choice([-1.0, 1.0], size=n)
    if solver.n_slots == 3 and name == "adam":  # AMSGrad's maximum is at least v
        state[:, 2] = np.maximum(state[:, 1], state[:, 2])
    expected = [ref.lazy_skip(name, theta[q], state[q], e - since[q], t, lr, l2, l1,
                              **solver.get_params()) for q in range(n)]

    hyper = _hyper_tuple(solver)
    table = np.zeros((e + 1, updates.SKIP_TABLE_WIDTH))
    for k in range(1, e + 1):
        updates.skip_table_row(code, hyper, table, k)
    steps = np.arange(e + 1.0)
    lam = lr * steps
    G = (1.0 - lr * l2) ** steps  # the prefix products of the decay
    h = np.concatenate([[0.0], np.cumsum(lr * l1 / G[1:])])
    updates.catch_up(code, theta, state, np.arange(n), since, n, 1, n, e, hyper, t,
                     table, lam, G, h, l2, l1, np.zeros(0), False, False)
    assert_allclose(theta, [w for w, _ in expected], rtol=1e-12, atol=1e-300)
    assert_allclose(state, [s for _, s in expected], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("make_solver", [
    pytest.param(Adam, id="adam"),
    pytest.param(lambda: Adam(amsgrad=True), id="adam-amsgrad"),
    pytest.param(RMSprop, id="rmsprop"),
    pytest.param(AdaGrad, id="adagrad"),
])
@pytest.mark.parametrize("l1", [0.0, 0.02])
def test_catch_up_bounds_a_strong_l2_step(make_solver, l1):
    """Under a strong L2 penalty the proximal step over a few skipped steps
    would move a weight further than the L2 gradient itself could (a
    normalised step of ``lr`` a step for Adam and RMSprop; for AdaGrad,
    ``lr sum_j g / sqrt(s + j g^2)``, ``g = l2 |w|``, the sum as an
    integral): catch_up holds it to that bound, as the reference
    (tests/_reference.py) does; some coordinates here meet the bound and
    some do not."""
    from skgd._epoch_runner import _hyper_tuple
    from skgd._kernels import updates

    solver = make_solver()
    name = LAZY_NAMES[type(solver).__name__]
    code = solver._code
    e, t, lr, l2 = 10, 7, 0.05, 50.0
    since = np.array([9, 9, 8, 5, 0, 9, 8, 0])
    theta = np.array([1.5, -2.0, 0.7, 3.0, 0.2, 0.01, -0.02, -5.0])
    n = since.shape[0]
    state = np.random.default_rng(2).uniform(1e-4, 1e-2, size=(n, solver.n_slots))
    if solver.n_slots == 3:  # AMSGrad's maximum is at least v
        state[:, 2] = np.maximum(state[:, 1], state[:, 2])
    params = solver.get_params()
    reference = [ref.lazy_skip(name, theta[q], state[q], e - since[q], t, lr, l2, l1,
                               **params) for q in range(n)]
    expected = [w for w, _ in reference]
    # the weights before the L2 step: the drift (and L1 step) alone
    unshrunk = [ref.lazy_skip(name, theta[q], state[q], e - since[q], t, lr, 0.0, l1,
                              **params)[0] for q in range(n)]
    move = np.abs(unshrunk) - np.abs(expected)
    skipped = e - since
    bound = lr * skipped
    if name == "adagrad":
        g, total = l2 * np.abs(theta), state[:, 0]
        bound = 2.0 * bound * g / (np.sqrt(total + (skipped + 0.5) * g**2)
                                   + np.sqrt(total + 0.5 * g**2))
    at_bound = np.isclose(move, bound, rtol=1e-9)
    assert at_bound.any() and not at_bound.all()

    hyper = _hyper_tuple(solver)
    table = np.zeros((e + 1, updates.SKIP_TABLE_WIDTH))
    for k in range(1, e + 1):
        updates.skip_table_row(code, hyper, table, k)
    ones, zeros = np.ones(e + 1), np.zeros(e + 1)  # G and h: only SGD reads them
    updates.catch_up(code, theta, state, np.arange(n), since, n, 1, n, e, hyper, t,
                     table, lr * np.arange(e + 1.0), ones, zeros, l2, l1, np.zeros(0),
                     False, False)
    assert_allclose(theta, expected, rtol=1e-12, atol=1e-300)
    assert_allclose(state, [slots for _, slots in reference], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("make_solver", [*SOLVER_CASES, pytest.param(_Frozen, id="custom")])
@pytest.mark.parametrize("l2, l1, cumulative", [(0.0, 0.0, False), (0.3, 0.02, False),
                                                (0.3, 0.02, True)])
def test_catch_up_skipping_resting_coordinates_changes_nothing(make_solver, l2, l1,
                                                               cumulative):
    """The flush's shortcut (skip_resting: a weight at its centre with all
    state zero is left alone) gives bit for bit what the full catch-up
    gives, also for coordinates that only look at rest (state or weight
    non-zero) and under the cumulative L1 penalty, whose budgets grow even
    at zero weights."""
    from skgd._epoch_runner import _hyper_tuple
    from skgd._kernels import updates

    solver = make_solver()
    code = -1 if solver._code is None else solver._code
    hyper = _hyper_tuple(solver)
    e, t, lr = 300, 7, 0.05
    n = 8
    since = np.array([0, 10, 150, 299, 0, 10, 150, 299])
    rng = np.random.default_rng(1)
    n_columns = solver.n_slots + (2 if l1 > 0 else 0)
    theta = np.zeros(n)
    state = np.zeros((n, n_columns))
    theta[1] = 0.4  # a weight away from its centre, zero state
    if n_columns:
        state[2] = rng.uniform(0.1, 1.0, size=n_columns)  # at its centre, state set
    theta[5:] = rng.normal(size=3)
    state[5:] = rng.uniform(0.1, 1.0, size=(3, n_columns))
    table = np.zeros((e + 1, updates.SKIP_TABLE_WIDTH))
    for k in range(1, e + 1):
        updates.skip_table_row(code, hyper, table, k)
    steps = np.arange(e + 1.0)
    lam, G = lr * steps, (1.0 - lr * l2) ** steps
    h = np.concatenate([[0.0], np.cumsum(lr * l1 / G[1:])])
    results = []
    for skip_resting in (False, True):
        w, st = theta.copy(), state.copy()
        updates.catch_up(code, w, st, np.arange(n), since, n, 1, n, e, hyper, t, table,
                         lam, G, h, l2, l1, np.zeros(0), cumulative, skip_resting)
        results.append((w, st))
    assert_array_equal(results[1][0], results[0][0])
    assert_array_equal(results[1][1], results[0][1])
    # the coordinates that were not at rest did change, where anything
    # changes (without a penalty SGD, AdaGrad and a user's rule stand still)
    changed = not (np.array_equal(results[0][0][5:], theta[5:])
                   and np.array_equal(results[0][1][5:], state[5:]))
    moving = l2 > 0 or type(solver).__name__ in ("Momentum", "RMSprop", "Adam")
    assert changed == moving


def _cumulative_steps(w, offered, applied, k, lr, l2, l1, scale):
    """``k`` skipped steps one by one, each ``w -> (1 - lr l2) w`` then
    scikit-learn's ``l1penalty`` (Tsuruoka et al. 2009): the total offered
    ``u`` grows by ``lr * scale * l1``, a positive weight drops to
    ``max(0, w - (u + q))``, a negative one rises to ``min(0, w + (u - q))``,
    and ``q`` sums what was applied."""
    for _ in range(k):
        w *= 1.0 - lr * l2
        offered += lr * scale * l1
        before = w
        if w > 0.0:
            w = max(0.0, w - (offered + applied))
        elif w < 0.0:
            w = min(0.0, w + (offered - applied))
        applied += w - before
    return w, offered, applied


@pytest.mark.parametrize("make_solver, l2", [
    pytest.param(SGD, 0.0, id="sgd"),
    pytest.param(SGD, 0.3, id="sgd-l2"),  # the decay before each clip, exactly
    pytest.param(AdaGrad, 0.0, id="adagrad"),  # still weight, constant scale
])
def test_cumulative_catch_up_matches_step_by_step(make_solver, l2):
    """The lazy catch-up of the cumulative L1 penalty (two budgets a
    coordinate, ``u + q`` and ``u - q``, in the last two state columns)
    equals the skipped steps taken one by one: weights that stay non-zero,
    that reach zero at the first step or later, negative, and at zero."""
    from skgd._epoch_runner import _hyper_tuple
    from skgd._kernels import updates

    solver = make_solver()
    e, t, lr, l1 = 60, 7, 0.05, 0.1
    theta = np.array([0.9, 0.9, 0.004, 0.06, -0.5, -0.05, 0.0, 0.2])
    since = np.array([0, 59, 0, 0, 10, 30, 0, 55])
    offered = np.array([0.3, 0.01, 0.2, 0.01, 0.5, 0.0, 0.1, 0.0])
    applied = np.array([-0.2, -0.01, 0.0, -0.005, 0.3, 0.0, 0.05, 0.0])
    n = theta.shape[0]
    state = np.zeros((n, solver.n_slots + 2))
    state[:, :solver.n_slots] = 0.7  # AdaGrad's sum of squares
    state[:, -2], state[:, -1] = offered + applied, offered - applied
    scale = 1.0 / (np.sqrt(0.7) + solver.epsilon) if solver.n_slots else 1.0
    expected = [_cumulative_steps(theta[q], offered[q], applied[q], e - since[q], lr, l2,
                                  l1, scale) for q in range(n)]
    steps = np.arange(e + 1.0)
    lam, G = lr * steps, (1.0 - lr * l2) ** steps
    h = np.concatenate([[0.0], np.cumsum(lr * l1 / G[1:])])
    table = np.zeros((e + 1, updates.SKIP_TABLE_WIDTH))
    updates.catch_up(solver._code, theta, state, np.arange(n), since, n, 1, n, e,
                     _hyper_tuple(solver), t, table, lam, G, h, l2, l1, np.zeros(0),
                     True, False)
    w, u, q = map(np.array, zip(*expected))
    assert np.sum(w == 0.0) >= 3 and np.sum(w != 0.0) >= 3  # both outcomes covered
    assert_allclose(theta, w, rtol=1e-12, atol=1e-15)
    assert_allclose(state[:, -2], u + q, rtol=1e-12, atol=1e-15)
    assert_allclose(state[:, -1], u - q, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make_solver", [
    pytest.param(Adam, id="adam"),
    pytest.param(lambda: Adam(amsgrad=True), id="adam-amsgrad"),
    pytest.param(lambda: Adam(beta_1=0.7, beta_2=0.95, amsgrad=True), id="amsgrad-custom"),
    pytest.param(lambda: Adam(beta_2=0.0), id="adam-beta_2=0"),
])
def test_adam_catch_up_equals_zero_gradient_steps(make_solver):
    """The lazy drift against torch's Adam run step by step on zero gradients
    (tests/_reference.py), where its frozen terms are exact: late in training
    (both bias corrections 1.0) and with ``sqrt(v)`` far above ``epsilon``.
    Under AMSGrad the maximum does not decay (the step shrinks by
    ``beta_1``, not ``beta_1 / sqrt(beta_2)``); with ``beta_2 = 0`` the
    denominator is ``epsilon`` from the first skipped step."""
    from skgd._epoch_runner import _hyper_tuple
    from skgd._kernels import updates

    solver = make_solver()
    params = solver.get_params()
    hyper = _hyper_tuple(solver)
    e, t, lr, k = 40, 10**5, 1e-3, 40
    table = np.zeros((e + 1, updates.SKIP_TABLE_WIDTH))
    for step in range(1, e + 1):
        updates.skip_table_row(solver._code, hyper, table, step)
    m, v, vmax = -0.3, 0.04, 0.09
    theta, state = np.array([0.5]), np.array([[m, v, vmax]])
    updates.catch_up(solver._code, theta, state, np.arange(1), np.zeros(1, np.int64), 1,
                     1, 1, e, hyper, t, table, lr * np.arange(e + 1.0), np.zeros(e + 1),
                     np.zeros(e + 1), 0.0, 0.0, np.zeros(0), False, False)
    w = np.array([0.5])
    rule_state = {"exp_avg": np.array([m]), "exp_avg_sq": np.array([v]),
                  "max_exp_avg_sq": np.array([vmax])}
    for step in range(t - k + 1, t + 1):
        w, new_state, _ = ref.adam(w, np.zeros(1), rule_state, step, lr, **params)
        rule_state.update(new_state)
    # sqrt(v) / epsilon ~ 1e7 (the part the drift freezes), but 1.0 / epsilon
    # with beta_2 = 0: exact there
    assert_allclose(theta, w, rtol=1e-6)
    assert_allclose(state[0, :2], [rule_state["exp_avg"][0], rule_state["exp_avg_sq"][0]],
                    rtol=1e-12)


def test_adam_beta_2_zero_on_sparse_data_matches_dense():
    """Adam(beta_2=0) on CSR used to divide by sqrt(beta_2) in the catch-up
    (ZeroDivisionError); it now trains as on dense data. With beta_1 = 0 too
    nothing drifts once a column is skipped (m = v = 0), so the lazy updates
    are exact (the drift itself is checked against torch's steps above)."""
    X, y = _regression_data()
    X = X * (np.random.default_rng(0).random(X.shape) < 0.3)  # columns skip batches
    params = dict(solver=Adam(beta_1=0.0, beta_2=0.0, epsilon=1.0), batch_size=5,
                  eta0=1e-3,
                  learning_rate="constant", max_iter=3, tol=None, alpha=0.0,
                  shuffle=False)
    dense = GDRegressor(**params).fit(X, y)
    sparse = GDRegressor(**params).fit(sp.csr_matrix(X), y)
    assert np.any(X == 0.0) and np.all(dense.coef_ != 0.0)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10)


# ---------------------------------------------------------------------------
# Numba configuration and specialisations
# ---------------------------------------------------------------------------

JIT_NAMES = {"njit", "jit", "vectorize", "guvectorize", "cfunc", "generated_jit",
             "stencil", "overload", "register_jitable"}


def _jit_name(node):
    if isinstance(node, ast.Name) and node.id in JIT_NAMES:
        return node.id
    if isinstance(node, ast.Attribute) and node.attr in JIT_NAMES:
        return node.attr
    return None


def _is_njit_config(call):
    """True for ``njit(**NJIT)``, ``njit(**NJIT_INLINE)`` (NJIT plus
    ``inline="always"``) and ``njit(**dict(NJIT, <not fastmath>=...))``."""
    if call.args or len(call.keywords) != 1 or call.keywords[0].arg is not None:
        return False
    value = call.keywords[0].value
    if isinstance(value, ast.Name):
        return value.id in ("NJIT", "NJIT_INLINE")
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id == "dict" and len(value.args) == 1
            and isinstance(value.args[0], ast.Name) and value.args[0].id == "NJIT"
            and all(kw.arg not in (None, "fastmath", "nopython", "forceobj")
                    for kw in value.keywords))


def test_every_njit_uses_shared_config():
    uses, bad = 0, []
    for path in sorted(Path(skgd.__file__).parent.rglob("*.py")):
        if path.name == "_jit.py":  # the wrapper forwards its callers' options
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            decorators = getattr(node, "decorator_list", [])
            for dec in decorators:  # a bare @njit / @numba.njit
                if _jit_name(dec):
                    bad.append(f"{where}: bare @{_jit_name(dec)}")
            if isinstance(node, ast.Call) and _jit_name(node.func):
                uses += 1
                if not _is_njit_config(node):
                    bad.append(f"{where}: {ast.unparse(node)[:60]}")
    assert not bad, "njit without the shared NJIT config:\n" + "\n".join(bad)
    assert uses >= 10  # the scan found the kernels


def _skgd_dispatchers():
    found = {}
    for info in pkgutil.walk_packages(skgd.__path__, prefix="skgd."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if isinstance(obj, Dispatcher):
                found[f"{obj.py_func.__module__}.{name}"] = obj
    return found


def test_compiled_kernels_have_shared_options():
    from skgd._kernels._config import NJIT_INLINE

    assert NJIT_INLINE == dict(NJIT, inline="always")
    assert NJIT["cache"] is True and NJIT["nogil"] is True
    assert NJIT["fastmath"] is not True
    assert not {"nnan", "ninf", "fast"} & set(NJIT["fastmath"])
    assert set(NJIT["fastmath"]) == set(FASTMATH_FLAGS)
    dispatchers = _skgd_dispatchers()
    assert len(dispatchers) >= 10
    cached_funcs = {d.py_func for d in dispatchers.values()
                    if type(d._cache).__name__ != "NullCache"}
    for name, disp in dispatchers.items():
        assert set(disp.targetoptions.get("fastmath", ())) == set(FASTMATH_FLAGS), name
        assert disp.targetoptions.get("nogil") is True, name
        assert disp.targetoptions.get("error_model") == "numpy", name
        # uncached only as the twin of a cached kernel (the user-solver epoch)
        assert disp.py_func in cached_funcs, name


def test_division_by_zero_is_ieee_not_an_exception():
    # error_model="numpy": no zero test (and branch to raise) in the hot loops;
    # a zero divisor gives inf / nan, which the divergence checks catch
    @numba.njit(**dict(NJIT, cache=False))
    def divide(a, b):
        return a / b

    assert divide(1.0, 0.0) == np.inf
    assert np.isnan(divide(0.0, 0.0))


def test_isfinite_of_argument_survives_fastmath():
    @numba.njit(**dict(NJIT, cache=False))
    def not_finite(x):
        return not np.isfinite(x)

    assert not_finite(np.nan) and not_finite(np.inf) and not not_finite(1.0)


def test_isfinite_of_running_sum_survives_fastmath():
    # the pattern of a divergence check in a kernel, on an accumulated value;
    # with "nsz" and "reassoc" together LLVM folded it away, so
    # FASTMATH_FLAGS leaves out "nsz"
    @numba.njit(**dict(NJIT, cache=False))
    def first_non_finite(a):
        total = 0.0
        for i in range(a.shape[0]):
            total += a[i]
            if not np.isfinite(total):
                return i
        return -1

    assert first_non_finite(np.array([1.0, np.nan, 2.0])) == 1
    assert first_non_finite(np.array([1.0, 2.0, np.inf])) == 2


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e300])
def test_epoch_kernel_stops_on_non_finite_loss(bad):
    """run_epoch returns a non-finite loss at the first non-finite batch and
    leaves the later batches undone (its divergence check was compiled)."""
    import inspect

    from skgd._kernels import epoch, losses, updates

    def ro(a):
        a = np.ascontiguousarray(a)
        a.flags.writeable = False
        return a

    X = np.array([[1.0, 2.0], [bad, 1.0], [0.5, 0.5], [1.0, 1.0]])
    n, d = X.shape
    theta = np.zeros(d + 1)
    counters = np.zeros(3, dtype=np.int64)
    empty_i = ro(np.zeros(0, dtype=np.int32))
    args = dict(
        update=None, X=ro(X), data=ro(np.zeros(0)), indices=empty_i, indptr=empty_i,
        sparse=False, Y=ro(np.ones((n, 1))), sw=ro(np.ones(n)), order=np.arange(n),
        batch_size=1, theta=theta, state=np.zeros((d + 1, 0)), avg=np.zeros(0),
        counters=counters, d=d, k=1, fit_intercept=True,
        loss_code=losses.SQUARED_ERROR, loss_param=0.0, l2=0.0, l1=0.0,
        solver_code=updates.SGD, hyper=np.zeros(0), schedule=epoch.CONSTANT,
        eta0=0.1, power_t=0.0, optimal_init=0.0, alpha=0.0, average_start=1,
        mean_sw=1.0, loss_limit=np.inf, theta0=ro(np.zeros(0)),
        frozen=ro(np.zeros(0, dtype=bool)))
    names = inspect.signature(epoch.run_epoch.py_func).parameters
    total = epoch.run_epoch(*[args[name] for name in names])
    assert not np.isfinite(total)
    assert counters[0] == 1  # the first row's update only
    assert_allclose(theta, [0.1, 0.2, 0.1])  # w - lr * (p - y) * [x, 1], p = 0


def test_divergence_never_leaves_nan():
    # whatever the kernel does, the estimator must raise and keep coef_ finite
    X, y = _regression_data()
    reg = GDRegressor(solver="sgd", batch_size=1, eta0=0.01, max_iter=1, **COMMON)
    reg.fit(X, y)
    before = reg.coef_.copy()
    with pytest.raises(skgd.DivergenceError):
        reg.set_params(eta0=1e6, warm_start=True).fit(X * 1e150, y)
    assert_array_equal(reg.coef_, before)


SIGNATURE_SCRIPT = textwrap.dedent("""
    import numpy as np, scipy.sparse as sp
    from skgd import GDClassifier, GDRegressor
    from skgd._kernels.epoch import run_epoch
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = X @ np.array([1.0, -2.0, 0.0, 0.5])
    frozen = X.copy()
    frozen.flags.writeable = False
    frozen32 = X.astype(np.float32)
    frozen32.flags.writeable = False
    frozen_csr = sp.csr_matrix(X)
    for a in (frozen_csr.data, frozen_csr.indices, frozen_csr.indptr):
        a.flags.writeable = False
    wide = [sp.csr_matrix(X.astype(dtype)) for dtype in (np.float64, np.float32)]
    for a in wide:  # int64 indices, as scipy makes for very large matrices
        a.indices, a.indptr = a.indices.astype(np.int64), a.indptr.astype(np.int64)
    variants = [X, X.astype(np.float32), sp.csr_matrix(X),
                sp.csr_matrix(X.astype(np.float32)), frozen, frozen32, frozen_csr,
                np.asfortranarray(X), X[:, ::2], sp.csc_matrix(X), *wide]
    common = dict(max_iter=2, tol=None, eta0=0.01)
    for Xv in variants:
        sw = rng.uniform(0.5, 1.5, size=30)
        GDRegressor(solver="adam", **common).fit(Xv, y)
        GDRegressor(solver="sgd", batch_size="full", average=True, **common).fit(
            Xv, np.c_[y, -y], sample_weight=sw)
        GDRegressor(solver="momentum", fit_intercept=False, **common).partial_fit(Xv, y)
        GDClassifier(solver="rmsprop", **common).fit(Xv, y > 0)
        GDClassifier(solver="adagrad", loss="hinge", **common).fit(
            Xv, np.digitize(y, [-1.0, 1.0]))
        # L2-SP and freezing (a strided mask) share the same kernels
        GDClassifier(solver="adam", penalty_reference="init", freeze_intercept=True,
                     freeze_features=np.repeat([True, False], Xv.shape[1])[::2],
                     **common).fit(
            Xv, y > 0, coef_init=np.ones(Xv.shape[1]))
    print(len(run_epoch.signatures))
""")


def test_epoch_kernel_specialisations():
    """float64/float32 x dense/CSR: at most four compiled epoch kernels,
    whatever else varies (read-only, Fortran order, CSC, int64 indices,
    solver, loss, options).
    Run in a fresh interpreter so that other tests cannot add signatures."""
    out = subprocess.run([sys.executable, "-c", SIGNATURE_SCRIPT], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    n_signatures = int(out.stdout.strip().splitlines()[-1])
    assert n_signatures <= 4, f"run_epoch compiled {n_signatures} specialisations"
