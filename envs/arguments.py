"""The one validator of ProAssist env arguments (``gym.make(id, **kwargs)``).

The env constructor, ``proassist sweep --check`` and the command line all call
:func:`check_env_kwargs` (or :func:`check_env_setting` for one dotted sweep setting),
so a configuration that would fail in ``gym.make`` is rejected before any run, with the
field that is wrong and what it expects. Deviation kinds are checked against the one
kind registry (:data:`proassist.scenarios.model.DEVIATION_KINDS`), so a plugin's kind
is accepted wherever a built-in one is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from proassist.envs.perception import check_perception_noise
from proassist.envs.rewards import DEFAULT_REWARD_WEIGHTS
from proassist.envs.spaces import OBS_MODES
from proassist.scenarios.model import DEVIATION_KINDS, PersonProfile, ScriptedDeviation
from proassist.scenarios.registry import did_you_mean
from proassist.scenarios.validation.file_formats import PROFILE

#: The smallest and largest frame side an env renders.
MIN_SIZE, MAX_SIZE = 16, 4096
#: The reward terms of :mod:`proassist.envs.rewards` (``reward_weights`` keys).
REWARD_TERMS: tuple[str, ...] = tuple(DEFAULT_REWARD_WEIGHTS)
#: ``PersonProfile`` fields that are probabilities.
PERSON_PROBS: tuple[str, ...] = (
    "compliance",
    "trust_floor",
    "ask_when_stuck",
    "self_correction",
    "trust_gain",
    "stop_trust",
    "prevention",
    "refusal_reply",
)
#: ``PersonProfile`` fields that are durations (seconds, >= 0) checked here too.
PERSON_SECONDS: tuple[str, ...] = ("tune_out",)
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")

Problems = list[tuple[tuple[Any, ...], str]]


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _number(v: Any, lo: float | None, hi: float | None = None, open_lo: bool = False) -> Problems:
    if not _is_num(v) or not math.isfinite(v):
        return [((), f"must be a finite number, got {v!r}")]
    if lo is not None and (v <= lo if open_lo else v < lo) or hi is not None and v > hi:
        left = "(" if open_lo else "["
        return [((), f"must be in {left}{lo}, {hi if hi is not None else 'inf'}], got {v!r}")]
    return []


def _flag(v: Any) -> Problems:
    return [] if isinstance(v, bool) else [((), f"must be true or false, got {v!r}")]


def _size(v: Any) -> Problems:
    ok = isinstance(v, int) and not isinstance(v, bool) and MIN_SIZE <= v <= MAX_SIZE
    return [] if ok else [((), f"must be an integer in [{MIN_SIZE}, {MAX_SIZE}], got {v!r}")]


def _optional_str(v: Any) -> Problems:
    ok = v is None or (isinstance(v, str) and v.strip() != "")
    return [] if ok else [((), f"must be a non-empty string or null, got {v!r}")]


def _domain(v: Any) -> Problems:
    ok = v is None or (isinstance(v, str) and _IDENT.match(v))
    return [] if ok else [((), f"must be a domain identifier (a-z, 0-9, _) or null, got {v!r}")]


def _render_mode(v: Any) -> Problems:
    return [] if v in (None, "rgb_array") else [((), f"must be null or 'rgb_array', got {v!r}")]


def _obs_modes(v: Any) -> Problems:
    if isinstance(v, str) or not isinstance(v, Sequence) or len(set(map(str, v))) != len(v):
        return [((), f"must be a list of distinct modes from {list(OBS_MODES)}, got {v!r}")]
    return [
        ((i,), f"unknown mode {m!r}{did_you_mean(str(m), OBS_MODES)}; expected {list(OBS_MODES)}")
        for i, m in enumerate(v)
        if m not in OBS_MODES
    ]


def _kind(v: Any) -> str | None:
    if not isinstance(v, str) or v not in DEVIATION_KINDS:
        known = list(DEVIATION_KINDS)
        return f"unknown deviation kind {v!r}{did_you_mean(str(v), known)}; known: {known}"
    return None


def _kinds(v: Any) -> Problems:
    if v is None:
        return []
    if isinstance(v, str) or not isinstance(v, Sequence):
        return [((), f"must be a list of deviation kinds, got {v!r}")]
    return [((i,), why) for i, k in enumerate(v) if (why := _kind(k))]


def _rates(v: Any) -> Problems:
    if v is None:
        return []
    if not isinstance(v, Mapping):
        return [((), f"must be a mapping of deviation kind to probability, got {v!r}")]
    out: Problems = []
    for k, p in v.items():
        why = _kind(k)
        out += [((k,), why)] if why else [((k, *s), m) for s, m in _number(p, 0.0, 1.0)]
    return out


def _script_item(item: Any) -> Problems:
    if isinstance(item, ScriptedDeviation):
        item = {"kind": item.kind, "step": item.step, "time": item.time, "params": item.params}
    if not isinstance(item, Mapping) or "kind" not in item or "step" not in item:
        return [((), f"must be a mapping with kind, step and optional time, params; got {item!r}")]
    out: Problems = [((k,), "unknown key; expected kind, step, time, params") for k in item
                     if k not in ("kind", "step", "time", "params")]  # fmt: skip
    out += [(("kind",), why)] if (why := _kind(item["kind"])) else []
    if not isinstance(item["step"], str):
        out.append((("step",), f"must be a step id, got {item['step']!r}"))
    if item.get("time") is not None:
        out += [(("time", *s), m) for s, m in _number(item["time"], 0.0)]
    if not isinstance(item.get("params") or {}, Mapping):
        out.append((("params",), f"must be a mapping, got {item['params']!r}"))
    return out


def _script(v: Any) -> Problems:
    if v is None:
        return []
    if isinstance(v, (str, Mapping)) or not isinstance(v, Sequence):
        return [((), f"must be a list of {{kind, step, time, params}} mappings, got {v!r}")]
    return [((i, *s), m) for i, item in enumerate(v) for s, m in _script_item(item)]


def _max_random(v: Any) -> Problems:
    ok = v is None or v == "scenario" or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
    return [] if ok else [((), f"must be 'scenario', null (no cap) or an integer >= 0, got {v!r}")]


def _person(v: Any) -> Problems:
    if v is None or isinstance(v, PersonProfile):
        return []
    if isinstance(v, str):
        return _profile_name(v)
    if not isinstance(v, Mapping):
        return [((), f"must be a profile name or a mapping of profile fields, got {v!r}")]
    known = [f.name for f in fields(PersonProfile)] + ["base"]
    out: Problems = []
    for k, x in v.items():
        if k in PROFILE.retired:
            out.append(((k,), f"{k!r} was retired: {PROFILE.retired[k]}"))
        elif k not in known:
            out.append(((k,), f"unknown person field {k!r}{did_you_mean(str(k), known)}"))
        elif k == "base":
            out += [(("base", *s), m) for s, m in _profile_name(x)]
        elif k in PERSON_PROBS:
            out += [((k, *s), m) for s, m in _number(x, 0.0, 1.0)]
        elif k in PERSON_SECONDS:
            out += [((k, *s), m) for s, m in _number(x, 0.0)]
    return out


def _profile_name(v: Any) -> Problems:
    from proassist.scenarios.loader import list_profiles

    names = list_profiles()
    ok = isinstance(v, str) and (v in names or v.endswith((".yaml", ".yml")))
    return [] if ok else [((), f"unknown person profile {v!r}{did_you_mean(str(v), names)}")]


def _renderer(v: Any) -> Problems:
    from proassist.sim.render.scene import renderer_names

    names = renderer_names()
    if isinstance(v, str) and v in names:
        return []
    hint = did_you_mean(str(v), names) if isinstance(v, str) else ""
    return [((), f"unknown renderer {v!r}{hint}; expected one of {names}")]


def _weights(v: Any) -> Problems:
    if v is None:
        return []
    if not isinstance(v, Mapping):
        return [((), f"must be a mapping of reward term to weight, got {v!r}")]
    out: Problems = []
    for k, w in v.items():
        if k not in REWARD_TERMS:
            why = f"unknown reward term {k!r}{did_you_mean(str(k), REWARD_TERMS)}"
            out.append(((k,), f"{why}; expected {list(REWARD_TERMS)}"))
        else:
            out += [((k, *s), m) for s, m in _number(w, None)]
    return out


#: Every env argument and its check (value -> problems with a sub-path).
ENV_ARGUMENTS: dict[str, Callable[[Any], Problems]] = {
    "domain": _domain,
    "task": _optional_str,
    "render_mode": _render_mode,
    "obs_modes": _obs_modes,
    "width": _size,
    "height": _size,
    "decision_dt": lambda v: _number(v, 0.0, open_lo=True),
    "deviation_rates": _rates,
    "deviation_kinds": _kinds,
    "deviation_script": _script,
    "max_random_deviations": _max_random,
    "person": _person,
    "privileged": _flag,
    "max_duration": lambda v: [] if v is None else _number(v, 0.0, open_lo=True),
    "render": _flag,
    "reward_weights": _weights,
    "egl": _flag,
    "renderer": _renderer,
    "perception_noise": check_perception_noise,
}


def check_env_kwargs(kwargs: Mapping[str, Any]) -> Problems:
    """Every problem of ``kwargs`` as ``(path, message)``; ``path[0]`` is the argument."""
    out: Problems = []
    for name, value in kwargs.items():
        if name not in ENV_ARGUMENTS:
            hint = did_you_mean(str(name), list(ENV_ARGUMENTS))
            out.append(((name,), f"unknown env argument {name!r}{hint}"))
            continue
        out += [((name, *sub), msg) for sub, msg in ENV_ARGUMENTS[name](value)]
    return out


def check_env_setting(path: Sequence[str], value: Any) -> Problems:
    """Problems of one dotted setting below ``env_kwargs`` (``("person", "compliance")``).

    A deeper path is checked as the mapping it sets (``{"compliance": value}``), so a
    sweep's grid key ``env_kwargs.deviation_rates.omision`` gets "did you mean".
    """
    path = tuple(path)
    if len(path) > 1 and path[0] in ("person", "deviation_rates", "reward_weights"):
        nested: Any = value
        for key in reversed(path[1:]):
            nested = {key: nested}
        return check_env_kwargs({path[0]: nested})
    if len(path) > 1:
        return [] if path[0] in ENV_ARGUMENTS else check_env_kwargs({path[0]: None})
    return check_env_kwargs({path[0]: value})


def format_problems(problems: Problems) -> str:
    """``field.sub: message`` lines."""
    return "\n".join(f"{'.'.join(map(str, p))}: {m}" for p, m in problems)


def validate_env_kwargs(kwargs: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` listing every problem of ``kwargs`` (the env constructor's check).

    Raises:
        ValueError: One line per problem, ``field: message``.
    """
    problems = check_env_kwargs(kwargs)
    if problems:
        head = "invalid env argument" + ("s" if len(problems) > 1 else "")
        raise ValueError(f"{head}:\n{format_problems(problems)}")
