"""Expansion of a sweep spec into units of work.

A *configuration* is a policy with its kwargs and env kwargs; a *unit* is one
configuration × task × seed: exactly one episode. Expansion is deterministic: grid points
in row-major order of the grid's keys (the last key varies fastest), then the variants,
each × tasks × seeds. ``unit_id`` is a hash of what the episode depends on (env id,
policy, policy kwargs, env kwargs, seed), so it does not change when the file is
reformatted, labels are renamed or other configurations are added.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from proassist.analysis.sweeps.spec import Reporter, SweepSpec


@dataclass(frozen=True)
class Config:
    """One configuration: ``label``, ``policy``, its kwargs and env kwargs; ``origin`` is
    the YAML field path that defined it (for error messages)."""

    label: str
    policy: str | None
    policy_kwargs: dict[str, Any]
    env_kwargs: dict[str, Any]
    origin: tuple[Any, ...]


def canonical_json(obj: Any) -> str:
    """Compact JSON with sorted keys (the form hashed into unit ids)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def unit_id_of(env_id: str, policy: str, policy_kwargs: Any, env_kwargs: Any, seed: int) -> str:
    """A stable 16-hex-digit id of one episode's inputs."""
    key = {
        "env_id": env_id,
        "policy": policy,
        "policy_kwargs": policy_kwargs,
        "env_kwargs": env_kwargs,
        "seed": seed,
    }
    return hashlib.sha256(canonical_json(key).encode()).hexdigest()[:16]


def deep_set(target: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``target[path[0]][path[1]]... = value``; mappings merge recursively.

    Raises:
        ValueError: When an intermediate value exists and is not a mapping.
    """
    node = target
    for i, key in enumerate(path[:-1]):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ValueError(f"'{'.'.join(path[: i + 1])}' is {child!r}, not a mapping")
        node = child
    leaf = path[-1]
    if isinstance(value, Mapping) and isinstance(node.get(leaf), dict):
        for k, v in value.items():
            deep_set(node, [leaf, k], v)
    else:
        node[leaf] = copy.deepcopy(value)


def format_value(value: Any) -> str:
    """Short text of a setting value for labels."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def short_names(paths: list[str]) -> dict[str, str]:
    """Last component of each dotted path, or the path without its root when ambiguous."""
    last = [p.split(".")[-1] for p in paths]
    return {
        p: (short if last.count(short) == 1 else p.split(".", 1)[-1])
        for p, short in zip(paths, last, strict=True)
    }


def _make_config(
    spec: SweepSpec, policy: str | None, settings: list[tuple[str, Any]], label: str, origin: Any
) -> Config:
    kwargs = {
        "policy_kwargs": copy.deepcopy(spec.policy_kwargs),
        "env_kwargs": copy.deepcopy(spec.env_kwargs),
    }
    for path, value in settings:
        root, *rest = path.split(".")
        deep_set(kwargs[root], rest, value)
    return Config(label, policy, kwargs["policy_kwargs"], kwargs["env_kwargs"], origin)


def _auto_label(policy: str | None, settings: list[tuple[str, Any]], names: dict[str, str]) -> str:
    parts = [policy] if policy else []
    parts += [f"{names.get(p, p.split('.')[-1])}={format_value(v)}" for p, v in settings]
    return ",".join(parts) or "default"


def _grid_configs(spec: SweepSpec) -> list[Config]:
    if not spec.grid:
        return []
    keys = list(spec.grid)
    names = short_names([k for k in keys if k != "policy"])
    out = []
    for values in itertools.product(*(spec.grid[k] for k in keys)):
        point = dict(zip(keys, values, strict=True))
        policy = point.pop("policy", spec.policy)
        settings = list(point.items())
        label_policy = policy if "policy" in spec.grid else None
        label = _auto_label(label_policy, settings, names)
        out.append(_make_config(spec, policy, settings, label, ("grid",)))
    return out


def configurations(spec: SweepSpec) -> list[Config]:
    """Every configuration of ``spec``: grid points, then variants."""
    out = _grid_configs(spec)
    for i, var in enumerate(spec.variants):
        policy = var.policy or spec.policy
        settings = list(var.settings)
        names = short_names([k for k, _ in settings])
        label = var.label or _auto_label(var.policy, settings, names)
        out.append(_make_config(spec, policy, settings, label, ("variants", i)))
    return out


def check_configurations(spec: SweepSpec, rep: Reporter) -> None:
    """Report missing policies, unmergeable settings, duplicate labels and duplicates."""
    try:
        configs = configurations(spec)
    except ValueError as exc:
        rep.add(("grid",) if spec.grid else ("variants",), f"cannot merge settings: {exc}")
        return
    labels: dict[str, Config] = {}
    seen: dict[str, Config] = {}
    for cfg in configs:
        if cfg.policy is None:
            rep.add(cfg.origin, "no policy: set 'policy' at the top, in the grid or here")
        if cfg.label in labels:
            rep.add((*cfg.origin, "label"), f"duplicate label {cfg.label!r}")
        labels.setdefault(cfg.label, cfg)
        key = canonical_json([cfg.policy, cfg.policy_kwargs, cfg.env_kwargs])
        if key in seen:
            rep.add(cfg.origin, f"same configuration as {seen[key].label!r}")
        seen.setdefault(key, cfg)


def expand_units(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every unit of ``spec`` in a deterministic order.

    Returns:
        Dicts with ``unit_id``, ``label``, ``policy``, ``policy_kwargs``, ``env_id``,
        ``env_kwargs`` (with ``task`` when the spec lists tasks) and ``seed``.
    """
    units = []
    for cfg in configurations(spec):
        for task in spec.tasks or (None,):
            env_kwargs = copy.deepcopy(cfg.env_kwargs)
            if task is not None:
                env_kwargs["task"] = task
            for seed in spec.seeds:
                uid = unit_id_of(spec.env, cfg.policy, cfg.policy_kwargs, env_kwargs, seed)
                units.append(
                    {
                        "unit_id": uid,
                        "label": cfg.label,
                        "policy": cfg.policy,
                        "policy_kwargs": copy.deepcopy(cfg.policy_kwargs),
                        "env_id": spec.env,
                        "env_kwargs": env_kwargs,
                        "seed": seed,
                    }
                )
    return units
