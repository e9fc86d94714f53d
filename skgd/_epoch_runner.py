"""Run one epoch: which kernel, on which outputs, on how many threads.

``BaseGD._train`` decides how many epochs run and what happens when one
diverges; :class:`EpochRunner` runs one. Work goes to threads in two ways,
both giving the same model for any ``n_jobs`` (bit for bit):

- **independent outputs** (one-vs-rest classes, the columns of a 2-D
  regression target; every loss but the multinomial one): each output
  trains on its own slice of the weights and solver state, in a task of its
  own, always, so ``n_jobs`` only decides how many tasks run at once;
- **full batch**: the gradient is summed over a fixed number of row chunks,
  each into its own buffer, then added up in chunk order. The number of
  chunks depends on the data's size only, never on the number of threads.

The kernels release the GIL (``nogil=True``), so plain Python threads run
them in parallel with no extra compilation (no ``parallel=True`` kernels).
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import effective_n_jobs

from ._kernels._config import N_HYPER
from ._kernels.epoch import (full_batch_step, full_batch_step_custom, rows_gradient,
                             run_epoch, run_epoch_custom, zero_model_loss)
from ._kernels.losses import MULTINOMIAL
from ._kernels.sgd1 import run_epoch_sgd1, run_epoch_sgd1_independent
from ._kernels.sparse import run_epoch_sparse, run_epoch_sparse_custom
from ._kernels.updates import SGD as SGD_CODE

# a batch loss this many times the zero model's counts as divergence
BLOWUP_FACTOR = 1e4
# a start whose loss is within this factor of the all-zero model's keeps
# the limit: its batches would have to grow 1e3-fold to reach it
START_MARGIN = 10.0

# full-batch row chunks: enough rows each to dwarf a thread hand-off, few
# enough that their gradient buffers stay small next to X, and at most as
# many as a large machine has cores (a fixed number: results must not
# depend on the thread count)
_MAX_CHUNKS = 32
_MIN_CHUNK_ROWS = 2048
_CHUNK_BUFFER_BYTES = 32 * 2**20


def n_row_chunks(n_rows, n_params, work, itemsize):
    """How many row chunks a full-batch gradient is summed over.

    ``work``: the gradient's multiply-adds per output (``n_rows * d`` dense,
    the non-zeros for CSR); adding the chunks' buffers costs ``n_chunks *
    n_params``, kept below a quarter of it.
    """
    return int(max(1, min(_MAX_CHUNKS, n_rows // _MIN_CHUNK_ROWS,
                          _CHUNK_BUFFER_BYTES // (n_params * itemsize),
                          work // (4 * n_params))))


def _readonly(a):
    # every kernel array argument is C-contiguous and read-only, so that
    # read-only input (memmaps, frozen arrays) or a column slice does not
    # compile another specialisation; a view, so the caller's flags stay
    view = np.ascontiguousarray(a).view()
    view.flags.writeable = False
    return view


class EpochRunner:
    """The kernels' fixed arguments for one ``_train`` call, and its threads.

    Use as a context manager (the thread pool is shut down on exit).
    ``run(progress, order, batch, schedule_code, eta)`` trains ``progress``
    in place for one epoch over rows ``order`` and returns the epoch's
    weighted loss sum, or ``inf`` when it diverged (``progress`` is then to
    be discarded).
    """

    def __init__(self, data, d, k, *, solver, loss_code, loss_param, l2, l1,
                 fit_intercept, power_t, optimal_init, alpha, average_start,
                 mean_sw, theta0, frozen, averaging, n_jobs):
        self.data, self.d, self.k = data, d, k
        self.solver_code = solver._code if solver._code is not None else -1
        self.update = None if solver._code is not None else type(solver).update
        self.custom = solver._code is None
        self.hyper = _hyper_tuple(solver)
        self.loss_code, self.loss_param = loss_code, float(loss_param)
        self.l2, self.l1 = l2, l1
        self.fit_intercept = fit_intercept
        self.power_t, self.optimal_init, self.alpha = power_t, optimal_init, alpha
        self.average_start, self.mean_sw = average_start, mean_sw
        self.theta0, self.frozen = theta0, frozen
        # plain SGD one row at a time, without L1 or averaging: the fused,
        # weight-scaled loop of scikit-learn's _plain_sgd (dense and CSR);
        # its weight scale shrinks toward 0 only, and it updates every column
        self.fused_sgd = (solver._code == SGD_CODE and l1 == 0.0 and not averaging
                          and theta0.shape[0] == 0 and frozen.shape[0] == 0)
        # CSR input takes the lazy kernel (cost ~ non-zeros per batch), but
        # for averaging, which needs every coordinate at every step
        self.lazy_sparse = data.sparse and not averaging
        self.split = k > 1 and loss_code != MULTINOMIAL
        self.outputs = ([_readonly(data.Y[:, c:c + 1]) for c in range(k)]
                        if self.split else [data.Y])
        # a batch loss 1e4 times that of the all-zero model means the iterates
        # are blowing up: stop the epoch at once, while the "adaptive" retry
        # can still help and before the weights reach 1e100 on the way to inf
        self.limits = [self._loss_limit(Y) for Y in self.outputs]
        self.loss_limit = self._loss_limit(data.Y) if self.split else self.limits[0]
        self.n_threads = effective_n_jobs(n_jobs)
        self._pool = None
        self._groups = None

    def _loss_limit(self, Y):
        reference = zero_model_loss(Y, self.data.sw, self.loss_code, self.loss_param)
        return BLOWUP_FACTOR * reference if reference > 0 else np.inf

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _map(self, task, n_tasks):
        """``[task(i) for i in range(n_tasks)]``, on up to n_jobs threads."""
        if self.n_threads == 1 or n_tasks == 1:
            return [task(i) for i in range(n_tasks)]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.n_threads)
        return list(self._pool.map(task, range(n_tasks)))

    # ---- one epoch --------------------------------------------------------
    def run(self, progress, order, batch, schedule_code, eta):
        # a batch as large as the data: the full-batch path (also when a
        # check re-scores some of its rows, so that it loads no other kernel)
        if not (self.fused_sgd and batch == 1) and batch >= self.data.n_samples:
            return self._full_batch(progress, order, schedule_code, eta)
        if self.split and self.fused_sgd and batch == 1:
            return self._independent_sgd1(progress, order, schedule_code, eta)
        if not self.split:
            return self._kernel(progress.theta, progress.state, progress.avg,
                                progress.counters, self.outputs[0], self.limits[0],
                                self.theta0, order, batch, schedule_code, eta)
        size = self.d + 1
        counters = np.repeat(progress.counters[None], self.k, axis=0)

        def output(c):
            rows = slice(c * size, (c + 1) * size)
            return self._kernel(progress.theta[rows], progress.state[rows],
                                progress.avg[rows], counters[c], self.outputs[c],
                                self.limits[c], self.theta0[rows], order, batch,
                                schedule_code, eta)

        losses = self._map(output, self.k)
        # every output made the same steps, unless one stopped on divergence:
        # keep the fewest, which tells _train whether its first batch blew up
        progress.counters[:] = counters[np.argmin(counters[:, 0])]
        return float(sum(losses))

    def _output_groups(self):
        """The outputs in up to n_jobs contiguous groups, one a thread: each
        group's first and last output (exclusive), targets and blow-up
        limits."""
        if self._groups is None:
            ranges = np.array_split(np.arange(self.k), min(self.n_threads, self.k))
            self._groups = [(int(r[0]), int(r[-1]) + 1,
                             _readonly(self.data.Y[:, r[0]:r[-1] + 1]),
                             np.array(self.limits[r[0]:r[-1] + 1], dtype=np.float64))
                            for r in ranges]
        return self._groups

    def _independent_sgd1(self, progress, order, schedule_code, eta):
        """Plain SGD one row at a time on independent outputs: each group of
        outputs in one pass over the rows (run_epoch_sgd1_independent), the
        groups in parallel. The per-output losses are summed in output order,
        so neither the model nor its loss depends on n_jobs."""
        data, size = self.data, self.d + 1
        groups = self._output_groups()
        counters = np.repeat(progress.counters[None], len(groups), axis=0)
        totals = np.zeros(self.k)

        def group(g):
            first, stop, Y, limits = groups[g]
            return run_epoch_sgd1_independent(
                data.X, data.data, data.indices, data.indptr, data.sparse, Y, data.sw,
                order, progress.theta[first * size:stop * size], counters[g], self.d,
                stop - first, self.fit_intercept, self.loss_code, self.loss_param,
                self.l2, schedule_code, float(eta), self.power_t, self.optimal_init,
                self.alpha, self.mean_sw, limits, totals[first:stop])

        finished = self._map(group, len(groups))
        # a group that diverged left its counters as they were: keep those,
        # which tells _train whether its first update blew up
        progress.counters[:] = counters[np.argmin(counters[:, 0])]
        if not all(finished):
            return np.inf
        return float(sum(totals.tolist()))

    def _mean_loss(self, theta, rows):
        """The weighted mean loss of ``theta`` on ``rows``."""
        data = self.data
        scratch = np.zeros(theta.shape, theta.dtype)  # the gradient, unused (calloc: lazy pages)
        total = rows_gradient(data.X, data.data, data.indices, data.indptr, data.sparse,
                              data.Y, data.sw, rows, 0, rows.shape[0], theta, self.d,
                              self.loss_code, self.loss_param, 1.0, scratch)
        return total / (self.mean_sw * rows.shape[0])

    def loss_is_sound(self, theta, rows):
        """Whether the weighted mean loss of ``theta`` on ``rows`` is finite
        and below the blow-up limit (the check of a call's last update)."""
        mean_loss = self._mean_loss(theta, rows)
        return bool(mean_loss <= self.loss_limit and mean_loss < np.inf)

    def allow_start(self, theta, rows):
        """Raise the blow-up limits to ``BLOWUP_FACTOR`` times the mean loss
        of ``theta`` (where training started) on ``rows``, if that loss is
        more than ``START_MARGIN`` times the all-zero model's; whether it
        was. Asked only once a call seems to diverge: a start near the
        all-zero model (a fresh fit) never is, and a pass over the rows up
        front would cost every call."""
        limit = BLOWUP_FACTOR * self._mean_loss(theta, rows)
        if not limit > START_MARGIN * self.loss_limit:
            return False  # (also when the start's loss is NaN)
        self.limits = [max(other, limit) for other in self.limits]
        self.loss_limit = max(self.loss_limit, limit)
        return True

    def _kernel(self, theta, state, avg, counters, Y, loss_limit, theta0, order, batch,
                schedule_code, eta):
        """One epoch of the outputs in ``theta`` (all of them, or one's slice)."""
        data, d, k = self.data, self.d, Y.shape[1]
        common = (d, k, self.fit_intercept, self.loss_code, self.loss_param, self.l2)
        schedule = (schedule_code, float(eta), self.power_t, self.optimal_init,
                    self.alpha)
        if self.fused_sgd and batch == 1:
            return run_epoch_sgd1(data.X, data.data, data.indices, data.indptr,
                                  data.sparse, Y, data.sw, order, theta, counters,
                                  *common, *schedule, self.mean_sw, loss_limit)
        if self.lazy_sparse:
            kernel = run_epoch_sparse_custom if self.custom else run_epoch_sparse
            return kernel(self.update, data.data, data.indices, data.indptr, Y, data.sw,
                          order, batch, theta, state, counters, *common, self.l1,
                          self.solver_code, self.hyper, *schedule, self.mean_sw,
                          loss_limit, theta0, self.frozen)
        kernel = run_epoch_custom if self.custom else run_epoch
        return kernel(self.update, data.X, data.data, data.indices, data.indptr,
                      data.sparse, Y, data.sw, order, batch, theta, state, avg,
                      counters, *common, self.l1, self.solver_code, self.hyper,
                      *schedule, self.average_start, self.mean_sw, loss_limit, theta0,
                      self.frozen)

    def _full_batch(self, progress, order, schedule_code, eta):
        """One step on the gradient of all of ``order``'s rows, summed over
        row chunks on up to n_jobs threads."""
        data, theta = self.data, progress.theta
        n, n_params = order.shape[0], theta.shape[0]
        work = data.data.shape[0] if data.sparse else n * self.d
        n_chunks = n_row_chunks(n, n_params, max(work, 1), theta.itemsize)
        bounds = [n * i // n_chunks for i in range(n_chunks + 1)]
        grads = np.zeros((n_chunks, n_params), dtype=theta.dtype)
        inv_norm = 1.0 / (self.mean_sw * n)

        def chunk(i):
            return rows_gradient(data.X, data.data, data.indices, data.indptr,
                                 data.sparse, data.Y, data.sw, order, bounds[i],
                                 bounds[i + 1], theta, self.d, self.loss_code,
                                 self.loss_param, inv_norm, grads[i])

        total = float(sum(self._map(chunk, n_chunks)))  # chunk order: deterministic
        mean_loss = total * inv_norm
        if not (mean_loss <= self.loss_limit and mean_loss < np.inf):
            return np.inf
        grad = grads[0] if n_chunks == 1 else grads.sum(axis=0)
        step = full_batch_step_custom if self.custom else full_batch_step
        step(self.update, theta, grad, progress.state, progress.avg, progress.counters,
             self.d, self.k, self.fit_intercept, self.l2, self.l1, self.solver_code,
             self.hyper, schedule_code, float(eta), self.power_t, self.optimal_init,
             self.alpha, self.average_start, n, self.theta0, self.frozen)
        return total


def _hyper_tuple(solver):
    values = [float(v) for v in np.asarray(solver.hyper(), dtype=np.float64).ravel()]
    if len(values) > N_HYPER:
        raise ValueError(
            f"{type(solver).__name__}.hyper() returned {len(values)} values; "
            f"the kernels take at most {N_HYPER}."
        )
    return tuple(values + [0.0] * (N_HYPER - len(values)))
