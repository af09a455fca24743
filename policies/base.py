"""The assistant policy protocol, action helpers and the policy registry.

A policy drives one ProAssist env episode (see CONTRACTS.md §4)::

    policy = make_policy("periodic", period=10.0)
    obs, info = env.reset(seed=0)
    policy.reset(env_info=env_info, seed=0)
    while True:
        action = policy.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)

``env_info`` describes the episode: ``task``, ``domain``, ``goal``, ``dt`` and ``plan``,
a list of step dicts ``{id, instruction, after, optional, safety_critical,
duration_mean, min_time, location, objects, tools, effects, done_cue, todo_cue}`` in
procedure order (``min_time``: seconds the step waits, 0 for none); the action's
``step`` field is an index into that list (``MAX_STEPS`` for none).

A policy with ``privileged = True`` reads ground truth from ``info`` (an env made with
``privileged=True``: ``events_new``, ``active_deviations``, ``current_step``,
``completed_steps``); every other policy must use only the observation, ``env_info``
and the non-privileged ``info`` keys (``step_index``, ``time``, ``task``, ``plan``).
"""

from __future__ import annotations

import inspect
import math
import numbers
import typing
from collections.abc import Callable, Mapping, Sequence
from types import UnionType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from proassist.scenarios.model import MAX_STEPS
from proassist.scenarios.registry import Registry, RegistryError, did_you_mean
from proassist.sim.messages import INTENTS, normalize_text

__all__ = [
    "NO_STEP",
    "POLICIES",
    "Policy",
    "PolicyBase",
    "PolicyProblems",
    "check_policy_kwargs",
    "list_policies",
    "make_action",
    "make_policy",
    "observation_time",
    "policy_kwargs",
    "register_policy",
    "silent_action",
    "step_index",
]

#: Value of the action's ``step`` field meaning "no step".
NO_STEP: int = MAX_STEPS

#: Every policy, by name (``@register_policy`` adds to it; plugins may too).
POLICIES: Registry[type] = Registry("policy")


@runtime_checkable
class Policy(Protocol):
    """What the evaluation loop needs from an assistant policy."""

    #: True when the policy reads ground truth from ``info`` (needs ``privileged=True``).
    privileged: bool

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Start a new episode described by ``env_info``; seed any randomness."""
        ...

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Return the action dict for one decision point."""
        ...


class PolicyBase:
    """Convenience base: stores ``env_info`` and gives step lookups.

    Subclasses override :meth:`act` and may extend :meth:`reset` (call ``super()``).
    """

    privileged: bool = False

    def __init__(self) -> None:
        self.env_info: dict[str, Any] = {}
        self.plan: list[dict[str, Any]] = []

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Store the episode description (``plan`` must be a list of step dicts)."""
        plan = env_info.get("plan")
        if not isinstance(plan, list) or not all(isinstance(s, dict) for s in plan):
            raise ValueError("env_info['plan'] must be a list of step dicts {id, instruction, ...}")
        if len(plan) > MAX_STEPS:
            raise ValueError(f"plan has {len(plan)} steps; at most MAX_STEPS={MAX_STEPS}")
        self.env_info = dict(env_info)
        self.plan = plan

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Return the action for one decision point (subclasses implement)."""
        raise NotImplementedError

    def instruction(self, index: int) -> str:
        """The instruction of plan step ``index``."""
        return str(self.plan[index].get("instruction", self.plan[index]["id"]))


def observation_time(observation: Mapping[str, Any]) -> float:
    """The episode time (s) of an observation (its ``time`` field, a shape-(1,) array)."""
    return float(np.asarray(observation["time"], dtype=np.float64).reshape(-1)[0])


def silent_action() -> dict[str, Any]:
    """The action that stays silent."""
    return {"decision": 0, "intent": 0, "step": NO_STEP, "text": ""}


def make_action(intent: str | int, step_index: int | None = None, text: str = "") -> dict:
    """Build an interrupt action.

    Args:
        intent: An :data:`~proassist.sim.messages.INTENTS` name or its index.
        step_index: Plan index of the step referred to, or ``None`` for no step.
        text: The utterance; made acceptable to the env by
            :func:`~proassist.sim.messages.normalize_text` (ASCII stand-ins for dashes,
            quotes and accents, at most ``MAX_TEXT`` characters).

    Returns:
        The action dict (``decision=1``).

    Raises:
        ValueError: On an unknown intent or a step index outside ``[0, MAX_STEPS)``.
    """
    if isinstance(intent, str):
        if intent not in INTENTS:
            raise ValueError(f"unknown intent {intent!r}; expected one of {INTENTS}")
        intent = INTENTS.index(intent)
    if not 0 <= int(intent) < len(INTENTS):
        raise ValueError(f"intent index {intent} outside [0, {len(INTENTS)})")
    if step_index is None:
        step_index = NO_STEP
    if not 0 <= int(step_index) <= NO_STEP:
        raise ValueError(f"step index {step_index} outside [0, {NO_STEP}] (MAX_STEPS = none)")
    clean = normalize_text(text)
    return {"decision": 1, "intent": int(intent), "step": int(step_index), "text": clean}


def step_index(plan: Sequence[dict[str, Any]], step_id: str | None) -> int:
    """Plan index of ``step_id`` (``NO_STEP`` for ``None`` or an id not in the plan)."""
    for i, step in enumerate(plan):
        if step.get("id") == step_id:
            return i
    return NO_STEP


def register_policy(name: str) -> Callable[[type], type]:
    """Class decorator registering a policy under ``name`` (for :func:`make_policy`).

    Raises:
        proassist.scenarios.registry.RegistryError: If ``name`` is taken by another
            class (the registry is left unchanged).
    """
    return POLICIES.register(name)


def make_policy(name: str, **kwargs: Any) -> Policy:
    """Build the policy registered as ``name``.

    Raises:
        proassist.scenarios.registry.RegistryError: On an unknown name, an unknown or
            missing keyword argument (:func:`check_policy_kwargs`), with "did you mean"
            and the accepted names.
    """
    problems = check_policy_kwargs(name, kwargs, types=False)
    if problems:
        raise RegistryError("; ".join(message for _, message in problems))
    return POLICIES.get(name)(**kwargs)


def policy_kwargs(name: str) -> dict[str, tuple[Any, Any, str]]:
    """``{kwarg: (type, default, doc)}`` accepted by policy ``name``."""
    return POLICIES.kwargs(name)


def list_policies() -> list[str]:
    """Sorted names of the registered policies."""
    return sorted(POLICIES.names())


#: Problems of policy keyword arguments: ``(path, message)``; ``path[0]`` is the argument
#: (empty for an unknown policy), the message names the policy and the argument.
PolicyProblems = list[tuple[tuple[Any, ...], str]]


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


#: What a plain-data value must look like for each checked annotation.
_CHECKS: dict[Any, tuple[str, Callable[[Any], bool]]] = {
    bool: ("true or false", lambda v: isinstance(v, bool)),
    int: ("an integer", lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool)),
    float: ("a finite number", _is_real),
    str: ("a string", lambda v: isinstance(v, str)),
    type(None): ("null", lambda v: v is None),
    list: ("a list", lambda v: isinstance(v, (list, tuple))),
    tuple: ("a list", lambda v: isinstance(v, (list, tuple))),
    Sequence: ("a list", lambda v: isinstance(v, (list, tuple))),
    dict: ("a mapping", lambda v: isinstance(v, Mapping)),
    Mapping: ("a mapping", lambda v: isinstance(v, Mapping)),
}


def _accepted(annotation: Any) -> list[tuple[str, Callable[[Any], bool]]] | None:
    """``(description, test)`` per alternative of ``annotation``; None when not checked."""
    if annotation is None:
        annotation = type(None)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, UnionType):
        alternatives = [_accepted(a) for a in typing.get_args(annotation)]
        if any(a is None for a in alternatives):
            return None
        return [alt for a in alternatives if a is not None for alt in a]
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return [
            (f"one of {list(values)}", lambda v: any(v == x and type(v) is type(x) for x in values))
        ]
    return [_CHECKS[origin or annotation]] if (origin or annotation) in _CHECKS else None


def _type_problem(name: str, key: str, annotation: Any, value: Any) -> str | None:
    """Why ``value`` does not fit ``annotation`` (plain-data values), or None."""
    alternatives = _accepted(annotation)
    if alternatives is None or any(test(value) for _, test in alternatives):
        return None
    expected = " or ".join(dict.fromkeys(d for d, _ in alternatives))
    return f"policy {name!r} argument {key!r} must be {expected}, got {value!r}"


def check_policy_kwargs(
    name: str, kwargs: Mapping[str, Any], *, types: bool = True, complete: bool = True
) -> PolicyProblems:
    """Every problem of ``kwargs`` for the policy registered as ``name``.

    The check reads the constructor signature of the registered class (the policy
    counterpart of :func:`proassist.envs.arguments.check_env_kwargs`); ``make_policy``,
    ``proassist eval -k`` and ``proassist sweep --check`` all use it.

    Args:
        name: A registered policy name.
        kwargs: Constructor keyword arguments.
        types: Also check plain-data values against the annotations (``float``, ``int``,
            ``bool``, ``str``, ``None``, lists, mappings, literals and unions of them;
            other annotations are not checked).
        complete: Also report required arguments missing from ``kwargs``.

    Returns:
        ``(path, message)`` pairs: ``path`` is ``(argument,)`` (``()`` for an unknown
        policy) and the message names the policy, the argument and, for an unknown one,
        the closest accepted names (empty when all is well).
    """
    if name not in POLICIES:
        return [((), str(POLICIES.unknown(name)))]
    accepted = policy_kwargs(name)
    out: PolicyProblems = []
    for key, value in kwargs.items():
        if key not in accepted:
            out.append(((key,), _unknown_kwarg(name, str(key), list(accepted))))
        elif types and (why := _type_problem(name, key, accepted[key][0], value)):
            out.append(((key,), why))
    if complete:
        required = [k for k, (_, d, _) in accepted.items() if d is inspect.Parameter.empty]
        out += [((k,), f"policy {name!r} requires keyword argument {k!r}") for k in required
                if k not in kwargs]  # fmt: skip
    return out


def _unknown_kwarg(name: str, key: str, accepted: list[str]) -> str:
    """The message for keyword argument ``key`` that policy ``name`` does not take."""
    listing = ", ".join(accepted) or "none"
    hint = did_you_mean(key, accepted)
    return f"policy {name!r} got unknown keyword argument {key!r}{hint} (accepted: {listing})"
