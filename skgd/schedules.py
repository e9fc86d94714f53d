"""Learning-rate schedules: ``eta`` as a function of the update count ``t``.

Pass a name or an object as ``learning_rate``. Within an epoch the kernels
evaluate one of three formulas per update (``t`` counts updates, 1-based, and
persists across ``partial_fit`` calls as the estimator's ``t_``):

=============  ============================================================
``constant``   :math:`\\eta_t = \\eta_0`
``optimal``    :math:`\\eta_t = 1 / (\\alpha (t_0 + t - 1))`, ``t_0`` from
               Bottou's heuristic, exactly as scikit-learn's ``SGDClassifier``
``invscaling`` :math:`\\eta_t = \\eta_0 / t^{power\\_t}`
=============  ============================================================

Two schedules change the base rate between epochs instead:

``adaptive``     keep :math:`\\eta_0` while the objective (or the validation
                 score with ``early_stopping``) improves by at least ``tol``;
                 after ``n_iter_no_change`` epochs without improvement,
                 divide it by 5; stop once it falls below 1e-6 (as
                 scikit-learn's ``"adaptive"``, like PyTorch's
                 ``ReduceLROnPlateau``). An epoch that diverges is undone and
                 retried at the divided rate.
``exponential``  :math:`\\eta = \\eta_0 \\gamma^{e}` during epoch ``e``
                 (0-based, counted across ``partial_fit`` calls), as
                 PyTorch's ``ExponentialLR``; ``gamma=0.99`` for the name.
"""

from numbers import Real

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from ._kernels.epoch import CONSTANT as _CONSTANT
from ._kernels.epoch import INVSCALING as _INVSCALING
from ._kernels.epoch import OPTIMAL as _OPTIMAL


class BaseSchedule(BaseEstimator):
    """A learning-rate schedule (a parameter object, cloneable)."""

    _code = _CONSTANT
    _parameter_constraints: dict = {}
    # undo a diverged epoch and retry it at on_plateau(eta)?
    backtracks = False

    def power(self):
        """Exponent of the ``invscaling`` formula (unused by the others)."""
        return 0.0

    def epoch_eta(self, eta0, epoch):
        """Base rate for epoch ``epoch`` (0-based)."""
        return eta0

    def on_plateau(self, eta):
        """New base rate after a plateau, or ``None`` to stop training."""
        return None


class Constant(BaseSchedule):
    """:math:`\\eta_t = \\eta_0`."""


class Optimal(BaseSchedule):
    """:math:`\\eta_t = 1 / (\\alpha (t_0 + t - 1))` (needs ``alpha > 0``)."""

    _code = _OPTIMAL


class InvScaling(BaseSchedule):
    """:math:`\\eta_t = \\eta_0 / t^{power\\_t}`."""

    _code = _INVSCALING
    _parameter_constraints = {"power_t": [Interval(Real, None, None, closed="neither")]}

    def __init__(self, power_t=0.25):
        self.power_t = power_t

    def power(self):
        return float(self.power_t)


class Adaptive(BaseSchedule):
    """Constant until a plateau, then :math:`\\eta \\leftarrow \\eta \\cdot factor`.

    An epoch that diverges (inf / NaN) is undone and retried at the reduced
    rate, so a too-large ``eta0`` costs a few epochs instead of an error;
    training fails only once the rate falls below ``min_eta``.
    """

    backtracks = True

    _parameter_constraints = {
        "factor": [Interval(Real, 0, 1, closed="neither")],
        "min_eta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, factor=0.2, min_eta=1e-6):
        self.factor = factor
        self.min_eta = min_eta

    def on_plateau(self, eta):
        eta = eta * self.factor
        return eta if eta >= self.min_eta else None


class Exponential(BaseSchedule):
    """:math:`\\eta = \\eta_0 \\gamma^{epoch}`."""

    _parameter_constraints = {"gamma": [Interval(Real, 0, 1, closed="right")]}

    def __init__(self, gamma=0.99):
        self.gamma = gamma

    def epoch_eta(self, eta0, epoch):
        return eta0 * self.gamma**epoch


SCHEDULES = {
    "constant": Constant,
    "optimal": Optimal,
    "invscaling": InvScaling,
    "adaptive": Adaptive,
    "exponential": Exponential,
}


def get_schedule(learning_rate, power_t):
    """A schedule object from a name (``power_t`` feeds ``invscaling``)."""
    if isinstance(learning_rate, str):
        if learning_rate == "invscaling":
            return InvScaling(power_t=power_t)
        return SCHEDULES[learning_rate]()
    return learning_rate


__all__ = ["BaseSchedule", "Constant", "Optimal", "InvScaling", "Adaptive",
           "Exponential", "SCHEDULES"]
