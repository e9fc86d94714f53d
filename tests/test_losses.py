"""Losses: every kernel loss against its textbook value (tests/_reference.py),
its derivative against central finite differences, the margin losses against
scikit-learn's ``_sgd_fast`` (whose conventions skgd keeps), and the softmax
cross-entropy of multinomial log_loss."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skgd._kernels import epoch as epoch_kernels
from skgd._kernels import losses as K
from skgd._losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES

try:  # tests/ as a package, or as a rootdir on sys.path
    from . import _reference as ref
except ImportError:
    import _reference as ref

# name -> (kernel code, loss parameters to try, target kind, kink locations)
# kinks are in the margin z = y p for classification, in r = p - y for regression
MARGIN, PROBA, REAL = "margin", "proba", "real"
CASES = {
    "log_loss": (K.LOG, [0.0], PROBA, lambda param: []),
    "hinge": (K.HINGE, [1.0, 0.5], MARGIN, lambda param: [param]),
    "perceptron": (K.PERCEPTRON, [0.0], MARGIN, lambda param: [param]),
    "squared_hinge": (K.SQUARED_HINGE, [1.0, 0.5], MARGIN, lambda param: [param]),
    "modified_huber": (K.MODIFIED_HUBER, [0.0], MARGIN, lambda param: [-1.0, 1.0]),
    "squared_error": (K.SQUARED_ERROR, [0.0], REAL, lambda param: []),
    "huber": (K.HUBER, [0.1, 1.35], REAL, lambda param: [-param, param]),
    "epsilon_insensitive": (K.EPSILON_INSENSITIVE, [0.1, 0.5], REAL,
                            lambda param: [-param, param]),
    "squared_epsilon_insensitive": (K.SQUARED_EPSILON_INSENSITIVE, [0.1, 0.5], REAL,
                                    lambda param: [-param, param]),
}
PARAM_CASES = [pytest.param(name, param, id=f"{name}-{param}")
               for name, (_, params, _, _) in CASES.items() for param in params]


def _points(kind, kinks, n=400, seed=0, gap=1e-3):
    """Random (p, y) pairs at least ``gap`` away from every kink."""
    rng = np.random.default_rng(seed)
    p = rng.normal(scale=3.0, size=n)
    if kind == MARGIN:
        y = rng.choice([-1.0, 1.0], size=n)
        s = y * p
    elif kind == PROBA:
        y = np.where(rng.random(n) < 0.3, rng.random(n), rng.integers(0, 2, n))
        s = p
    else:
        y = rng.normal(scale=2.0, size=n)
        s = p - y
    keep = np.ones(n, dtype=bool)
    for kink in kinks:
        keep &= np.abs(s - kink) > gap
    return p[keep], y[keep]


def _scalar(code, p, y, param):
    out = np.array([K.scalar_loss(code, float(a), float(b), float(param))
                    for a, b in zip(p, y)])
    return out[:, 0], out[:, 1]


@pytest.mark.parametrize("name, param", PARAM_CASES)
def test_scalar_loss_value_matches_reference(name, param):
    code, _, kind, kinks = CASES[name]
    p, y = _points(kind, kinks(param))
    value, derivative = _scalar(code, p, y, param)
    ref_value, ref_derivative = ref.LOSSES[name](p, y, param)
    assert_allclose(value, ref_value, rtol=1e-12, atol=1e-13)
    assert_allclose(derivative, ref_derivative, rtol=1e-12, atol=1e-13)
    assert np.all(value >= 0.0)


@pytest.mark.parametrize("name, param", PARAM_CASES)
def test_scalar_loss_derivative_finite_differences(name, param):
    code, _, kind, kinks = CASES[name]
    p, y = _points(kind, kinks(param), seed=1, gap=1e-3)
    h = 1e-6
    _, derivative = _scalar(code, p, y, param)
    plus, _ = _scalar(code, p + h, y, param)
    minus, _ = _scalar(code, p - h, y, param)
    numerical = (plus - minus) / (2.0 * h)
    assert_allclose(derivative, numerical, rtol=1e-6, atol=1e-6)
    # the derivative is a test only where the loss is not flat everywhere
    assert np.count_nonzero(derivative) > len(p) // 4


@pytest.mark.parametrize("name", list(CASES))
def test_row_loss_sums_independent_outputs(name):
    code, params, kind, kinks = CASES[name]
    param = params[-1]
    p, y = _points(kind, kinks(param), n=200, seed=2)
    P, Y = p[:60].reshape(20, 3), y[:60].reshape(20, 3)
    ref_value, ref_derivative = ref.LOSSES[name](P, Y, param)
    for r in range(P.shape[0]):
        dloss = np.full(3, np.nan)
        value = K.row_loss(code, P[r].copy(), Y[r].copy(), param, dloss)
        assert_allclose(value, ref_value[r].sum(), rtol=1e-12, atol=1e-13)
        assert_allclose(dloss, ref_derivative[r], rtol=1e-12, atol=1e-13)


def test_registry_names_map_to_their_loss():
    """Every public name reaches the kernel loss of that name (and a threshold
    that is the documented one: hinge 1, perceptron 0, squared hinge 1)."""
    assert set(CLASSIFICATION_LOSSES) == {"log_loss", "hinge", "squared_hinge",
                                          "modified_huber", "perceptron"}
    assert set(REGRESSION_LOSSES) == {"squared_error", "huber", "epsilon_insensitive",
                                      "squared_epsilon_insensitive"}
    rng = np.random.default_rng(3)
    for name, (code, param) in {**CLASSIFICATION_LOSSES, **REGRESSION_LOSSES}.items():
        if param is None or param == "epsilon":
            param = 0.0 if param is None else 0.25
        else:
            assert param == ref.CLASSIFICATION_PARAM[name], name
        kind = CASES[name][2]
        p, y = _points(kind, CASES[name][3](param), n=50, seed=int(rng.integers(99)))
        value, derivative = _scalar(code, p, y, param)
        ref_value, ref_derivative = ref.LOSSES[name](p, y, param)
        assert_allclose(value, ref_value, rtol=1e-12, atol=1e-13, err_msg=name)
        assert_allclose(derivative, ref_derivative, rtol=1e-12, atol=1e-13,
                        err_msg=name)


# scikit-learn's _sgd_fast losses (private): the conventions skgd states it
# keeps, including the subgradient at a kink; name -> class, takes the param
SKLEARN = {"hinge": "Hinge", "perceptron": "Hinge", "squared_hinge": "SquaredHinge",
           "modified_huber": "ModifiedHuber",
           "epsilon_insensitive": "EpsilonInsensitive",
           "squared_epsilon_insensitive": "SquaredEpsilonInsensitive"}


@pytest.mark.parametrize("name", list(SKLEARN))
def test_matches_sklearn_sgd_fast_including_kinks(name):
    sgd_fast = pytest.importorskip("sklearn.linear_model._sgd_fast")
    code, params, kind, kinks = CASES[name]
    for param in params:
        cls = getattr(sgd_fast, SKLEARN[name], None)
        if cls is None:
            pytest.skip(f"sklearn.linear_model._sgd_fast has no {SKLEARN[name]}")
        sk = cls() if name == "modified_huber" else cls(param)
        p, y = _points(kind, [], n=200, seed=4)
        # add points exactly at the kinks
        if kind == MARGIN:
            y_k = np.array([1.0, -1.0] * len(kinks(param)))
            p_k = np.repeat(kinks(param), 2) * y_k
        else:
            y_k = np.array([0.5] * len(kinks(param)))
            p_k = y_k + np.array(kinks(param))
        p, y = np.r_[p, p_k], np.r_[y, y_k]
        value, derivative = _scalar(code, p, y, param)
        expected_value = [sk.py_loss(a, b) for a, b in zip(p, y)]
        expected_derivative = [sk.py_dloss(a, b) for a, b in zip(p, y)]
        assert_allclose(value, expected_value, rtol=1e-12, atol=1e-14)
        assert_allclose(derivative, expected_derivative, rtol=1e-12, atol=1e-14)


def test_log_loss_is_stable_for_large_decisions():
    cases = [(800.0, 0.0, 800.0, 1.0), (-800.0, 1.0, 800.0, -1.0),
             (800.0, 1.0, 0.0, 0.0), (-800.0, 0.0, 0.0, 0.0),
             (40.0, 1.0, np.exp(-40.0), -np.exp(-40.0))]
    for p, q, value, derivative in cases:
        got_value, got_derivative = K.scalar_loss(K.LOG, p, q, 0.0)
        # finite, and right to the absolute precision that an objective
        # averaged over O(1) losses can use (softplus(p) - q p cancels)
        assert_allclose(got_value, value, rtol=1e-12, atol=1e-15)
        assert_allclose(got_derivative, derivative, rtol=1e-12, atol=1e-15)


def test_log_loss_at_zero():
    # log(2) whatever the target, derivative 1/2 - q
    for q in (0.0, 0.3, 1.0):
        value, derivative = K.scalar_loss(K.LOG, 0.0, q, 0.0)
        assert_allclose(value, np.log(2.0), rtol=1e-15)
        assert_allclose(derivative, 0.5 - q, rtol=1e-15)


# ---------------------------------------------------------------------------
# multinomial (softmax cross-entropy with probability targets)
# ---------------------------------------------------------------------------


def _multinomial(P, Q):
    values, grads = [], []
    for p, q in zip(P, Q):
        dloss = np.full(p.shape[0], np.nan)
        values.append(K.row_loss(K.MULTINOMIAL, p.copy(), q.copy(), 0.0, dloss))
        grads.append(dloss)
    return np.array(values), np.array(grads)


def _multinomial_rows(n=30, k=4, seed=5):
    rng = np.random.default_rng(seed)
    P = rng.normal(scale=3.0, size=(n, k))
    Q = rng.dirichlet(np.ones(k), size=n)
    Q[::3] = np.eye(k)[rng.integers(0, k, size=Q[::3].shape[0])]  # hard labels
    return P, Q


def test_multinomial_matches_reference():
    P, Q = _multinomial_rows()
    value, grad = _multinomial(P, Q)
    ref_value, ref_grad = ref.multinomial_loss(P, Q)
    assert_allclose(value, ref_value, rtol=1e-12, atol=1e-13)
    assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-13)


def test_multinomial_gradient_sums_to_zero():
    P, Q = _multinomial_rows(seed=6)
    _, grad = _multinomial(P, Q)
    assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)
    assert np.all(np.abs(grad) > 0)  # not trivially zero


def test_multinomial_finite_differences():
    P, Q = _multinomial_rows(seed=7)
    _, grad = _multinomial(P, Q)
    h = 1e-6
    numerical = np.empty_like(P)
    for c in range(P.shape[1]):
        step = np.zeros(P.shape[1])
        step[c] = h
        plus, _ = _multinomial(P + step, Q)
        minus, _ = _multinomial(P - step, Q)
        numerical[:, c] = (plus - minus) / (2.0 * h)
    assert_allclose(grad, numerical, rtol=1e-6, atol=1e-7)


def test_multinomial_two_classes_is_binary_log_loss():
    # softmax over [0, p] is the sigmoid of p: an independent identity
    rng = np.random.default_rng(8)
    for p, q in zip(rng.normal(scale=4.0, size=20), rng.random(20)):
        dloss = np.zeros(2)
        value = K.row_loss(K.MULTINOMIAL, np.array([0.0, p]), np.array([1 - q, q]),
                           0.0, dloss)
        binary_value, binary_derivative = K.scalar_loss(K.LOG, p, q, 0.0)
        assert_allclose(value, binary_value, rtol=1e-12, atol=1e-14)
        assert_allclose(dloss[1], binary_derivative, rtol=1e-12, atol=1e-14)


def test_multinomial_is_stable_for_large_decisions():
    dloss = np.zeros(3)
    value = K.row_loss(K.MULTINOMIAL, np.array([1000.0, 0.0, -1000.0]),
                       np.array([0.0, 1.0, 0.0]), 0.0, dloss)
    assert_allclose(value, 1000.0, rtol=1e-12)
    assert_allclose(dloss, [1.0, -1.0, 0.0], atol=1e-12)


# ---------------------------------------------------------------------------
# the full batch's gradient kernel (one output: its own loop; several: general)
# ---------------------------------------------------------------------------

def _closed_form_loss(name, P, Y):
    """Loss and derivative by their textbook formulas (per entry)."""
    if name == "squared_error":
        return 0.5 * (P - Y) ** 2, P - Y
    if name == "log_loss":  # Y is the probability of the positive class
        return np.logaddexp(0.0, P) - Y * P, 1.0 / (1.0 + np.exp(-P)) - Y
    z = Y * P  # hinge, threshold 1
    return np.where(z <= 1.0, 1.0 - z, 0.0), np.where(z <= 1.0, -Y, 0.0)


@pytest.mark.parametrize("name", ["squared_error", "log_loss", "hinge"])
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_gradient_matches_numpy(name, k, sparse, dtype):
    """rows_gradient (the full batch's, chunk by chunk) against NumPy's
    ``X.T @ (sw * dloss)``: the one-output loop and the general one."""
    import scipy.sparse as sp

    from skgd._kernels.epoch import rows_gradient

    code = CASES[name][0]
    rng = np.random.default_rng(3)
    n, d = 60, 7
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.6)
    if name == "squared_error":
        Y = rng.normal(size=(n, k))
    elif name == "log_loss":
        Y = rng.integers(0, 2, size=(n, k)).astype(float)
    else:
        Y = rng.choice([-1.0, 1.0], size=(n, k))
    sw = rng.uniform(0.5, 2.0, size=n)
    theta = rng.normal(size=k * (d + 1)) * 0.5
    order = rng.permutation(n)
    start, stop, inv_norm = 5, 50, 1.0 / 45
    X, Y, sw, theta = (a.astype(dtype) for a in (X, Y, sw, theta))
    csr = sp.csr_matrix(X)
    empty_values, empty_index = np.zeros(0, dtype), np.zeros(0, np.uint32)
    if sparse:
        args = (np.zeros((0, 0), dtype), csr.data, csr.indices.astype(np.uint32),
                csr.indptr.astype(np.uint32), True)
    else:
        args = (X, empty_values, empty_index, empty_index, False)
    grad = np.zeros_like(theta)
    total = rows_gradient(*args, Y, sw, order, start, stop, theta, d, code,
                          1.0, inv_norm, grad)

    rows = order[start:stop]
    W = theta.astype(float).reshape(k, d + 1)
    P = X[rows].astype(float) @ W[:, :d].T + W[:, d]
    loss, dloss = _closed_form_loss(name, P, Y[rows].astype(float))
    weighted = sw[rows, None].astype(float) * dloss * inv_norm
    expected = np.hstack([weighted.T @ X[rows].astype(float),
                          weighted.sum(axis=0)[:, None]]).ravel()
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(grad, expected, rtol=tol, atol=tol * np.abs(expected).max())
    assert_allclose(total, np.sum(sw[rows, None] * loss), rtol=tol)


# ---------------------------------------------------------------------------
# the all-zero model's loss (the divergence guard's reference)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name, param", PARAM_CASES)
def test_zero_model_loss_matches_reference(name, param):
    # targets that repeat in runs and alternate (the kernel reuses the
    # last two distinct targets' losses), and fresh ones, with -0.0 and 0.0
    code, _, kind, _ = CASES[name]
    rng = np.random.default_rng(7)
    labels = {MARGIN: [-1.0, 1.0], PROBA: [0.0, 1.0], REAL: [-0.0, 0.0, 2.5]}[kind]
    y = np.r_[rng.choice(labels, 60), rng.normal(size=20) if kind == REAL else
              rng.choice(labels, 20), [labels[0]] * 5, [labels[-1], labels[0]] * 5]
    sw = rng.uniform(0.5, 2.0, size=y.shape[0])
    expected = (np.sum(sw * ref.LOSSES[name](np.zeros_like(y), y, param)[0])
                / np.sum(sw))
    got = epoch_kernels.zero_model_loss(y[:, None], sw, code, param)
    assert_allclose(got, expected, rtol=1e-13)


def test_zero_model_loss_multinomial_is_log_k():
    # the uniform softmax: log(k) whatever the (probability) targets
    Q = np.random.default_rng(8).dirichlet(np.ones(4), size=25)
    sw = np.random.default_rng(9).uniform(0.5, 2.0, size=25)
    assert_allclose(epoch_kernels.zero_model_loss(Q, sw, K.MULTINOMIAL, 0.0), np.log(4.0),
                    rtol=1e-13)
