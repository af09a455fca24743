"""Value checks of sweep files (invalid values are rejected before any run starts).

Rules applied to every value set in ``policy_kwargs`` / ``env_kwargs`` (base, grid values
and variants), recursively into mappings and lists:

- numbers must be finite (no NaN, no infinity);
- keys whose name says probability (``p``, ``p_*``, ``*prob``, ``*probability``,
  ``*rate``) and
  ``env_kwargs.deviation_rates.*`` take numbers in [0, 1];
- keys whose name says time or size (``latency``, ``delay``, ``period``, ``interval``,
  ``duration``, ``timeout``, ``dt``, ``fps``, ``hz``, ``window``, ``horizon``, ``size``,
  ``width``, ``height``, ``max_*``, ``min_*``, ``num_*``, ``n_*``, ``*_count``) take
  numbers >= 0;
- ``env_kwargs`` settings are checked by the env's own validator
  (:func:`proassist.envs.arguments.check_env_setting`, the same one ``gym.make`` runs):
  unknown arguments, sizes, modes, deviation kinds (against the kind registry, so
  plugin kinds count), rates, scripts, person fields and reward terms;
- every configuration's merged ``policy_kwargs`` fit its policy's constructor
  (:func:`proassist.policies.base.check_policy_kwargs`: unknown arguments with "did
  you mean", plain-data types, required arguments), each reported at the line that sets
  it (skipped with a custom ``unit``, which may read the kwargs its own way);
- policy names exist in ``proassist.policies.list_policies()``, the env id in the
  ``proassist.envs`` registry and task names in ``proassist.scenarios.list_scenarios``
  (each check runs only when that function is importable);
- the ``unit`` function imports;
- labels are unique and no two configurations are identical.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proassist.scenarios.library import looks_like_path
from proassist.scenarios.registry import did_you_mean

if TYPE_CHECKING:
    from proassist.analysis.sweeps.spec import Reporter, SweepSpec

_PROB_RE = re.compile(r"(^p$|^p_|prob$|probability$|rate$)")
_NONNEG_RE = re.compile(
    r"(latency|delay|period|interval|duration|timeout|(^|_)dt$|fps$|hz$|window|horizon|size"
    r"|width|height|^max_|^min_|^num_|^n_|_count$|^patience$|^speed$|^rationality$"
    r"|^error_proneness$)"
)


def _optional(module: str, attr: str) -> Callable[..., Any] | None:
    """``module.attr`` when it imports cleanly, else None (the check is then skipped)."""
    try:
        return getattr(importlib.import_module(module), attr)
    except Exception:  # a half-built or missing module must not break validation
        return None


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _num_in(v: Any, lo: float, hi: float | None) -> str | None:
    if not _is_num(v):
        return f"must be a number, got {v!r}"
    if v < lo or (hi is not None and v > hi):
        return f"must be in [{lo}, {hi if hi is not None else 'inf'}], got {v!r}"
    return None


def _env_problems(parts: tuple[str, ...], v: Any) -> list[tuple[tuple[Any, ...], str]]:
    """The env's own argument checks (:mod:`proassist.envs.arguments`) for ``env_kwargs.*``."""
    from proassist.envs.arguments import check_env_setting

    return check_env_setting(parts[1:], v)


def _value_problem(parts: tuple[str, ...], v: Any) -> str | None:
    """Why ``v`` is not allowed at the (non-env) setting path ``parts``, or None."""
    if not isinstance(v, (str, int, float, bool, list, Mapping)) and v is not None:
        return f"must be plain data (string, number, bool, null, list, mapping), got {v!r}"
    if _is_num(v) and not math.isfinite(v):
        return f"must be a finite number, got {v!r}"
    key = parts[-1]
    if _is_num(v) and _PROB_RE.search(key):
        return _num_in(v, 0.0, 1.0)
    if _is_num(v) and _NONNEG_RE.search(key):
        return _num_in(v, 0.0, None)
    return None


def check_setting(parts: tuple[str, ...], value: Any, loc: tuple[Any, ...], rep: Reporter) -> None:
    """Check ``value`` set at path ``parts``; recurse into mappings and lists.

    ``env_kwargs.*`` settings are checked by the env's own validator, whole.
    """
    if parts[0] == "env_kwargs" and len(parts) >= 2:
        for sub, msg in _env_problems(parts, value):
            rep.add((*loc, *sub[len(parts) - 1 :]), msg)
        return
    why = _value_problem(parts, value)
    if why:
        rep.add(loc, why)
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                rep.add(loc, f"keys must be strings, got {k!r}")
                continue
            check_setting((*parts, k), v, (*loc, k), rep)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_setting((*parts, str(i)), v, (*loc, i), rep)


def _check_settings(spec: SweepSpec, rep: Reporter) -> None:
    for root, base in (("policy_kwargs", spec.policy_kwargs), ("env_kwargs", spec.env_kwargs)):
        for k, v in base.items():
            check_setting((root, k), v, (root, k), rep)
    for key, values in spec.grid.items():
        if key == "policy":
            continue
        for i, v in enumerate(values):
            check_setting(tuple(key.split(".")), v, ("grid", key, i), rep)
    for i, var in enumerate(spec.variants):
        for key, v in var.settings:
            check_setting(tuple(key.split(".")), v, ("variants", i, key), rep)


def _check_names(spec: SweepSpec, rep: Reporter) -> None:
    """Policy names, env id and task names against the live registries (when importable)."""
    uses: list[tuple[str, tuple[Any, ...]]] = []
    if spec.policy is not None:
        uses.append((spec.policy, ("policy",)))
    uses += [(p, ("grid", "policy", i)) for i, p in enumerate(spec.grid.get("policy", []))]
    uses += [(v.policy, ("variants", i, "policy")) for i, v in enumerate(spec.variants) if v.policy]
    list_policies = _optional("proassist.policies", "list_policies")
    known = list(list_policies()) if list_policies else []
    for name, loc in uses:
        if not isinstance(name, str):
            rep.add(loc, f"a policy name must be a string, got {name!r}")
        elif known and name not in known:
            rep.add(loc, f"unknown policy {name!r}{did_you_mean(name, known)} (known: {known})")
    if spec.unit is not None:
        _check_unit(spec.unit, rep)
    _check_metrics(spec, rep)
    env_ids = _optional("proassist.envs", "ENV_IDS")
    if env_ids and spec.env not in env_ids:
        rep.add(("env",), f"unknown env {spec.env!r}{did_you_mean(spec.env, env_ids)}")
    _check_tasks(spec, rep)


def _check_metrics(spec: SweepSpec, rep: Reporter) -> None:
    """With the default (episode) unit, ``metrics`` must name registered metrics."""
    if spec.unit is not None or not spec.metrics:
        return
    list_metrics = _optional("proassist.analysis.metrics.scores", "list_metrics")
    known = list(list_metrics()) if list_metrics else []
    for i, name in enumerate(spec.metrics):
        if known and name not in known:
            rep.add(("metrics", i), f"unknown metric {name!r}{did_you_mean(name, known)}")


def _check_unit(ref: str, rep: Reporter) -> None:
    """The ``unit`` function must import (in this process, before any worker starts)."""
    from proassist.analysis.sweeps.backends import resolve_unit_fn

    try:
        resolve_unit_fn(ref)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        rep.add(("unit",), f"cannot load {ref!r}: {type(exc).__name__}: {exc}")


def _check_tasks(spec: SweepSpec, rep: Reporter) -> None:
    sets_task = "task" in spec.env_kwargs or "env_kwargs.task" in spec.grid
    sets_task = sets_task or any(
        k == "env_kwargs.task" for v in spec.variants for k, _ in v.settings
    )
    if spec.tasks and sets_task:
        rep.add(("tasks",), "give either 'tasks' or 'env_kwargs.task', not both")
    list_scenarios = _optional("proassist.scenarios", "list_scenarios")
    if not spec.tasks or list_scenarios is None:
        return
    m = re.match(r"^ProAssist-(\w+)-v\d+$", spec.env)
    known = list(list_scenarios(m.group(1).lower() if m else None))
    for i, task in enumerate(spec.tasks):
        if looks_like_path(task):
            if not Path(task).is_file():
                rep.add(("tasks", i), f"no such task file {task!r}")
        elif known and task not in known:
            rep.add(("tasks", i), f"unknown task {task!r}{did_you_mean(task, known)}")


def _kwarg_origin(spec: SweepSpec, origin: tuple[Any, ...], key: str) -> list[tuple[Any, ...]]:
    """Field paths that may set ``policy_kwargs.<key>`` of a configuration, most specific
    first: the variant's (nested or dotted) or the grid's, then the base mapping."""
    dotted = f"policy_kwargs.{key}"
    if origin[0] == "variants":
        keys = [k for k, _ in spec.variants[origin[1]].settings]
        paths = [(*origin, "policy_kwargs", key)]
    else:
        keys, paths = list(spec.grid), []
    paths += [(*origin, k) for k in keys if k == dotted or k.startswith(dotted + ".")]
    return [*paths, ("policy_kwargs", key)] if key in spec.policy_kwargs else paths


def _locate(rep: Reporter, candidates: list[tuple[Any, ...]], fallback: tuple[Any, ...]) -> Any:
    """The first candidate field path with a line in the file, else ``fallback``."""
    return next((c for c in candidates if c in rep.lines), fallback)


def _check_policy_kwargs(spec: SweepSpec, rep: Reporter) -> None:
    """Each configuration's policy kwargs against its policy's constructor, reported at
    the line that sets the argument (unknown names get "did you mean")."""
    check = _optional("proassist.policies.base", "check_policy_kwargs")
    if check is None or spec.unit is not None:  # a custom unit may read kwargs its own way
        return
    from proassist.analysis.sweeps.expand import configurations

    seen: set[tuple[Any, ...]] = set()
    for cfg in configurations(spec):
        if not isinstance(cfg.policy, str):
            continue
        for path, message in check(cfg.policy, cfg.policy_kwargs):
            key = str(path[0]) if path else ""
            loc = _locate(rep, _kwarg_origin(spec, cfg.origin, key), cfg.origin)
            if (loc, message) not in seen:
                seen.add((loc, message))
                rep.add(loc, message)


def check_spec_values(spec: SweepSpec, rep: Reporter) -> None:
    """Run every value check on ``spec``, adding problems to ``rep``."""
    from proassist.analysis.sweeps.expand import check_configurations

    _check_settings(spec, rep)
    _check_names(spec, rep)
    if not rep.problems:
        check_configurations(spec, rep)
    if not rep.problems:
        _check_policy_kwargs(spec, rep)
