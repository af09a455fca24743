"""Sweep files: schema, strict loading and validation.

A sweep file is YAML (read with ``yaml.safe_load``). Every problem in it is reported at
once, before anything runs, as a :class:`SweepSpecError` whose lines read
``FILE:LINE: field: message``.

Schema (top-level keys; anything else is an error)::

    name: duplex_vs_monolithic          # required; letters, digits, '_', '-', '.'
    env: ProAssist-Kitchen-v0           # required; a registered ProAssist-* env id
    episodes: {seeds: [0, 1, 2]}        # required; explicit seeds (ints >= 0, unique)
    # episodes: {start: 0, count: 20}   #   or a range: start >= 0 (default 0), count >= 1
    policy: duplex                      # optional default policy of every unit
    policy_kwargs: {planner: rule}      # optional base kwargs of every policy
    env_kwargs: {obs_modes: [rgb]}      # optional base kwargs of every env
    grid:                               # cartesian product of the listed values
      policy: [duplex, monolithic]
      policy_kwargs.planner_latency: [0.0, 1.0, 4.0]
      env_kwargs.deviation_rates.omission: [0.05, 0.2]
    variants:                           # explicit configurations, added to the grid's
      - {label: silent, policy: silent}
      - {policy: oracle, env_kwargs.privileged: true}
    tasks: [kitchen_tea, kitchen_salad] # optional; each becomes env_kwargs.task
    metrics: [g_mean, oop_recall]       # optional columns of the summary table
    unit: package.module:function       # optional unit function (default: one episode)
    plugins: [my_pkg.kinds, plugins/my_assistant.py]  # optional plugin modules or files

Rules:

- At least one of ``grid`` and ``variants``. ``grid`` maps *dotted paths* to non-empty
  lists of distinct values; a path is ``policy`` or starts with ``policy_kwargs.`` or
  ``env_kwargs.`` followed by identifier components (``env_kwargs.person.compliance``: a
  change to each task's own person; ``env_kwargs.person.base`` names a profile instead).
  Two grid paths may not overlap (one a prefix of the other).
- A variant is a mapping with optional ``label`` (string), ``policy`` (string),
  ``policy_kwargs`` / ``env_kwargs`` (mappings) and dotted paths as in ``grid``.
- Values set at a dotted path are merged into the base kwargs (mappings merge
  recursively, anything else replaces).
- Every configuration needs a policy (from ``grid``, the variant or ``policy``); policy
  names are checked against ``proassist.policies.list_policies()`` when it exists.
- Labels (given, or derived from the grid values / variant settings) are unique, and
  no two configurations are identical.
- A task (``tasks`` entries, ``env_kwargs.task`` anywhere) that looks like a path
  (``.yaml``/``.yml`` or a ``/``) is a task file, resolved relative to the sweep
  file's folder; use it with ``env: ProAssist-v0``.
- ``plugins`` (module names, or ``.py`` paths relative to the sweep file's folder) are
  loaded when the file is loaded (:func:`proassist.analysis.plugins.load_plugins`),
  before names are checked, so they may register policies, metrics and deviation
  kinds the file uses; the sweep's workers load them too.
- Numbers are finite; durations, latencies, delays, periods and sizes are >= 0;
  probabilities and deviation rates are in [0, 1]; ``env_kwargs`` keys are the
  arguments of ``ProAssistEnv`` (see :mod:`proassist.analysis.sweeps.checks`).

Expansion (:func:`proassist.analysis.sweeps.expand.expand_units`) is deterministic:
configurations (grid points in row-major order of the grid's keys, then variants) ×
tasks × seeds.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from proassist.analysis.plugins import PluginError, load_plugin, resolve_plugin
from proassist.analysis.sweeps.checks import check_spec_values
from proassist.scenarios.errors import Problem
from proassist.scenarios.library import looks_like_path

TOP_KEYS = (
    "name",
    "env",
    "episodes",
    "policy",
    "policy_kwargs",
    "env_kwargs",
    "grid",
    "variants",
    "tasks",
    "metrics",
    "unit",
    "plugins",
)
REQUIRED_KEYS = ("name", "env", "episodes")
VARIANT_KEYS = ("label", "policy", "policy_kwargs", "env_kwargs")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNIT_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

Path_ = tuple[Any, ...]


#: One problem of a sweep file: the same ``FILE:LINE: field: message`` record as the
#: scenario validator's.
SweepProblem = Problem


class SweepSpecError(ValueError):
    """A sweep file is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[SweepProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Variant:
    """One explicit configuration: ``label`` (None = derived), ``policy`` and settings."""

    label: str | None
    policy: str | None
    settings: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file (see the module docstring for the meaning of each field)."""

    name: str
    env: str
    seeds: tuple[int, ...]
    grid: dict[str, list[Any]] = field(default_factory=dict)
    variants: tuple[Variant, ...] = ()
    policy: str | None = None
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    tasks: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    unit: str | None = None
    source: str = "<string>"
    text: str = ""
    plugins: tuple[str, ...] = ()


class Reporter:
    """Collects problems, locating each by the YAML line of its field path."""

    def __init__(self, file: str, lines: dict[Path_, int]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[SweepProblem] = []

    def add(self, path: Path_, message: str) -> None:
        """Record ``message`` about the field at ``path`` (a tuple of keys/indices)."""
        self.problems.append(SweepProblem(self.file, self.line(path), field_name(path), message))

    def line(self, path: Path_) -> int:
        """The line of ``path``, or of its longest prefix that has one (1 at worst)."""
        for n in range(len(path), -1, -1):
            if tuple(path[:n]) in self.lines:
                return self.lines[tuple(path[:n])]
        return 1


def field_name(path: Path_) -> str:
    """Render a field path: ``('variants', 0, 'label')`` -> ``variants[0].label``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def _node_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], rep: Reporter) -> None:
    """Fill ``lines`` with the 1-based line of every field; report duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = getattr(key_node, "value", None)
            sub = (*path, key)
            if key in seen:
                lines[sub] = key_node.start_mark.line + 1
                rep.add(sub, "duplicate key")
            seen.add(key)
            lines.setdefault(sub, key_node.start_mark.line + 1)
            _node_lines(value_node, sub, lines, rep)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _node_lines(item, (*path, i), lines, rep)


def _parse_yaml(text: str, file: str) -> tuple[Any, Reporter]:
    """Parse ``text``; YAML syntax errors become problems (data is then ``None``)."""
    rep = Reporter(file, {(): 1})
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(str(x) for x in (getattr(exc, "context", None), exc.problem) if x)
        rep.problems.append(SweepProblem(file, line, "<yaml>", f"invalid YAML: {what or exc}"))
        return None, rep
    if node is not None:
        _node_lines(node, (), rep.lines, rep)
    return data, rep


def load_sweep(path_or_text: str | Path, *, is_text: bool = False) -> SweepSpec:
    """Load and validate a sweep file.

    Args:
        path_or_text: Path of a YAML sweep file, or its text when ``is_text``.
        is_text: Treat ``path_or_text`` as YAML text (errors name ``<string>``).

    Returns:
        The validated spec.

    Raises:
        SweepSpecError: With every problem found (``FILE:LINE: field: message``).
        FileNotFoundError: When the file does not exist.
    """
    if is_text:
        text, file = str(path_or_text), "<string>"
    else:
        file = str(path_or_text)
        text = Path(path_or_text).read_text(encoding="utf-8")
    data, rep = _parse_yaml(text, file)
    if rep.problems:
        raise SweepSpecError(rep.problems)
    spec = _build(data, rep, file, text)
    if rep.problems or spec is None:
        raise SweepSpecError(rep.problems)
    return spec


def validate_sweep(path: str | Path) -> list[SweepProblem]:
    """Return every problem of the sweep file at ``path`` (empty when valid)."""
    try:
        load_sweep(path)
    except SweepSpecError as exc:
        return exc.problems
    return []


def _build(data: Any, rep: Reporter, file: str, text: str) -> SweepSpec | None:
    """Check the document's structure and values; None when a required part is broken."""
    if not isinstance(data, Mapping):
        rep.add((), f"a sweep file must be a mapping, got {type(data).__name__}")
        return None
    for key in data:
        if key not in TOP_KEYS:
            rep.add((key,), f"unknown key; expected one of {', '.join(TOP_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in data:
            rep.add((), f"missing required key {key!r}")
    name = _str_field(data, "name", rep, pattern=_NAME_RE)
    env = _str_field(data, "env", rep)
    seeds = _seeds(data.get("episodes"), rep) if "episodes" in data else ()
    policy = _str_field(data, "policy", rep, required=False)
    base_pk = _mapping_field(data, ("policy_kwargs",), rep)
    base_ek = _mapping_field(data, ("env_kwargs",), rep)
    grid = _grid(data, rep)
    variants = _variants(data, rep)
    if "grid" not in data and "variants" not in data:
        rep.add((), "needs 'grid' or 'variants' (or both)")
    tasks = tuple(_str_list(data, "tasks", rep))
    metrics = tuple(_str_list(data, "metrics", rep))
    unit = _str_field(data, "unit", rep, required=False, pattern=_UNIT_RE)
    folder = _folder(file)
    plugins = tuple(resolve_plugin(p, folder) for p in _str_list(data, "plugins", rep))
    if rep.problems or name is None or env is None:
        return None
    _load_plugins(plugins, rep)
    tasks, base_ek, grid, variants = _resolve_tasks(folder, tasks, base_ek, grid, variants)
    spec = SweepSpec(
        name, env, seeds, grid, variants, policy, base_pk, base_ek, tasks, metrics, unit, file, text
    )
    spec = dataclasses.replace(spec, plugins=plugins)
    check_spec_values(spec, rep)
    return spec


def _folder(file: str) -> Path:
    """The folder relative paths of a sweep file resolve against (the cwd for text)."""
    return Path.cwd() if file == "<string>" else Path(file).resolve().parent


def _load_plugins(plugins: tuple[str, ...], rep: Reporter) -> None:
    """Load the file's plugins; a failure is a problem at ``plugins[i]``."""
    for i, plugin in enumerate(plugins):
        try:
            load_plugin(plugin)
        except PluginError as exc:
            rep.add(("plugins", i), str(exc))


def _task_path(task: Any, folder: Path) -> Any:
    """A task that looks like a path, made absolute against ``folder``; else as given."""
    if not isinstance(task, str) or not looks_like_path(task):
        return task
    path = Path(task).expanduser()
    return str(path if path.is_absolute() else (folder / path).resolve())


def _resolve_tasks(
    folder: Path,
    tasks: tuple[str, ...],
    base_ek: dict[str, Any],
    grid: dict[str, list[Any]],
    variants: tuple[Variant, ...],
) -> tuple[tuple[str, ...], dict[str, Any], dict[str, list[Any]], tuple[Variant, ...]]:
    """Resolve task file paths of ``tasks``, ``env_kwargs.task``, the grid and variants."""
    key = "env_kwargs.task"
    if "task" in base_ek:
        base_ek = {**base_ek, "task": _task_path(base_ek["task"], folder)}
    if key in grid:
        grid = {**grid, key: [_task_path(t, folder) for t in grid[key]]}
    variants = tuple(
        dataclasses.replace(
            v, settings=tuple((k, _task_path(x, folder) if k == key else x) for k, x in v.settings)
        )
        for v in variants
    )
    return tuple(_task_path(t, folder) for t in tasks), base_ek, grid, variants


def _str_field(
    data: Mapping[str, Any],
    key: str,
    rep: Reporter,
    *,
    required: bool = True,
    pattern: re.Pattern[str] | None = None,
) -> str | None:
    value = data.get(key)
    if value is None:
        if key in data and required:
            rep.add((key,), "must be a non-empty string, got nothing")
        return None
    if not isinstance(value, str) or not value.strip():
        rep.add((key,), f"must be a non-empty string, got {value!r}")
        return None
    if pattern is not None and not pattern.match(value):
        rep.add((key,), f"{value!r} does not match {pattern.pattern}")
        return None
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _seeds(value: Any, rep: Reporter) -> tuple[int, ...]:
    """Parse ``episodes``: ``{seeds: [...]}`` or ``{start: S, count: N}``."""
    path: Path_ = ("episodes",)
    if not isinstance(value, Mapping):
        rep.add(path, "must be a mapping {seeds: [...]} or {start: S, count: N}")
        return ()
    unknown = [k for k in value if k not in ("seeds", "start", "count")]
    for key in unknown:
        rep.add((*path, key), "unknown key; expected seeds, or start and count")
    if "seeds" in value:
        if "start" in value or "count" in value:
            rep.add(path, "give either 'seeds' or 'start'/'count', not both")
        return _seed_list(value["seeds"], rep)
    start, count = value.get("start", 0), value.get("count")
    if "count" not in value:
        rep.add(path, "needs 'seeds' (a list) or 'count' (with optional 'start')")
    if not _is_int(start) or start < 0:
        rep.add((*path, "start"), f"must be an integer >= 0, got {start!r}")
    if count is not None and (not _is_int(count) or count < 1):
        rep.add((*path, "count"), f"must be an integer >= 1, got {count!r}")
    ok = _is_int(start) and start >= 0 and _is_int(count) and count >= 1
    return tuple(range(start, start + count)) if ok else ()


def _seed_list(seeds: Any, rep: Reporter) -> tuple[int, ...]:
    path: Path_ = ("episodes", "seeds")
    if not isinstance(seeds, list) or not seeds:
        rep.add(path, f"must be a non-empty list of integers >= 0, got {seeds!r}")
        return ()
    out: list[int] = []
    for i, s in enumerate(seeds):
        if not _is_int(s) or s < 0:
            rep.add((*path, i), f"must be an integer >= 0, got {s!r}")
        elif s in out:
            rep.add((*path, i), f"duplicate seed {s}")
        else:
            out.append(s)
    return tuple(out)


def _mapping_field(data: Mapping[str, Any], path: Path_, rep: Reporter) -> dict[str, Any]:
    value = data.get(path[-1])
    if value is None:
        if path[-1] in data:
            rep.add(path, "must be a mapping, got nothing")
        return {}
    if not isinstance(value, Mapping):
        rep.add(path, f"must be a mapping, got {type(value).__name__}")
        return {}
    for key in value:
        if not isinstance(key, str) or not _IDENT_RE.match(key):
            rep.add((*path, key), f"key {key!r} must be an identifier")
    return dict(value)


def _str_list(data: Mapping[str, Any], key: str, rep: Reporter) -> list[str]:
    value = data.get(key)
    if key not in data:
        return []
    if not isinstance(value, list) or not value:
        rep.add((key,), f"must be a non-empty list of strings, got {value!r}")
        return []
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            rep.add((key, i), f"must be a non-empty string, got {item!r}")
        elif item in out:
            rep.add((key, i), f"duplicate {item!r}")
        else:
            out.append(item)
    return out


def check_dotted_path(path: Any) -> str | None:
    """Return why ``path`` is not a valid setting path, or None when it is."""
    if not isinstance(path, str):
        return f"must be a string path, got {path!r}"
    if path == "policy":
        return None
    parts = path.split(".")
    if parts[0] not in ("policy_kwargs", "env_kwargs"):
        return "a path is 'policy' or starts with 'policy_kwargs.' or 'env_kwargs.'"
    if len(parts) < 2:
        return f"{parts[0]!r} needs a key after it, e.g. '{parts[0]}.NAME'"
    bad = [p for p in parts[1:] if not _IDENT_RE.match(p)]
    if bad:
        return f"path components must be identifiers, got {bad[0]!r}"
    return None


def _grid(data: Mapping[str, Any], rep: Reporter) -> dict[str, list[Any]]:
    if "grid" not in data:
        return {}
    grid = data["grid"]
    if not isinstance(grid, Mapping) or not grid:
        rep.add(("grid",), "must be a non-empty mapping of path -> list of values")
        return {}
    out: dict[str, list[Any]] = {}
    for key, values in grid.items():
        why = check_dotted_path(key)
        if why:
            rep.add(("grid", key), why)
        elif not isinstance(values, list) or not values:
            rep.add(("grid", key), f"must be a non-empty list of values, got {values!r}")
        elif _has_duplicates(values):
            rep.add(("grid", key), "values must be distinct")
        else:
            out[key] = values
    _check_overlaps(list(out), ("grid",), rep)
    return out


def _has_duplicates(values: list[Any]) -> bool:
    keys = [yaml.safe_dump(v, sort_keys=True) for v in values]
    return len(set(keys)) != len(keys)


def _check_overlaps(paths: list[str], where: Path_, rep: Reporter) -> None:
    for a in paths:
        for b in paths:
            if a != b and b.startswith(a + "."):
                rep.add((*where, b), f"overlaps with {a!r} (one path is inside the other)")


def _variants(data: Mapping[str, Any], rep: Reporter) -> tuple[Variant, ...]:
    if "variants" not in data:
        return ()
    variants = data["variants"]
    if not isinstance(variants, list) or not variants:
        rep.add(("variants",), "must be a non-empty list of mappings")
        return ()
    return tuple(v for i, item in enumerate(variants) if (v := _variant(item, i, rep)) is not None)


def _variant(item: Any, i: int, rep: Reporter) -> Variant | None:
    path: Path_ = ("variants", i)
    if not isinstance(item, Mapping) or not item:
        rep.add(path, f"must be a non-empty mapping, got {item!r}")
        return None
    n_before = len(rep.problems)
    label, policy = item.get("label"), item.get("policy")
    if "label" in item and (not isinstance(label, str) or not label.strip()):
        rep.add((*path, "label"), f"must be a non-empty string, got {label!r}")
    if "policy" in item and (not isinstance(policy, str) or not policy.strip()):
        rep.add((*path, "policy"), f"must be a non-empty string, got {policy!r}")
    settings: list[tuple[str, Any]] = []
    for key, value in item.items():
        if key in ("label", "policy"):
            continue
        if key in ("policy_kwargs", "env_kwargs"):
            if isinstance(value, Mapping):
                settings.extend((f"{key}.{k}", v) for k, v in value.items())
            else:
                rep.add((*path, key), f"must be a mapping, got {type(value).__name__}")
            continue
        why = check_dotted_path(key)
        if why or key == "policy":
            rep.add((*path, key), f"unknown key; expected {', '.join(VARIANT_KEYS)} or a path")
        else:
            settings.append((key, value))
    for key, _ in settings:
        why = check_dotted_path(key)
        if why:
            rep.add((*path, key), why)
    _check_overlaps([k for k, _ in settings], path, rep)
    if len(rep.problems) > n_before:
        return None
    return Variant(label, policy, tuple(settings))


def is_finite_number(value: Any) -> bool:
    """True for int/float values that are finite (bools excluded)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
