"""Loss registry: public names -> kernel codes, and their parameters."""

from ._kernels import losses as _k

# name -> (kernel code, where the loss parameter comes from)
# the parameter is a fixed threshold or the estimator's ``epsilon``
CLASSIFICATION_LOSSES = {
    "log_loss": (_k.LOG, 0.0),
    "hinge": (_k.HINGE, 1.0),
    "squared_hinge": (_k.SQUARED_HINGE, 1.0),
    "modified_huber": (_k.MODIFIED_HUBER, 0.0),
    "perceptron": (_k.PERCEPTRON, 0.0),
}
REGRESSION_LOSSES = {
    "squared_error": (_k.SQUARED_ERROR, None),
    "huber": (_k.HUBER, "epsilon"),
    "epsilon_insensitive": (_k.EPSILON_INSENSITIVE, "epsilon"),
    "squared_epsilon_insensitive": (_k.SQUARED_EPSILON_INSENSITIVE, "epsilon"),
}
MARGIN_CODES = frozenset({_k.HINGE, _k.SQUARED_HINGE, _k.MODIFIED_HUBER, _k.PERCEPTRON})


def loss_derivative(code, p, y, param):
    """d loss / d p of one output (used to set up the "optimal" schedule)."""
    return _k.scalar_loss(code, float(p), float(y), float(param))[1]

# Losses whose derivative grows with the error, with a bound on
# d^2 loss / d p^2: plain SGD on them diverges when a step exceeds ~2 / L.
# The other losses have bounded derivatives: a large step oscillates but
# cannot overflow, so "auto" steps for them need no data-dependent bound.
UNBOUNDED_CURVATURE = {
    _k.SQUARED_HINGE: 2.0,
    _k.SQUARED_ERROR: 1.0,
    _k.SQUARED_EPSILON_INSENSITIVE: 2.0,
}
# "auto" step of plain SGD for bounded-derivative losses. An empirical
# choice: it trains both standardised data and the raw, std-20 blobs of
# scikit-learn's check_class_weight_classifiers; 1 / L_max was ~50 times too
# timid there, and Bottou's alpha^(-1/4) (scikit-learn's "optimal" start,
# 10 for alpha = 1e-4) too noisy for mini-batches.
BOUNDED_LOSS_STEP = 0.3
