"""Plain-NumPy oracle for skgd's kernels: update rules, losses, one epoch.

Written from the formulas, not from skgd's code, so that the tests compare two
independent implementations:

* update rules: transcriptions of the pseudo-code documented for PyTorch's
  ``torch.optim`` (SGD with momentum / Nesterov and ``dampening=0``, Adagrad
  with ``lr_decay=0`` and ``initial_accumulator_value=0``, RMSprop with
  ``centered=False`` and ``momentum=0``, Adam / AMSGrad), plus Adamax for the
  custom-solver test;
* losses: the textbook definitions, in the conventions listed in
  ``skgd/_kernels/losses.py`` (``0.5 (p - y)^2``, hinge threshold 1, ...);
* one epoch of mini-batch gradient descent, with the semantics documented in
  ``skgd/_kernels/epoch.py``.

Every update rule is a pure function

    rule(w, g, state, t, lr, **hyper) -> (w_new, state_new, scale)

of arrays of any (equal) shape: ``state`` is a dict of arrays (empty before
the first step), ``t`` the 1-based step count and ``scale`` the effective
per-coordinate multiplier of the step (the reciprocal of the adaptive
denominator; 1 for SGD, the steady-state velocity gain 1 / (1 - mu) for
momentum), which skgd uses to scale the L1 proximal threshold.
"""

import numpy as np
from scipy.special import expit, logsumexp, softmax

# ---------------------------------------------------------------------------
# update rules (torch.optim, documented algorithms)
# ---------------------------------------------------------------------------


def sgd(w, g, state, t, lr):
    """torch.optim.SGD, momentum=0: ``theta <- theta - lr g``."""
    return w - lr * g, dict(state), np.ones_like(w)


def momentum(w, g, state, t, lr, momentum=0.9, nesterov=False):
    """torch.optim.SGD(momentum=mu, dampening=0, nesterov=...).

    if t > 1: b <- mu b + g, else b <- g
    g <- g + mu b (nesterov) or g <- b
    theta <- theta - lr g
    """
    if "momentum_buffer" in state:
        b = momentum * state["momentum_buffer"] + g
    else:
        b = g.copy()
    step = g + momentum * b if nesterov else b
    # scale: at a fixed point the velocity is g / (1 - mu), so that is the
    # effective multiplier of the step (and of the L1 threshold, see
    # reference_epoch), heavy ball and Nesterov alike
    scale = np.full_like(w, 1.0 / (1.0 - momentum))
    return w - lr * step, {"momentum_buffer": b}, scale


def adagrad(w, g, state, t, lr, epsilon=1e-8):
    """torch.optim.Adagrad(lr_decay=0, initial_accumulator_value=0, eps).

    clr = lr / (1 + (t - 1) lr_decay) = lr
    state_sum <- state_sum + g^2
    theta <- theta - clr g / (sqrt(state_sum) + eps)
    """
    clr = lr / (1.0 + (t - 1) * 0.0)
    state_sum = state.get("sum", np.zeros_like(w)) + g * g
    std = np.sqrt(state_sum) + epsilon
    return w - clr * g / std, {"sum": state_sum}, 1.0 / std


def rmsprop(w, g, state, t, lr, rho=0.9, epsilon=1e-8):
    """torch.optim.RMSprop(alpha=rho, centered=False, momentum=0, eps).

    v <- alpha v + (1 - alpha) g^2
    theta <- theta - lr g / (sqrt(v) + eps)
    """
    square_avg = rho * state.get("square_avg", np.zeros_like(w)) + (1.0 - rho) * g * g
    avg = np.sqrt(square_avg) + epsilon
    return w - lr * g / avg, {"square_avg": square_avg}, 1.0 / avg


def adam(w, g, state, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=False):
    """torch.optim.Adam (and AMSGrad), torch's bias-correction placement.

    m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
    vmax <- max(vmax, v)                          (amsgrad; uncorrected v)
    denom = sqrt(vmax or v) / sqrt(1 - b2^t) + eps
    theta <- theta - lr / (1 - b1^t) * m / denom
    """
    zeros = np.zeros_like(w)
    exp_avg = beta_1 * state.get("exp_avg", zeros) + (1.0 - beta_1) * g
    exp_avg_sq = beta_2 * state.get("exp_avg_sq", zeros) + (1.0 - beta_2) * g * g
    new_state = {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    bias_correction1 = 1.0 - beta_1**t
    bias_correction2 = 1.0 - beta_2**t
    step_size = lr / bias_correction1
    if amsgrad:
        max_exp_avg_sq = np.maximum(state.get("max_exp_avg_sq", zeros), exp_avg_sq)
        new_state["max_exp_avg_sq"] = max_exp_avg_sq
        denom = np.sqrt(max_exp_avg_sq) / np.sqrt(bias_correction2) + epsilon
    else:
        denom = np.sqrt(exp_avg_sq) / np.sqrt(bias_correction2) + epsilon
    return w - step_size * exp_avg / denom, new_state, 1.0 / denom


def adamax(w, g, state, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """torch.optim.Adamax (used as the worked custom solver).

    m <- b1 m + (1 - b1) g ;  u <- max(b2 u, |g| + eps)
    theta <- theta - lr / (1 - b1^t) * m / u
    """
    zeros = np.zeros_like(w)
    exp_avg = beta_1 * state.get("exp_avg", zeros) + (1.0 - beta_1) * g
    exp_inf = np.maximum(beta_2 * state.get("exp_inf", zeros), np.abs(g) + epsilon)
    clr = lr / (1.0 - beta_1**t)
    return (w - clr * exp_avg / exp_inf, {"exp_avg": exp_avg, "exp_inf": exp_inf},
            1.0 / exp_inf)


def rule_of(solver):
    """The reference rule (a function of w, g, state, t, lr) of a skgd solver
    object, read from its public parameters."""
    name = type(solver).__name__
    params = solver.get_params()
    rules = {"SGD": sgd, "Momentum": momentum, "AdaGrad": adagrad,
             "RMSprop": rmsprop, "Adam": adam}
    rule = rules[name]
    return lambda w, g, state, t, lr: rule(w, g, state, t, lr, **params)


# ---------------------------------------------------------------------------
# losses: value and derivative with respect to the decision value p
# ---------------------------------------------------------------------------
# Margin losses take y in {-1, +1}; "log_loss" takes the probability q of the
# positive class; regression losses take real y. At a kink the derivative is
# scikit-learn's subgradient: -y at z == threshold for hinge / perceptron,
# 0 at |y - p| == epsilon for epsilon-insensitive.


def _log_loss(p, q, param):
    # binary cross-entropy with logits: -q log s(p) - (1 - q) log(1 - s(p))
    value = q * np.logaddexp(0.0, -p) + (1.0 - q) * np.logaddexp(0.0, p)
    return value, expit(p) - q


def _hinge(p, y, threshold):
    z = y * p
    return np.maximum(0.0, threshold - z), np.where(z <= threshold, -y, 0.0)


def _squared_hinge(p, y, threshold):
    gap = np.maximum(0.0, threshold - y * p)
    return gap**2, -2.0 * y * gap


def _modified_huber(p, y, param):
    z = y * p
    value = np.where(z >= -1.0, np.maximum(0.0, 1.0 - z) ** 2, -4.0 * z)
    derivative = np.where(z >= -1.0, -2.0 * y * np.maximum(0.0, 1.0 - z), -4.0 * y)
    return value, derivative


def _squared_error(p, y, param):
    return 0.5 * (p - y) ** 2, p - y


def _huber(p, y, epsilon):
    r = p - y
    small = np.abs(r) <= epsilon
    value = np.where(small, 0.5 * r**2, epsilon * np.abs(r) - 0.5 * epsilon**2)
    return value, np.where(small, r, epsilon * np.sign(r))


def _epsilon_insensitive(p, y, epsilon):
    r = p - y
    value = np.maximum(0.0, np.abs(r) - epsilon)
    return value, np.where(np.abs(r) > epsilon, np.sign(r), 0.0)


def _squared_epsilon_insensitive(p, y, epsilon):
    r = p - y
    gap = np.maximum(0.0, np.abs(r) - epsilon)
    return gap**2, 2.0 * gap * np.sign(r)


#: name -> f(p, y, param) -> (value, d value / d p), elementwise
LOSSES = {
    "log_loss": _log_loss,
    "hinge": _hinge,
    "perceptron": _hinge,  # threshold 0
    "squared_hinge": _squared_hinge,
    "modified_huber": _modified_huber,
    "squared_error": _squared_error,
    "huber": _huber,
    "epsilon_insensitive": _epsilon_insensitive,
    "squared_epsilon_insensitive": _squared_epsilon_insensitive,
}

#: the fixed parameter of each classification loss (threshold)
CLASSIFICATION_PARAM = {"log_loss": 0.0, "hinge": 1.0, "perceptron": 0.0,
                        "squared_hinge": 1.0, "modified_huber": 0.0}


def multinomial_loss(P, Q):
    """Softmax cross-entropy ``-sum_c q_c log softmax(p)_c`` per row, and its
    gradient ``softmax(p) - q`` (for rows of Q summing to one). P, Q: (n, k)."""
    log_prob = P - logsumexp(P, axis=1, keepdims=True)
    return -np.sum(Q * log_prob, axis=1), softmax(P, axis=1) - Q


def row_losses(loss, P, Y, param):
    """Per-row loss (summed over outputs) and the (n, k) derivative."""
    if loss == "multinomial":
        return multinomial_loss(P, Y)
    value, derivative = LOSSES[loss](P, Y, param)
    return value.sum(axis=1), derivative


# ---------------------------------------------------------------------------
# one epoch of mini-batch gradient descent
# ---------------------------------------------------------------------------


def soft_threshold(w, threshold):
    """Proximal operator of ``threshold * |w|``."""
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


def reference_epoch(X, Y, sw, order, batch_size, theta, rule, state, t, lr,
                    loss, loss_param=0.0, l2=0.0, l1=0.0, fit_intercept=True,
                    mean_sw=None):
    """One pass over ``order`` in mini-batches, as documented in epoch.py.

    Parameters
    ----------
    X : (n, d) dense array.  Y : (n, k) encoded targets.  sw : (n,) weights.
    order : row order of the epoch.  batch_size : int or "full".
    theta : (k, d + 1) parameters, column ``d`` holding the intercepts.
    rule : reference update rule (see the module docstring); ``state`` its
        state dict (of (k, d + 1) arrays, empty at the start).
    t : number of updates done before this epoch.
    lr : float, or a function of the 1-based update count.
    loss : a key of LOSSES or "multinomial".

    For each batch B of ``m`` rows: the gradient of the coefficients is
    ``sum_{r in B} sw_r dloss_r x_r / (mean_sw m)`` (``mean_sw``: by default
    ``mean(sw)``; a partial_fit stream's first call's) (the intercept's has 1 in
    place of x_r), plus ``l2 * w`` for the coefficients (not the intercept);
    then every parameter (the intercepts only when ``fit_intercept``) takes
    one step of the rule; then coefficients are soft-thresholded by
    ``lr * scale * l1`` (full batch) or take the cumulative L1 penalty of
    that much a step (stochastic batches).

    Returns (theta, state, t, loss_sum) with ``loss_sum = sum_r sw_r loss_r``
    evaluated at the parameters each row's batch started from.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(X.shape[0], -1)
    sw = np.asarray(sw, dtype=np.float64)
    theta = np.array(theta, dtype=np.float64)
    state = {key: value.copy() for key, value in state.items()}
    n, d = X.shape
    mean_sw = sw.mean() if mean_sw is None else mean_sw
    size = n if batch_size == "full" else int(batch_size)
    mask = np.ones(theta.shape, dtype=bool)
    if not fit_intercept:
        mask[:, d] = False
    is_coef = np.zeros(theta.shape, dtype=bool)
    is_coef[:, :d] = True
    loss_sum = 0.0
    for start in range(0, n, size):
        rows = order[start:start + size]
        m = rows.shape[0]
        Xb = np.hstack([X[rows], np.ones((m, 1))])
        P = Xb @ theta.T  # (m, k)
        values, dP = row_losses(loss, P, Y[rows], loss_param)
        loss_sum += np.sum(sw[rows] * values)
        grad = (sw[rows][:, None] * dP).T @ Xb / (mean_sw * m)
        grad = grad + l2 * theta * is_coef
        t += 1
        eta = lr(t) if callable(lr) else lr
        sub_state = {key: value[mask] for key, value in state.items()}
        new_w, sub_state, scale = rule(theta[mask], grad[mask], sub_state, t, eta)
        for key, value in sub_state.items():
            state.setdefault(key, np.zeros_like(theta))[mask] = value
        scale_full = np.zeros_like(theta)
        scale_full[mask] = scale
        theta[mask] = new_w
        if l1 > 0 and size < n:
            # stochastic batches: the cumulative penalty (Tsuruoka et al.
            # 2009), as scikit-learn's l1penalty, with a total offered per
            # coefficient (u) since the rules scale their steps
            u = state.setdefault("l1_offered", np.zeros_like(theta))
            q = state.setdefault("l1_applied", np.zeros_like(theta))
            u[:, :d] += eta * scale_full[:, :d] * l1
            z = theta[:, :d].copy()
            clipped = np.where(z > 0, np.maximum(0.0, z - (u[:, :d] + q[:, :d])),
                               np.where(z < 0, np.minimum(0.0, z + (u[:, :d] - q[:, :d])),
                                        z))
            q[:, :d] += clipped - z
            theta[:, :d] = clipped
        elif l1 > 0:
            theta[:, :d] = soft_threshold(theta[:, :d], eta * scale_full[:, :d] * l1)
    return theta, state, t, loss_sum


def reference_fit(X, Y, rule, epochs, batch_size, lr, loss, sw=None, theta=None,
                  **kwargs):
    """``epochs`` epochs in natural row order (``shuffle=False``) from
    ``theta`` (default zeros); returns the final (k, d + 1) parameters."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(X.shape[0], -1)
    n, d = X.shape
    sw = np.ones(n) if sw is None else sw
    theta = np.zeros((Y.shape[1], d + 1)) if theta is None else theta
    state, t = {}, 0
    for _ in range(epochs):
        theta, state, t, _ = reference_epoch(X, Y, sw, np.arange(n), batch_size,
                                             theta, rule, state, t, lr, loss,
                                             **kwargs)
    return theta


# ---------------------------------------------------------------------------
# lazy updates of CSR data: a coordinate whose column sat out k steps
# ---------------------------------------------------------------------------


def lazy_skip(name, w, state, k, t, lr, l2=0.0, l1=0.0, **hyper):
    """What the lazy CSR kernel does to one coordinate (a scalar ``w``, its
    state a 1-D array of slots) whose column had no non-zero in ``k`` steps
    of constant size ``lr``, ``t`` being the step in progress; as documented
    in docs/user_guide.md, one coordinate at a time, every power computed
    here, sums summed term by term. Returns ``(w, state)``.

    * ``"sgd"``: ``k`` steps of ``w <- soft((1 - lr l2) w, lr l1)``;
    * ``"momentum"``, ``"rmsprop"``, ``"adagrad"``: ``k`` zero-gradient steps
      of the rule above; ``"custom"``: nothing moves;
    * ``"adam"``: the moments decay by ``beta^k``; the drift is the step at
      ``t`` (epsilon and bias corrections frozen) times ``sum_{s=1..k} r^s``,
      ``r = beta_1 / sqrt(beta_2)``, or ``beta_1`` under AMSGrad (whose
      maximum does not decay) and with ``beta_2 = 0`` (``v`` is 0 once
      skipped, the step's denominator ``epsilon``);

    then, but for ``"sgd"``, the penalty as decoupled shrinkage at the rule's
    multiplier ``s`` (Adam's before the decay, RMSprop's after it):
    ``soft(w, l1 s k lr)``, then the proximal L2 step ``w / (1 + l2 s k lr)``,
    which for the adaptive rules moves ``w`` by no more than an L2 gradient
    alone would: ``k lr`` for Adam and RMSprop (a normalised step of ``lr``
    each), ``lr sum_j g / sqrt(s + j g^2)`` for AdaGrad (``g = l2 |w|``
    before the L1 step, the sum as an integral over ``[1/2, k + 1/2]``;
    its ``s`` takes the ``k`` squares ``g^2``).
    """
    state = np.array(state, dtype=np.float64)
    if k == 0:
        return w, state
    if name == "sgd":
        for _ in range(k):
            w = float(soft_threshold((1.0 - lr * l2) * w, lr * l1))
        return w, state
    zero = np.zeros(1)
    if name == "momentum":
        mu, nesterov = hyper["momentum"], hyper["nesterov"]
        rule_state = {"momentum_buffer": state[:1]}
        for _ in range(k):
            w, rule_state, _ = momentum(np.array([w]), zero, rule_state, t, lr, mu,
                                        nesterov)
            w = float(w[0])
        state[0] = rule_state["momentum_buffer"][0]
        scale = 1.0 / (1.0 - mu)
    elif name == "rmsprop":
        rule_state = {"square_avg": state[:1]}
        for _ in range(k):
            w, rule_state, scale = rmsprop(np.array([w]), zero, rule_state, t, lr,
                                           hyper["rho"], hyper["epsilon"])
            w = float(w[0])
        state[0] = rule_state["square_avg"][0]
        scale = float(scale[0])
    elif name == "adagrad":
        scale = 1.0 / (np.sqrt(state[0]) + hyper["epsilon"])
        if l2 > 0.0:
            g, total = l2 * abs(w), state[0]
            bound = 2.0 * k * lr * g / (np.sqrt(total + (k + 0.5) * g**2)
                                        + np.sqrt(total + 0.5 * g**2))
            state[0] = total + k * g**2
    elif name == "adam":
        beta_1, beta_2 = hyper["beta_1"], hyper["beta_2"]
        # AMSGrad's maximum does not decay; with beta_2 = 0, v is 0 after
        # one skipped step: then only m's decay shrinks the step
        if hyper["amsgrad"]:
            v, r = max(state[1], state[2]), beta_1
        elif beta_2 == 0.0:
            v, r = 0.0, beta_1
        else:
            v, r = state[1], beta_1 / np.sqrt(beta_2)
        scale = 1.0 / (np.sqrt(v) / np.sqrt(1.0 - beta_2**t) + hyper["epsilon"])
        drift = sum(r**s for s in range(1, k + 1))
        w -= lr / (1.0 - beta_1**t) * state[0] * scale * drift
        state[0] *= beta_1**k
        state[1] *= beta_2**k
    else:
        scale = 1.0
    if name in ("adam", "rmsprop"):
        bound = k * lr
    elif name != "adagrad" or l2 == 0.0:
        bound = np.inf
    w = float(soft_threshold(w, l1 * scale * k * lr))
    shrunk = w / (1.0 + l2 * scale * k * lr)
    if abs(w) - abs(shrunk) > bound:
        shrunk = w - np.sign(w) * bound
    return shrunk, state
