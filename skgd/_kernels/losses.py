"""Per-row loss values and derivatives with respect to the decision values.

Every loss is addressed by an integer code (see ``skgd._losses`` for the
name -> code registry). Targets are encoded by the estimator before the call:

* ``LOG``: one output, target ``q`` in [0, 1] (the probability of the
  positive class; hard labels are 0/1), loss ``log(1 + e^p) - q p``;
* ``MULTINOMIAL``: ``k`` outputs, target a probability row ``q`` (one-hot for
  hard labels), loss ``logsumexp(p) - q . p``;
* margin losses (hinge, squared hinge, modified Huber, perceptron): targets
  in {-1, +1}, one output per class (one-vs-rest);
* regression losses: real targets, one output per target.

The conventions (``0.5 (p - y)^2`` for squared error, thresholds, the
modified Huber branches) are those of scikit-learn's ``_sgd_fast`` so that
``alpha`` and ``eta0`` transfer from ``SGDClassifier`` / ``SGDRegressor``.
"""

import numpy as np

from ._config import NJIT_INLINE
from ._jit import njit  # numba.njit, its cache loading leaner

LOG = 0
MULTINOMIAL = 1
HINGE = 2
SQUARED_HINGE = 3
MODIFIED_HUBER = 4
PERCEPTRON = 5
SQUARED_ERROR = 6
HUBER = 7
EPSILON_INSENSITIVE = 8
SQUARED_EPSILON_INSENSITIVE = 9


@njit(**NJIT_INLINE)
def _softplus(p):
    # log(1 + e^p) without overflow for large |p|
    if p > 0.0:
        return p + np.log1p(np.exp(-p))
    return np.log1p(np.exp(p))


@njit(**NJIT_INLINE)
def _sigmoid(p):
    if p >= 0.0:
        return 1.0 / (1.0 + np.exp(-p))
    e = np.exp(p)
    return e / (1.0 + e)


@njit(**NJIT_INLINE)
def scalar_loss(code, p, y, param):
    """Loss value and derivative d loss / d p for one output.

    ``param`` is the hinge threshold, the Huber / epsilon-insensitive width,
    or unused.
    """
    if code == LOG:
        return _softplus(p) - y * p, _sigmoid(p) - y
    if code == HINGE or code == PERCEPTRON:
        z = p * y
        if z <= param:
            return param - z, -y
        return 0.0, 0.0
    if code == SQUARED_HINGE:
        z = param - p * y
        if z > 0.0:
            return z * z, -2.0 * y * z
        return 0.0, 0.0
    if code == MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0, 0.0
        if z >= -1.0:
            return (1.0 - z) * (1.0 - z), -2.0 * y * (1.0 - z)
        return -4.0 * z, -4.0 * y
    if code == SQUARED_ERROR:
        r = p - y
        return 0.5 * r * r, r
    if code == HUBER:
        r = p - y
        if abs(r) <= param:
            return 0.5 * r * r, r
        if r > 0.0:
            return param * r - 0.5 * param * param, param
        return -param * r - 0.5 * param * param, -param
    if code == EPSILON_INSENSITIVE:
        r = y - p
        if r > param:
            return r - param, -1.0
        if -r > param:
            return -r - param, 1.0
        return 0.0, 0.0
    if code == SQUARED_EPSILON_INSENSITIVE:
        r = y - p
        if r > param:
            return (r - param) * (r - param), -2.0 * (r - param)
        if -r > param:
            return (-r - param) * (-r - param), 2.0 * (-r - param)
        return 0.0, 0.0
    return np.nan, np.nan


@njit(**NJIT_INLINE)
def row_loss(code, p, y, param, dloss):
    """Loss of one row summed over its ``k`` outputs; writes d loss / d p.

    p, y, dloss: (k,) arrays. For ``MULTINOMIAL`` the outputs are coupled
    through the softmax; for every other loss they are independent.
    """
    k = p.shape[0]
    if code == MULTINOMIAL:
        pmax = p[0]
        for c in range(1, k):
            pmax = max(pmax, p[c])
        total = 0.0
        for c in range(k):
            dloss[c] = np.exp(p[c] - pmax)
            total += dloss[c]
        lse = pmax + np.log(total)
        loss = lse
        for c in range(k):
            dloss[c] = dloss[c] / total - y[c]
            loss -= y[c] * p[c]
        return loss
    loss = 0.0
    for c in range(k):
        value, derivative = scalar_loss(code, p[c], y[c], param)
        loss += value
        dloss[c] = derivative
    return loss
