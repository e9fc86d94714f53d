"""Exceptions raised by skgd."""


class DivergenceError(ValueError, FloatingPointError):
    """Training produced inf or NaN; the estimator was left unchanged.

    A ``ValueError`` (as scikit-learn's SGD raises on overflow) and a
    ``FloatingPointError``, so either ``except`` clause catches it.
    """
