"""n_jobs: threads change the speed, never the model.

Independent outputs (one-vs-rest classes, 2-D regression targets) train as
separate tasks, and a full batch's gradient is summed over a fixed number of
row chunks (see skgd/_epoch_runner.py); both are checked here against an
independent computation, and the model against itself across n_jobs.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor
from skgd._epoch_runner import n_row_chunks

# enough rows for several full-batch chunks (2,048 rows at least each)
N_BIG = 10_000


def _classification(n, n_classes=3, seed=0):
    X, y = make_classification(n_samples=n, n_features=8, n_informative=5,
                               n_redundant=0, n_classes=n_classes, random_state=seed)
    return StandardScaler().fit_transform(X), y


def _regression(n, n_targets=1, seed=0):
    X, Y = make_regression(n_samples=n, n_features=8, n_targets=n_targets, noise=1.0,
                           random_state=seed)
    return StandardScaler().fit_transform(X), Y / np.std(Y, axis=0)


def _fitted(Estimator, X, y, **params):
    params = dict(dict(max_iter=3, tol=None, random_state=0), **params)
    return Estimator(**params).fit(X, y)


def _same_model(a, b):
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    assert a.t_ == b.t_ and a.loss_curve_ == b.loss_curve_


CASES = {
    "one-vs-rest hinge": (GDClassifier, lambda n: _classification(n),
                          dict(loss="hinge")),
    "multinomial": (GDClassifier, lambda n: _classification(n), dict(loss="log_loss")),
    "binary": (GDClassifier, lambda n: _classification(n, n_classes=2),
               dict(loss="log_loss")),
    "2-D regression": (GDRegressor, lambda n: _regression(n, n_targets=3), {}),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("batch_size, solver", [(1, "sgd"), (7, "adam"),
                                                ("full", "momentum")])
def test_the_model_is_the_same_for_any_n_jobs(case, batch_size, solver):
    Estimator, make, params = CASES[case]
    n = N_BIG if batch_size == "full" else 600  # several chunks at full batch
    X, y = make(n)
    params = dict(params, solver=solver, batch_size=batch_size)
    serial = _fitted(Estimator, X, y, n_jobs=None, **params)
    for n_jobs in (2, 3, -1):
        _same_model(serial, _fitted(Estimator, X, y, n_jobs=n_jobs, **params))


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_sparse_and_streaming_calls_are_the_same_for_any_n_jobs(layout):
    X, y = _classification(600, n_classes=4)
    X[np.abs(X) < 0.7] = 0.0
    X = sp.csr_matrix(X) if layout == "csr" else X
    models = []
    for n_jobs in (1, 2):
        est = GDClassifier(loss="modified_huber", solver="rmsprop", batch_size=16,
                           random_state=0, n_jobs=n_jobs)
        for chunk in np.array_split(np.arange(600), 3):
            est.partial_fit(X[chunk], y[chunk], classes=np.unique(y))
        models.append(est)
    _same_model(*models)


@pytest.mark.parametrize("batch_size", [1, 5])
@pytest.mark.parametrize("solver", ["sgd", "adagrad"])
def test_one_vs_rest_classes_train_as_separate_binary_problems(batch_size, solver):
    # the independent truth for the per-output split: class c's weights are
    # those of a binary model of "c or not", trained on its own
    X, y = _classification(300, n_classes=3)
    params = dict(loss="hinge", solver=solver, batch_size=batch_size, alpha=1e-3,
                  learning_rate="constant", eta0=0.01)
    joint = _fitted(GDClassifier, X, y, n_jobs=2, **params)
    # plain SGD one row at a time trains all classes in one pass over the rows
    # (skgd._kernels.sgd1.run_epoch_sgd1_independent), a loop compiled apart
    # from the binary one: equal to rounding there, bit for bit elsewhere
    fused = solver == "sgd" and batch_size == 1
    rtol, atol = (1e-12, 1e-14) if fused else (0.0, 0.0)
    for c, label in enumerate(joint.classes_):
        alone = _fitted(GDClassifier, X, (y == label).astype(int), **params)
        np.testing.assert_allclose(joint.coef_[c], alone.coef_[0], rtol=rtol, atol=atol)
        np.testing.assert_allclose(joint.intercept_[c], alone.intercept_[0], rtol=rtol,
                                   atol=atol)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("loss", ["hinge", "modified_huber"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_pass_one_vs_rest_is_the_same_for_any_grouping(layout, loss, dtype):
    # 5 classes over 1, 2, 3 and 5 threads: groups of 5; 3+2; 2+2+1; 1 each
    X, y = _classification(400, n_classes=5)
    X = X.astype(dtype)
    X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X)) if layout == "csr" else X
    # a constant rate: "adaptive" reacts to the summed objective of all classes
    params = dict(loss=loss, solver="sgd", batch_size=1, alpha=1e-3,
                  learning_rate="constant", eta0=0.01)
    serial = _fitted(GDClassifier, X, y, n_jobs=1, **params)
    for n_jobs in (2, 3, 5):
        _same_model(serial, _fitted(GDClassifier, X, y, n_jobs=n_jobs, **params))
    # and each class is (to rounding) its own binary problem
    for c, label in enumerate(serial.classes_):
        alone = _fitted(GDClassifier, X, (y == label).astype(int), **params)
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(serial.coef_[c], alone.coef_[0], rtol=rtol,
                                   atol=rtol / 100)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_chunked_full_batch_step_is_the_exact_gradient_step(layout, n_jobs):
    # one full-batch SGD step of ridge regression from w = 0.1, b = 0.2,
    # against the closed-form gradient of the mean squared error (NumPy)
    X, y = _regression(N_BIG)
    assert n_row_chunks(N_BIG, 9, N_BIG * 8, 8) > 1  # really chunked
    lr, alpha = 0.05, 0.01
    w0, b0 = np.full(8, 0.1), 0.2
    est = GDRegressor(solver="sgd", batch_size="full", learning_rate="constant",
                      eta0=lr, alpha=alpha, max_iter=1, tol=None, shuffle=False,
                      n_jobs=n_jobs)
    est.fit(sp.csr_matrix(X) if layout == "csr" else X, y, coef_init=w0,
            intercept_init=b0)
    residual = X @ w0 + b0 - y  # d/dp of (p - y)^2 / 2
    w1 = w0 - lr * (X.T @ residual / N_BIG + alpha * w0)
    b1 = b0 - lr * residual.mean()
    np.testing.assert_allclose(est.coef_, w1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(est.intercept_, [b1], rtol=1e-12, atol=1e-14)


def test_the_number_of_chunks_depends_on_the_data_only():
    assert n_row_chunks(100, 11, 1000, 8) == 1  # too few rows to split
    assert n_row_chunks(200_000, 101, 200_000 * 100, 8) == 32
    assert n_row_chunks(200_000, 101, 200_000 * 100, 4) == 32
    # wide sparse data: the chunks' gradient buffers stay within 32 MiB and
    # adding them up stays small next to the non-zeros
    assert n_row_chunks(200_000, 2**22 + 1, 10**7, 8) == 1
    assert n_row_chunks(200_000, 2**18 + 1, 10**7, 8) == 9
