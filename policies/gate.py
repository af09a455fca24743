"""A learned gate on the dependency rule's corrections: is this one worth saying?

The dependency rule (:class:`~proassist.policies.stepwatch.DependencyWatch`) names a
required step that was never worked on as soon as the recognised current step needs
it. With a learned step recogniser most such candidates are false: on validation
streams (seeds 900000+, silent person) two in three named a step that was done (its
summed probability just short of the ``worked`` threshold, typically a short step such
as turning a burner on) or came from the recogniser jumping to the next step while the
person still finished the one it then named. Neither the named step's summed
probability nor how recently it was seen separates them on its own.

:class:`StepTrace` keeps, per episode, a little of the recogniser's history (when each
candidate was last and first the most probable, its highest probability, its longest
run, the last few points); :func:`gate_features` describes one candidate correction
(current step ``top``, named step ``k``) from that trace and the watch's summed
probabilities; :class:`LogisticGate` scores it (logistic regression on standardised
features, fitted by :func:`fit_logistic` on candidates of recorded streams labelled by
whether the named step addresses a deviation open at that point:
:func:`~proassist.policies.learned.gate_train.train_gate`). The watch says a candidate
only when its probability reaches the gate's threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "GATE_FEATURES",
    "LogisticGate",
    "StepTrace",
    "checkpoint_gate",
    "fit_logistic",
    "gate_features",
]

#: What :func:`gate_features` returns, in order (``k``: the named step; ``top``: the
#: recognised current step; durations are the plan's expected ones).
GATE_FEATURES: tuple[str, ...] = (
    "k_mass_over_duration",
    "top_mass_over_duration",
    "top_prob",
    "k_prob",
    "k_max_prob",
    "since_k_top_min",
    "since_top_first_min",
    "top_run_over_duration",
    "plan_distance",
    "k_is_plan_predecessor",
    "worked_share",
    "later_worked_share",
    "k_duration_10s",
    "top_duration_10s",
    "time_over_plan_duration",
    "k_prob_recent",
    "top_prob_recent",
    "none_prob_recent",
    "k_longest_run_over_duration",
    "k_ever_top",
)

_RECENT = 4  # points averaged by the *_recent features
_NEVER = -1e9


class StepTrace:
    """The recogniser's history that :func:`gate_features` reads (one episode).

    Args:
        plan: The plan's step dicts (``duration_mean``).
        dt: Seconds between points.
    """

    def __init__(self, plan: list[dict[str, Any]], dt: float) -> None:
        n = len(plan)
        self.n, self.dt, self.t = n, float(dt), 0.0
        self.duration = np.array([float(s.get("duration_mean") or 1.0) for s in plan])
        self.last_top = np.full(n + 1, _NEVER)
        self.first_top = np.full(n + 1, _NEVER)
        self.max_prob = np.zeros(n + 1)
        self.longest = np.zeros(n + 1)
        self.recent: list[np.ndarray] = []
        self.run: tuple[int, int] = (-1, 0)

    def push(self, probs: np.ndarray, t: float) -> None:
        """Take this point's candidate probabilities (at time ``t``)."""
        top = int(probs.argmax())
        self.t = float(t)
        self.run = (top, self.run[1] + 1) if self.run[0] == top else (top, 1)
        self.longest[top] = max(self.longest[top], self.run[1] * self.dt)
        self.last_top[top] = self.t
        if self.first_top[top] == _NEVER:
            self.first_top[top] = self.t
        self.max_prob = np.maximum(self.max_prob, probs)
        self.recent = [*self.recent[-(_RECENT - 1) :], probs]


def gate_features(
    trace: StepTrace, mass: np.ndarray, worked: set[int], top: int, k: int
) -> np.ndarray:
    """The :data:`GATE_FEATURES` of naming step ``k`` while ``top`` is current.

    Args:
        trace: This episode's :class:`StepTrace`, pushed up to now.
        mass: Summed probability (× dt) of every plan step so far.
        worked: Plan indices counted as worked on.
        top: The recognised current step.
        k: The step the rule would name.
    """
    n, dur, now = trace.n, trace.duration, trace.recent[-1]
    mean = np.mean(trace.recent, axis=0)
    later = [j for j in range(k + 1, n) if j != top]
    since = min(trace.t - trace.last_top[k], 60.0) / 60.0
    return np.array(
        [
            mass[k] / dur[k],
            mass[top] / dur[top],
            now[top],
            now[k],
            trace.max_prob[k],
            since,
            min(trace.t - trace.first_top[top], 60.0) / 60.0,
            trace.run[1] * trace.dt / dur[top],
            (top - k) / n,
            float(k == top - 1),
            len(worked) / n,
            sum(j in worked for j in later) / len(later) if later else 0.0,
            dur[k] / 10.0,
            dur[top] / 10.0,
            trace.t / dur.sum(),
            mean[k],
            mean[top],
            mean[n],
            trace.longest[k] / dur[k],
            float(trace.last_top[k] != _NEVER),
        ],
        dtype=np.float64,
    )


class LogisticGate:
    """Logistic regression over standardised :data:`GATE_FEATURES` with a threshold.

    Args:
        weights: ``{"features", "mean", "scale", "coef", "intercept", "threshold"}``
            (what :func:`fit_logistic` returns, plus the threshold), as stored in a
            recogniser checkpoint's ``steps.json`` ``gate`` entry.
        threshold: Overrides ``weights["threshold"]``.

    Raises:
        ValueError: When the weights were fitted on other features.
    """

    def __init__(self, weights: dict[str, Any], threshold: float | None = None) -> None:
        if tuple(weights.get("features") or ()) != GATE_FEATURES:
            raise ValueError(
                f"gate weights are for features {weights.get('features')}, this version "
                f"computes {list(GATE_FEATURES)}: retrain it (proassist train-gate)"
            )
        self.mean = np.asarray(weights["mean"], dtype=np.float64)
        self.scale = np.asarray(weights["scale"], dtype=np.float64)
        self.coef = np.asarray(weights["coef"], dtype=np.float64)
        self.intercept = float(weights["intercept"])
        self.threshold = float(weights.get("threshold", 0.5) if threshold is None else threshold)
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"gate threshold must be in [0, 1], got {self.threshold}")

    def probability(self, features: np.ndarray) -> float:
        """The probability that the candidate addresses an open deviation."""
        z = float(((features - self.mean) / self.scale) @ self.coef + self.intercept)
        return float(_sigmoid(np.array(z)))

    def passes(self, features: np.ndarray) -> bool:
        """Whether the candidate is worth saying (probability ≥ threshold)."""
        return self.probability(features) >= self.threshold


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> dict[str, Any]:
    """Fit an L2-regularised logistic regression by Newton's method (IRLS).

    Args:
        x: Features, one row per candidate.
        y: Labels (1: the candidate addresses an open deviation).
        l2: Ridge penalty on the standardised coefficients (not the intercept).
        iters: Most Newton steps (stops earlier once the step is tiny).

    Returns:
        ``{"features", "mean", "scale", "coef", "intercept", "points", "positives"}``.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0 or len(set(y.tolist())) < 2:
        raise ValueError(
            "fit_logistic needs a non-empty 2-D x, labels of both classes, one per row"
        )
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], float(l2))
    penalty[-1] = 0.0
    for _ in range(iters):
        p = _sigmoid(z @ w)
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return {
        "features": list(GATE_FEATURES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": w[:-1].tolist(),
        "intercept": float(w[-1]),
        "points": int(len(y)),
        "positives": int(y.sum()),
    }


def checkpoint_gate(
    meta: dict[str, Any], gate: bool | None, threshold: float | None, default: bool
) -> LogisticGate | None:
    """The checkpoint's correction gate (its ``steps.json`` ``gate`` entry) if asked for
    (``gate``, else a ``threshold`` given, else ``default``), else None."""
    if gate is False and threshold is not None:
        raise ValueError("stepwatch: threshold is the gate's; it needs gate=True (or unset)")
    if not (gate if gate is not None else threshold is not None or default):
        return None
    weights = meta.get("gate")
    if not weights:
        raise ValueError(
            "stepwatch: gate=True but this checkpoint has no gate (train one with "
            "proassist train-gate)"
        )
    return LogisticGate(weights, threshold)
