"""skgd: scikit-learn compatible linear models trained by gradient descent.

:class:`GDClassifier` and :class:`GDRegressor` train with any update rule of
:mod:`skgd.solvers` (SGD, momentum, Nesterov, AdaGrad, RMSprop, Adam) over any
batch mode (``batch_size=1``, ``k`` or ``"full"``), in Numba-compiled kernels,
on dense or sparse data.
"""

from . import schedules, solvers
from ._classifier import GDClassifier
from ._distillation import DistillationClassifier
from ._regressor import GDRegressor
from ._transfer import warm_start_from
from .exceptions import DivergenceError

__version__ = "0.1.0"

__all__ = ["GDClassifier", "GDRegressor", "DistillationClassifier", "warm_start_from",
           "DivergenceError", "solvers", "schedules", "__version__"]
