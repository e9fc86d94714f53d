"""Faults, divergence, determinism, persistence and memory.

* Atomicity: an exception anywhere inside fit / partial_fit (injected into the
  kernel, into the commit, or raised by divergence) leaves a fitted model
  exactly as it was, down to the solver state.
* Divergence is caught in the epoch it happens, with an error that names the
  epoch; the "adaptive" schedule and the adaptive solvers never give NaN on
  standardised data.
* The same data and ``random_state`` give bit-identical models, whatever the
  thread count.
* Pickle and clone round trips, custom solvers included, change nothing; a
  model pickled mid-stream resumes partial_fit exactly.
* The kernel trains on the caller's X, not a copy, when X is already usable.
"""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

import skgd._epoch_runner
from skgd import DivergenceError, GDClassifier, GDRegressor
from skgd.solvers import SOLVERS, BaseSolver

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [GDClassifier, GDRegressor]
ADAPTIVE_SOLVERS = ["adagrad", "rmsprop", "adam"]


@njit
def _heavy_ball_update(theta, grad, state, i, hyper, t, lr):
    state[i, 0] = hyper[0] * state[i, 0] + grad[i]
    theta[i] -= lr * state[i, 0]
    return 1.0


class HeavyBall(BaseSolver):
    """A user's solver, defined at module level so that pickle finds it."""

    n_slots = 1
    update = staticmethod(_heavy_ball_update)

    def __init__(self, momentum=0.5):
        self.momentum = momentum

    def hyper(self):
        return np.array([self.momentum], dtype=np.float64)


def _data(Estimator, n=120, d=5, seed=0):
    if Estimator is GDClassifier:
        X, y = make_classification(n_samples=n, n_features=d, n_informative=3,
                                   n_redundant=0, n_classes=3, random_state=seed)
    else:
        X, y = make_regression(n_samples=n, n_features=d, noise=1.0, random_state=seed)
        y = (y - y.mean()) / y.std()
    return StandardScaler().fit_transform(X), y


def _start(Estimator, X, y, **params):
    """A fitted model to damage."""
    params = {"max_iter": 3, "tol": None, "random_state": 0, "batch_size": 16,
              **params}
    return Estimator(**params).fit(X, y)


def _canonical(value):
    """A comparable, exact form of an attribute: arrays as bytes, solver and
    schedule objects by their parameters, dataclasses by their fields."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (np.floating, float)):
        return ("float", float(value).hex())
    if isinstance(value, np.random.RandomState):
        return ("rng", _canonical(list(value.get_state())))
    if hasattr(value, "get_params"):
        return (type(value).__name__, _canonical(value.get_params(deep=False)))
    if hasattr(value, "__dataclass_fields__"):
        return (type(value).__name__, _canonical(vars(value)))
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _snapshot(est):
    """Everything the estimator holds: arrays, solver state, t_, classes_ ..."""
    return _canonical(vars(est))


def _assert_unchanged(est, snapshot, objects):
    assert _snapshot(est) == snapshot
    for name, value in objects.items():  # not even replaced by an equal copy
        assert getattr(est, name) is value


class Injected(RuntimeError):
    pass


def _wrap_kernels(monkeypatch, wrapper):
    """Route every kernel an epoch calls (dense, sparse, custom-solver twins:
    any ``run_epoch*``, and the full batch's ``rows_gradient`` and
    ``full_batch_step*``) through ``wrapper(real_kernel, *args)``."""
    module = skgd._epoch_runner
    names = [name for name in vars(module)
             if name.startswith(("run_epoch", "rows_gradient", "full_batch_step"))]
    assert {"run_epoch", "rows_gradient", "full_batch_step"} <= set(names)
    for name in names:
        real = getattr(module, name)
        monkeypatch.setattr(module, name,
                            lambda *args, _real=real: wrapper(_real, *args))


def _sabotage(monkeypatch, fail_on_call, exc=Injected):
    """Make the epoch kernels fail on their ``fail_on_call``-th call, after it
    has run and scribbled NaN over every writable array it was given, as a
    crash in the middle of an epoch could."""
    calls = []

    def kernel(real, *args):
        calls.append(1)
        result = real(*args)
        if len(calls) == fail_on_call:
            for a in args:
                if isinstance(a, np.ndarray) and a.flags.writeable and a.size:
                    a.fill(np.nan if a.dtype.kind == "f" else -1)
            raise exc("injected fault")
        return result

    _wrap_kernels(monkeypatch, kernel)
    return calls


# ---- atomicity -----------------------------------------------------------
SCENARIOS = {
    "partial_fit": lambda est, X, y: est.partial_fit(X, y),
    "warm-started fit": lambda est, X, y: est.set_params(warm_start=True).fit(X, y),
    "refit": lambda est, X, y: est.fit(X, y),
    "refit with early stopping":
        lambda est, X, y: est.set_params(early_stopping=True).fit(X, y),
    "refit with coef_init": lambda est, X, y: est.fit(X, y, coef_init=est.coef_),
    "averaged partial_fit": lambda est, X, y: est.set_params(average=True).partial_fit(X, y),
}


# (scenario, which kernel call fails): a partial_fit is one call; fits run 3
FAULTS = [("partial_fit", 1), ("averaged partial_fit", 1), ("warm-started fit", 1),
          ("warm-started fit", 3), ("refit", 2), ("refit with early stopping", 2),
          ("refit with coef_init", 3)]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("scenario, fail_on_call", FAULTS)
@pytest.mark.parametrize("exc", [Injected, KeyboardInterrupt, MemoryError])
def test_a_fault_in_the_kernel_leaves_the_model_as_it_was(Estimator, scenario,
                                                          fail_on_call, exc,
                                                          monkeypatch):
    X, y = _data(Estimator)
    est = _start(Estimator, X, y)
    before = _snapshot(est)
    objects = {name: getattr(est, name) for name in ("coef_", "intercept_", "_progress")}
    calls = _sabotage(monkeypatch, fail_on_call, exc)
    with pytest.raises(exc, match="injected"):
        SCENARIOS[scenario](est, X, y)
    assert len(calls) == fail_on_call
    # set_params was the user's change, not the failed call's
    est.set_params(warm_start=False, early_stopping=False, average=False)
    _assert_unchanged(est, before, objects)
    # and the model still trains
    monkeypatch.undo()
    est.partial_fit(X, y)
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_fault_in_a_later_partial_fit_keeps_the_earlier_ones(Estimator, monkeypatch):
    X, y = _data(Estimator)
    est = _start(Estimator, X, y)
    est.partial_fit(X[:60], y[:60])
    before = _snapshot(est)
    objects = {name: getattr(est, name) for name in ("coef_", "intercept_", "_progress")}
    _sabotage(monkeypatch, 1)
    with pytest.raises(Injected):
        est.partial_fit(X[60:], y[60:])
    _assert_unchanged(est, before, objects)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_fault_in_a_custom_solver_kernel_leaves_the_model_as_it_was(Estimator,
                                                                       monkeypatch):
    X, y = _data(Estimator)
    est = _start(Estimator, X, y, solver=HeavyBall())
    before = _snapshot(est)
    _sabotage(monkeypatch, 1)
    with pytest.raises(Injected):
        est.partial_fit(X, y)
    assert _snapshot(est) == before


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_failed_first_call_leaves_the_model_unfitted(Estimator, method, monkeypatch):
    X, y = _data(Estimator)
    est = Estimator(max_iter=2, tol=None)
    before = _snapshot(est)
    _sabotage(monkeypatch, 1)
    kwargs = {"classes": np.unique(y)} if method == "partial_fit" and Estimator is GDClassifier else {}
    with pytest.raises(Injected):
        getattr(est, method)(X, y, **kwargs)
    assert _snapshot(est) == before
    assert not hasattr(est, "n_features_in_")
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    monkeypatch.undo()
    getattr(est, method)(X, y, **kwargs)  # a later call starts from scratch
    check_is_fitted(est)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_fault_while_committing_the_result_is_rolled_back(Estimator, monkeypatch):
    # _publish runs after _progress, classes_ ... are already replaced
    X, y = _data(Estimator)
    est = _start(Estimator, X, y)
    before = _snapshot(est)

    def broken_publish(self, theta, n_features):
        self.coef_ = np.full_like(self.coef_, np.nan)
        raise Injected("injected while publishing")

    monkeypatch.setattr(Estimator, "_publish", broken_publish)
    with pytest.raises(Injected):
        est.partial_fit(X, y)
    assert _snapshot(est) == before


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fitting_never_writes_to_the_callers_arrays(Estimator):
    X, y = _data(Estimator)
    sw = np.linspace(0.5, 2.0, len(y))
    coef_init = np.zeros((3 if Estimator is GDClassifier else 1, X.shape[1]))
    copies = [a.copy() for a in (X, y, sw, coef_init)]
    est = Estimator(max_iter=3, tol=None, early_stopping=True, average=True)
    est.fit(X, y, sample_weight=sw, coef_init=coef_init)
    est.partial_fit(X, y, sample_weight=sw)
    for a, b in zip((X, y, sw, coef_init), copies):
        np.testing.assert_array_equal(a, b)
        assert a.flags.writeable  # the kernels' read-only views are views


# ---- divergence ------------------------------------------------------------
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_divergence_names_the_epoch_and_leaves_the_model(Estimator, solver):
    X, y = _data(Estimator)
    est = _start(Estimator, X, y, solver=solver, learning_rate="constant", eta0=0.01)
    before = _snapshot(est)
    # unscaled data and a huge constant step: blows up in the first epoch
    est.set_params(eta0=1e6)
    message = r"diverged at epoch {}.*smaller eta0 \(now 1000000.0.*scale the data"
    with pytest.raises(DivergenceError, match=message.format(est.n_iter_ + 1)):
        est.partial_fit(X * 1e3, y)
    est.set_params(eta0=0.01)
    assert _snapshot(est) == before
    est.set_params(eta0=1e6, warm_start=True)
    with pytest.raises(DivergenceError, match=message.format(1)):
        est.fit(X * 1e3, y)
    est.set_params(eta0=0.01, warm_start=False)
    assert _snapshot(est) == before
    # a DivergenceError is both a ValueError and a FloatingPointError
    assert issubclass(DivergenceError, ValueError)
    assert issubclass(DivergenceError, FloatingPointError)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_one_pass_one_vs_rest_divergence_leaves_the_model(n_jobs):
    # plain SGD one row at a time on one-vs-rest classes: every class in one
    # pass over the rows (run_epoch_sgd1_independent), the classes in groups
    X, y = _data(GDClassifier)
    est = _start(GDClassifier, X, y, loss="hinge", solver="sgd", batch_size=1,
                 learning_rate="constant", eta0=0.01, n_jobs=n_jobs)
    before = _snapshot(est)
    est.set_params(eta0=1e6)
    with pytest.raises(DivergenceError, match=f"diverged at epoch {est.n_iter_ + 1}"):
        est.partial_fit(X * 1e3, y)
    est.set_params(eta0=0.01)
    assert _snapshot(est) == before
    # "adaptive" retries the epoch with smaller rates and ends finite
    est.set_params(learning_rate="adaptive", eta0=1e3, warm_start=False, max_iter=5)
    est.fit(X * 1e3, y)
    assert np.all(np.isfinite(est.coef_)) and est.n_iter_ >= 1


def test_adaptive_full_batch_returns_its_best_iterate_not_a_worse_one():
    # a rate above the stable 2 / L: the loss grows for epochs without
    # blowing up, "adaptive" lowers the rate until it gives up, and the
    # last iterate is ~100 times worse than the start. The best iterate
    # (here the start: the intercept at mean(y)) comes back, with a warning
    from sklearn.datasets import load_diabetes
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match="clearly worse than its best epoch"):
        model = GDRegressor(solver="sgd", batch_size="full", eta0=1.0,
                            random_state=0).fit(X, y)
    assert max(model.loss_curve_) > 50 * min(model.loss_curve_)
    start = GDRegressor(max_iter=1, eta0=1e-12, batch_size="full", tol=None,
                        learning_rate="constant").fit(X, y)
    assert model.score(X, y) >= start.score(X, y) - 1e-6


def test_divergence_under_optimal_does_not_suggest_eta0():
    # "optimal" steps 1 / (alpha (t0 + t)) whatever eta0 is
    X, y = _data(GDClassifier)
    with pytest.raises(DivergenceError, match=r"starting model\)\. Use a larger alpha "
                                              "or another learning_rate, or scale"):
        GDClassifier(loss="squared_hinge", penalty=None, solver="sgd", batch_size=1,
                     learning_rate="optimal", max_iter=5, tol=None).fit(X * 1e3, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_divergence_stops_the_epoch_before_anything_overflows(Estimator, solver,
                                                              monkeypatch):
    # caught within the epoch (a batch's loss > 1e4 x the zero model's), so
    # the weights the kernel leaves behind are still far from inf
    X, y = _data(Estimator)
    seen = []

    def kernel(real, *args):
        result = real(*args)
        if real.__name__ != "rows_gradient":  # (scores the start: allow_start)
            seen.append((result, [a.copy() for a in args if isinstance(a, np.ndarray)
                                  and a.flags.writeable and a.dtype.kind == "f"
                                  and a.size]))
        return result

    _wrap_kernels(monkeypatch, kernel)
    with pytest.raises(DivergenceError, match="epoch 1"):
        Estimator(solver=solver, learning_rate="constant", eta0=1e4, batch_size=1,
                  max_iter=5).fit(X * 100, y)
    assert len(seen) == 1  # no second epoch was started
    result, arrays = seen[0]
    assert result == np.inf
    for a in arrays:
        assert np.all(np.isfinite(a)) and np.max(np.abs(a)) < 1e100


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("eta0", ["auto", 10.0, 1e3])
def test_adaptive_schedule_never_gives_nan_on_standardised_data(Estimator, solver,
                                                                eta0):
    X, y = _data(Estimator, n=200)
    for batch_size in (1, "full"):
        est = Estimator(solver=solver, learning_rate="adaptive", eta0=eta0,
                        batch_size=batch_size, max_iter=20, random_state=0)
        est.fit(X, y)
        assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
        assert np.all(np.isfinite(est.loss_curve_))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", ADAPTIVE_SOLVERS)
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "exponential",
                                           "optimal", "adaptive"])
def test_adaptive_solvers_never_give_nan_on_standardised_data(Estimator, solver,
                                                              learning_rate):
    X, y = _data(Estimator, n=200)
    losses = (["log_loss", "hinge", "modified_huber", "squared_hinge"]
              if Estimator is GDClassifier
              else ["squared_error", "huber", "squared_epsilon_insensitive"])
    for loss in losses:
        est = Estimator(loss=loss, solver=solver, learning_rate=learning_rate,
                        batch_size=8, max_iter=10, random_state=0)
        try:
            est.fit(X, y)
        except DivergenceError:
            # "optimal" is SGD's 1 / (alpha t) schedule: ~10 at alpha=1e-4,
            # a step no scale-free rule survives; it may fail, never give NaN
            assert learning_rate == "optimal"
            continue
        assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))


# ---- determinism -------------------------------------------------------------
def _model_bytes(est):
    return (est.coef_.tobytes(), est.intercept_.tobytes(), est.n_iter_, est.t_,
            np.asarray(est.loss_curve_).tobytes())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_same_random_state_gives_bit_identical_models(Estimator, solver):
    X, y = _data(Estimator)
    for extra in ({}, {"early_stopping": True}, {"average": 10, "batch_size": 1}):
        params = {**dict(solver=solver, batch_size=7, shuffle=True, max_iter=15,
                         random_state=42), **extra}
        first = Estimator(**params).fit(X, y)
        second = Estimator(**params).fit(X, y)
        assert _model_bytes(first) == _model_bytes(second)
        if not extra:
            # a fresh RandomState seeded alike is the same stream (with early
            # stopping an int seeds the split and the shuffling separately)
            rs = np.random.RandomState(42)
            third = Estimator(**dict(params, random_state=rs)).fit(X, y)
            assert _model_bytes(third) == _model_bytes(first)
    streamed = [Estimator(**params) for _ in range(2)]
    for est in streamed:
        for start in range(0, len(y), 40):
            est.partial_fit(X[start:start + 40], y[start:start + 40],
                            **({"classes": np.unique(y)} if Estimator is GDClassifier else {}))
    assert _model_bytes(streamed[0]) == _model_bytes(streamed[1])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_blas_thread_count_does_not_change_the_model(Estimator):
    # the kernels run on one thread; BLAS (validation scores with early
    # stopping, the starting step) is the only multi-threaded code
    from threadpoolctl import threadpool_limits

    X, y = _data(Estimator, n=400, d=30)
    params = dict(early_stopping=True, n_iter_no_change=3, max_iter=30, random_state=0)
    default = Estimator(**params).fit(X, y)
    with threadpool_limits(limits=1):
        single = Estimator(**params).fit(X, y)
    assert _model_bytes(single) == _model_bytes(default)


_RUN_IN_SUBPROCESS = textwrap.dedent("""
    import numpy as np
    from sklearn.datasets import make_classification
    from skgd import GDClassifier
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    clf = GDClassifier(solver="{solver}", batch_size=4, max_iter=10, tol=None,
                       early_stopping=True, random_state=7).fit(X, y)
    print(clf.coef_.tobytes().hex() + clf.intercept_.tobytes().hex())
""")


@pytest.mark.parametrize("solver", ["adam"])
def test_bit_identical_across_processes_and_thread_counts(solver):
    outputs = set()
    for threads in ("1", "2"):
        env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
                   MKL_NUM_THREADS=threads, NUMBA_NUM_THREADS=threads)
        run = subprocess.run([sys.executable, "-c", _RUN_IN_SUBPROCESS.format(solver=solver)],
                             capture_output=True, text=True, env=env, check=True)
        outputs.add(run.stdout.strip().splitlines()[-1])
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    here = GDClassifier(solver=solver, batch_size=4, max_iter=10, tol=None,
                        early_stopping=True, random_state=7).fit(X, y)
    outputs.add(here.coef_.tobytes().hex() + here.intercept_.tobytes().hex())
    assert len(outputs) == 1


# ---- pickle and clone --------------------------------------------------------
SOLVER_CASES = [pytest.param("adam", id="adam"), pytest.param("momentum", id="momentum"),
                pytest.param(HeavyBall(momentum=0.7), id="custom")]


def _params(solver, **extra):
    return dict(solver=solver, batch_size=10, max_iter=5, tol=None, random_state=0,
                learning_rate="invscaling", eta0=0.05, **extra)


def _outputs(est, X):
    out = [est.predict(X)]
    if isinstance(est, GDClassifier):
        out += [est.decision_function(X), est.predict_proba(X)]
    return out


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVER_CASES)
def test_pickle_and_clone_of_unfitted_and_fitted_models(Estimator, solver):
    X, y = _data(Estimator)
    unfitted = Estimator(**_params(clone(solver) if not isinstance(solver, str) else solver))
    for copy in (pickle.loads(pickle.dumps(unfitted)), clone(unfitted)):
        assert repr(copy.get_params()) == repr(unfitted.get_params())
        np.testing.assert_array_equal(copy.fit(X, y).coef_,
                                      clone(unfitted).fit(X, y).coef_)
    fitted = clone(unfitted).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    for a, b in zip(_outputs(restored, X), _outputs(fitted, X)):
        np.testing.assert_array_equal(a, b)
    assert restored.score(X, y) == fitted.score(X, y)
    assert _snapshot(restored) == _snapshot(fitted)
    # clone drops the fit, keeps the parameters, and refits to the same model
    cloned = clone(fitted)
    with pytest.raises(NotFittedError):
        cloned.predict(X)
    for a, b in zip(_outputs(cloned.fit(X, y), X), _outputs(fitted, X)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVER_CASES)
@pytest.mark.parametrize("random_state", [0, "RandomState"])
def test_a_model_pickled_mid_stream_resumes_partial_fit_exactly(Estimator, solver,
                                                                random_state):
    X, y = _data(Estimator, n=150)
    rs = np.random.RandomState(3) if random_state == "RandomState" else random_state
    params = _params(clone(solver) if not isinstance(solver, str) else solver,
                     average=20)
    params["random_state"] = rs
    kwargs = {"classes": np.unique(y)} if Estimator is GDClassifier else {}
    chunks = [slice(0, 50), slice(50, 100), slice(100, 150)]
    live = Estimator(**params).partial_fit(X[chunks[0]], y[chunks[0]], **kwargs)
    frozen = pickle.dumps(live)
    for chunk in chunks[1:]:
        live.partial_fit(X[chunk], y[chunk])
    resumed = pickle.loads(frozen)
    for chunk in chunks[1:]:
        resumed.partial_fit(X[chunk], y[chunk])
    assert _snapshot(resumed) == _snapshot(live)
    assert resumed.t_ == live.t_ == 15


# ---- memory: no copy of a usable X -------------------------------------------
def _record_kernel_arrays(monkeypatch):
    seen = []

    def kernel(real, *args):
        if "full_batch_step" not in real.py_func.__name__:  # it never sees X
            seen.append([a for a in args if isinstance(a, np.ndarray)])
        return real(*args)

    _wrap_kernels(monkeypatch, kernel)
    return seen


def _shared(part, arrays):
    return any(np.shares_memory(part, a) for a in arrays)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_the_kernel_trains_on_the_callers_X_without_a_copy(Estimator, dtype, layout,
                                                          method, monkeypatch):
    X, y = _data(Estimator)
    X = X.astype(dtype)
    if layout == "csr":
        X[np.abs(X) < 0.5] = 0
        X = sp.csr_matrix(X)
        parts = [X.data, X.indices, X.indptr]
    else:
        parts = [X]
    seen = _record_kernel_arrays(monkeypatch)
    est = Estimator(max_iter=2, tol=None)
    if method == "partial_fit" and Estimator is GDClassifier:
        est.partial_fit(X, y, classes=np.unique(y))
    else:
        getattr(est, method)(X, y)
    assert seen and est.coef_.dtype == dtype
    for arrays in seen:  # every epoch
        for part in parts:
            assert _shared(part, arrays)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_unusable_layout_is_copied_once(Estimator, monkeypatch):
    # Fortran order and integers are converted (one copy), then trained on as is
    X, y = _data(Estimator)
    seen = _record_kernel_arrays(monkeypatch)
    for Xl in (np.asfortranarray(X), np.round(X * 10).astype(np.int64)):
        seen.clear()
        Estimator(max_iter=2, tol=None).fit(Xl, y)
        assert not any(_shared(Xl, arrays) for arrays in seen)


# ---- streaming: the fixed cost of a partial_fit call ---------------------------
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_a_partial_fit_runs_one_epoch_kernel_and_copies_the_weights_once(
        Estimator, layout, monkeypatch):
    # each call's O(n_features) work is what streaming small chunks into
    # 2**22 hashed features pays: one kernel pass (the check of the last
    # update scores it without re-running the epoch) and one copy of the
    # weights and solver state (the first epoch's undo point is the
    # committed model itself); the L2-SP start point is shared, not copied
    X, y = _data(Estimator)
    X = sp.csr_matrix(X) if layout == "csr" else X
    est = _start(Estimator, X, y, solver="adam", batch_size=16)
    before = est._progress
    seen = []
    _wrap_kernels(monkeypatch, lambda real, *args: seen.append(real) or real(*args))
    copies = []
    real_copy = type(before).copy
    monkeypatch.setattr(type(before), "copy",
                        lambda self: copies.append(1) or real_copy(self))
    est.partial_fit(X, y)
    names = [kernel.py_func.__name__ for kernel in seen]
    assert names.count("_run_epoch_sparse" if layout == "csr" else "_run_epoch") == 1
    assert "rows_gradient" in names  # the last update's check
    assert len(copies) == 1
    assert est._progress.start is before.start and not before.start.flags.writeable
