"""The per-row and per-column helpers the kernels inline leave no reference
counting.

Numba increments and decrements (atomically) the reference count of an
array argument each time an inlined helper binds it, unless its pruning pass
pairs the two away; a helper whose branches used its array arguments
unevenly defeated it, and 13 such pairs a row took 18-20% of a
``batch_size=1`` epoch and 31% of a dense mini-batch one (numba 0.68,
perf). Each helper the kernels call once per row (or per column a batch
touches) is compiled here in a loop once and twice per iteration: every unpaired count is one more ``NRT_incref``
call site per inlined copy, so both must have as many (the loop's own, at
entry, are the same).
"""

import numpy as np
import pytest
from numba import njit

from skgd._kernels import losses, updates
from skgd._kernels._config import NJIT
from skgd._kernels.prefetch import prefetch_csr_row, prefetch_dense_row
from skgd._kernels.sparse import _prefetch_records
from skgd.solvers._adam import adam_skip_shrink
from skgd.solvers._momentum import momentum_skip_shrink
from skgd.solvers._rmsprop import rmsprop_skip_shrink

_UNCACHED = dict(NJIT, cache=False)


def _csr_rows(copies):
    @njit(**_UNCACHED)
    def rows(data, indices, indptr, Y, sw, order):
        total = 0.0
        for pos in range(order.shape[0]):
            prefetch_csr_row(data, indices, indptr, Y, sw, order, pos)
            if copies == 2:
                prefetch_csr_row(data, indices, indptr, Y, sw, order, pos + 1)
            total += sw[order[pos]]
        return total
    return rows


def _dense_rows(copies):
    @njit(**_UNCACHED)
    def rows(X, Y, sw, order):
        total = 0.0
        for pos in range(order.shape[0]):
            prefetch_dense_row(X, Y, sw, order, pos)
            if copies == 2:
                prefetch_dense_row(X, Y, sw, order, pos + 1)
            total += sw[order[pos]]
        return total
    return rows


def _record_rows(copies):
    @njit(**_UNCACHED)
    def rows(theta, last, indices, indptr, order, d):
        total = 0.0
        for pos in range(order.shape[0]):
            _prefetch_records(theta, last, indices, indptr, order, 1, d, pos + 4)
            if copies == 2:
                _prefetch_records(theta, last, indices, indptr, order, 1, d, pos + 5)
            total += theta[order[pos]]
        return total
    return rows


def _loss_rows(copies):
    @njit(**_UNCACHED)
    def rows(code, P, Y, p, dloss):
        total = 0.0
        for r in range(P.shape[0]):
            for c in range(p.shape[0]):
                p[c] = P[r, c]
            total += losses.row_loss(code, p, Y[r], 0.0, dloss)
            if copies == 2:
                total += losses.row_loss(code, p, Y[r], 1.0, dloss)
        return total
    return rows


def _catch_up_columns(copies):
    @njit(**_UNCACHED)
    def columns(theta, state, table, order):
        n = order.shape[0]
        hyper = (0.9, 0.999, 1e-8, 0.0)
        constants = (1.0, 1.0, 1.0, 1.0, 0.0)
        resting = 0
        for q in range(n):
            updates._prefetch_ahead(theta, state, order, q, n, 0, 0)
            resting += updates._at_rest(theta, state, order[q], 0.0)
            adam_skip_shrink(theta, state, order[q], 0.0, hyper, table, 1, 0.1, 0.1, 0.3,
                             constants)
            momentum_skip_shrink(theta, state, order[q], 0.0, hyper, table, 1, 0.1, 0.1,
                                 0.3, constants)
            rmsprop_skip_shrink(theta, state, order[q], 0.0, hyper, table, 1, 0.1, 0.1,
                                0.3, constants)
            if copies == 2:
                updates._prefetch_ahead(theta, state, order, q + 1, n, 0, 0)
                resting += updates._at_rest(theta, state, order[q], 1.0)
                adam_skip_shrink(theta, state, order[q], 1.0, hyper, table, 1, 0.1, 0.1,
                                 0.3, constants)
                momentum_skip_shrink(theta, state, order[q], 1.0, hyper, table, 1, 0.1,
                                     0.1, 0.3, constants)
                rmsprop_skip_shrink(theta, state, order[q], 1.0, hyper, table, 1, 0.1,
                                    0.1, 0.3, constants)
        return resting
    return columns


def _increfs(make_loop, copies, *args):
    loop = make_loop(copies)
    loop(*args)
    return loop.inspect_asm(loop.signatures[0]).count("NRT_incref")


def _assert_no_counting(make_loop, *args):
    assert _increfs(make_loop, 2, *args) == _increfs(make_loop, 1, *args)


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 20))
    X[X < 0.5] = 0.0
    data = X[X != 0.0]
    indices = np.nonzero(X)[1].astype(np.int32)
    indptr = np.concatenate([[0], np.cumsum((X != 0.0).sum(axis=1))]).astype(np.int32)
    Y = rng.normal(size=(40, 3))
    sw = np.ones(40)
    order = rng.permutation(40)
    return X, data, indices, indptr, Y, sw, order


def test_prefetch_helpers_leave_no_reference_counting(rows):
    X, data, indices, indptr, Y, sw, order = rows
    _assert_no_counting(_csr_rows, data, indices, indptr, Y, sw, order)
    _assert_no_counting(_dense_rows, X, Y, sw, order)
    d = X.shape[1]
    _assert_no_counting(_record_rows, np.zeros(d + 1), np.zeros(d, dtype=np.int32),
                        indices, indptr, order, d)


@pytest.mark.parametrize("code", [losses.LOG, losses.MULTINOMIAL, losses.HINGE])
def test_row_loss_leaves_no_reference_counting(rows, code):
    Y = rows[4]
    P = np.random.default_rng(1).normal(size=Y.shape)
    _assert_no_counting(_loss_rows, code, P, Y, np.zeros(3), np.zeros(3))


def test_catch_up_helpers_leave_no_reference_counting(rows):
    order = rows[6]
    n = order.shape[0]
    rng = np.random.default_rng(2)
    _assert_no_counting(_catch_up_columns, rng.normal(size=n),
                        rng.uniform(size=(n, 2)), np.ones((2, 4)), order)
