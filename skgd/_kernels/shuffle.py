"""The epoch's row order: an in-place Fisher-Yates shuffle.

``RandomState.permutation(n)`` allocates a new array and draws from the
Mersenne Twister each epoch: 3.4 ms for 200,000 rows, a tenth of a
batch_size=1 SGD epoch on dense 200,000 x 100 (0.03 s). Here one seed is
drawn from the estimator's ``random_state`` per epoch (so ``random_state``
still decides every order, and the same seed gives the same fit), and a
SplitMix64 stream shuffles a buffer kept across epochs, in ~0.5 ms.
"""

import numpy as np
from numba import uint64

from ._config import NJIT
from ._jit import njit  # numba.njit, its cache loading leaner

# SplitMix64 (Steele, Lea & Flood 2014), the seeding generator of xoshiro:
# full period 2**64 and passes BigCrush, more than a row order needs
_GOLDEN = uint64(0x9E3779B97F4A7C15)
_MIX_1 = uint64(0xBF58476D1CE4E5B9)
_MIX_2 = uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0 ** -53


@njit(**NJIT)
def shuffle_rows(order, seed):
    """Permute ``order`` (int64) in place, uniformly, from a 63-bit ``seed``.

    A swap partner is ``floor(u * (i + 1))`` for ``u`` uniform on [0, 1)
    with 53 random bits: biased by less than ``n / 2**53`` (about 1e-10 at
    a million rows), far below what any row order could show.
    """
    state = uint64(seed)
    for i in range(order.shape[0] - 1, 0, -1):
        state += _GOLDEN
        z = state
        z = (z ^ (z >> uint64(30))) * _MIX_1
        z = (z ^ (z >> uint64(27))) * _MIX_2
        z = z ^ (z >> uint64(31))
        # u * (i + 1) rounds below i + 1 for every u < 1; min() keeps the
        # write in bounds whatever the compiler does with the product
        j = min(int((z >> uint64(11)) * _TO_UNIT * (i + 1)), i)
        order[i], order[j] = order[j], order[i]


def epoch_orders(n, shuffle, rng):
    """The row order of each epoch: ``arange(n)``, or shuffled from ``rng``
    (a ``RandomState``). One buffer serves every epoch: each order is used
    only while its epoch runs."""
    order = np.arange(n, dtype=np.int64)
    while True:
        if shuffle:
            shuffle_rows(order, rng.randint(np.iinfo(np.int64).max))
        yield order
