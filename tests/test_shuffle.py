"""The epoch's row order (skgd/_kernels/shuffle.py): a uniform permutation,
decided by ``random_state`` alone."""

import itertools

import numpy as np
import pytest
from scipy import stats

from skgd import GDRegressor
from skgd._kernels.shuffle import epoch_orders, shuffle_rows


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
def test_shuffle_is_a_permutation(n):
    order = np.arange(n, dtype=np.int64)
    shuffle_rows(order, 12345)
    assert np.array_equal(np.sort(order), np.arange(n))
    if n > 2:
        assert not np.array_equal(order, np.arange(n))


def _shuffled(n, seeds):
    """The order of ``arange(n)`` shuffled once from each seed."""
    for seed in seeds:
        order = np.arange(n, dtype=np.int64)
        shuffle_rows(order, seed)
        yield order


def test_every_order_is_equally_likely():
    # all 4! orders of 4 rows, 48,000 shuffles: a chi-square test of
    # uniformity. Sattolo's variant (partner j in [0, i), not [0, i]) never
    # leaves a row in place, and fails it (checked by mutation)
    seeds = np.random.RandomState(0).randint(2**62, size=48_000)
    index = {p: i for i, p in enumerate(itertools.permutations(range(4)))}
    counts = np.bincount([index[tuple(order)] for order in _shuffled(4, seeds)],
                         minlength=len(index))
    assert stats.chisquare(counts).pvalue > 1e-4


def test_each_row_lands_anywhere_uniformly():
    # on 50 rows, where row 0 ends up over 20,000 shuffles
    seeds = np.random.RandomState(1).randint(2**62, size=20_000)
    positions = np.bincount([int(np.flatnonzero(order == 0)[0])
                             for order in _shuffled(50, seeds)], minlength=50)
    assert stats.chisquare(positions).pvalue > 1e-4


def test_orders_follow_random_state_only():
    def first_orders(seed, shuffle=True):
        orders = epoch_orders(100, shuffle, np.random.RandomState(seed))
        return [next(orders).copy() for _ in range(3)]

    a, b, c = first_orders(0), first_orders(0), first_orders(1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], a[1])  # a new order each epoch
    assert all(np.array_equal(x, np.arange(100)) for x in first_orders(0, shuffle=False))


def test_random_state_decides_the_fit():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    y = X @ rng.randn(5) + 0.1 * rng.randn(200)
    fit = lambda seed: GDRegressor(solver="sgd", batch_size=1, max_iter=3, tol=None,  # noqa: E731
                                   random_state=seed).fit(X, y).coef_
    assert np.array_equal(fit(3), fit(3))
    assert not np.array_equal(fit(3), fit(4))
