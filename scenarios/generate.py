"""Procedural tasks: random, valid procedures over any layout's fixtures.

A generated task is an ordinary task document (the dict a task YAML file holds), so
it is written to a file and loaded, validated and run like a library task. It draws,
from one seed:

- 3-5 *main* objects (a colour and a noun: "red jar"), each starting on a fixture,
  some with a look-alike (a substitution's alternative);
- per object a *fetch* step (take it to the work fixture) and 0-2 *process* steps
  (wash, cut, fill with an amount, let it rest for a minimum time, ...), some at
  another fixture (a station);
- sometimes a device (turn on at a setting, wait, turn off: a safety-critical step);
- *combine* steps putting objects into one container, and a final step bringing it
  to a destination fixture;
- sometimes an optional side branch (an object fetched and processed, not in the goal).

Steps are ordered by ``after`` (a DAG with real freedom: objects are independent until
they are combined) and ``requires``; every deviation kind of the library has steps it
applies to in most tasks. The goal is the end state of the plan without its optional
steps. Use it to train and test on more varied procedures than the library's ten
(``proassist scenarios generate``), or in property tests over random procedures.

Example::

    from proassist.scenarios import load_layout, load_scenario
    from proassist.scenarios.generate import generate_task, write_task

    doc = generate_task(load_layout("kitchen"), seed=3, domain="kitchen")
    path = write_task(doc, "my_tasks")          # my_tasks/kitchen_gen_3.yaml
    scenario = load_scenario(path)              # validated like any task file
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from proassist.scenarios.model import DEVIATION_KINDS, Layout

__all__ = ["generate_task", "generate_tasks", "write_task"]

#: Noun -> (shape, size) of a generated object (size as in ``ObjectSpec.size``).
NOUNS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "jar": ("cylinder", (0.04, 0.06, 0.04)),
    "bottle": ("cylinder", (0.035, 0.09, 0.035)),
    "can": ("cylinder", (0.035, 0.05, 0.035)),
    "bowl": ("cylinder", (0.07, 0.035, 0.07)),
    "box": ("box", (0.06, 0.05, 0.04)),
    "tray": ("box", (0.1, 0.07, 0.015)),
    "block": ("box", (0.05, 0.04, 0.03)),
    "case": ("box", (0.07, 0.05, 0.03)),
    "pack": ("box", (0.04, 0.06, 0.02)),
    "ball": ("sphere", (0.04, 0.04, 0.04)),
}
#: Colour name -> RGB of a generated object.
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.8, 0.15, 0.1),
    "blue": (0.2, 0.4, 0.85),
    "green": (0.25, 0.65, 0.3),
    "yellow": (0.95, 0.85, 0.2),
    "white": (0.95, 0.95, 0.95),
    "black": (0.12, 0.12, 0.12),
    "orange": (0.95, 0.55, 0.1),
    "purple": (0.55, 0.3, 0.7),
    "grey": (0.55, 0.55, 0.58),
    "brown": (0.5, 0.33, 0.18),
}
#: Process verb -> the predicate it makes true of its object.
PROCESSES: dict[str, str] = {
    "wash": "washed",
    "cut": "cut",
    "clean": "cleaned",
    "tighten": "tightened",
    "check": "checked",
    "open": "open",
    "label": "labelled",
    "polish": "polished",
    "dry": "dried",
    "mix": "mixed",
}
#: The settings a device step may ask for (``setting`` deviations pick a neighbour).
SETTINGS: tuple[str, ...] = ("low", "medium", "high")
#: Smallest top area (half-extent product, m²) of a fixture objects rest on.
MIN_AREA = 0.035
#: Rate of each registered deviation kind (plugin kinds included) in a generated task.
RATE = 0.04


@dataclass
class _Draft:
    """A task under construction: objects, steps, where each object is now."""

    rng: np.random.Generator
    work: str
    places: list[str]
    objects: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)
    last: dict[str, str] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    made: set[str] = field(default_factory=set)

    def name(self, oid: str) -> str:
        return next(o["name"] for o in self.objects if o["id"] == oid)

    def duration(self, lo: float, hi: float) -> dict[str, float]:
        mean = round(float(self.rng.uniform(lo, hi)), 1)
        return {"mean": mean, "std": round(0.25 * mean, 2), "min": round(0.4 * mean, 1)}

    def add(self, step: dict[str, Any], obj: str | None, optional: bool = False) -> str:
        """Append ``step`` (after ``obj``'s last step); it becomes ``obj``'s last step."""
        if obj is not None and obj in self.last:
            step["after"] = sorted({*step.get("after", ()), self.last[obj]})
        if optional:
            step["optional"] = True
        self.steps.append(step)
        if obj is not None:
            self.last[obj] = step["id"]
        return step["id"]


def _say(fixture: str) -> str:
    """A fixture id as spoken ("tool_board" -> "tool board")."""
    return fixture.replace("_", " ")


def _fixtures(layout: Layout) -> list[str]:
    """Fixtures objects can rest on (top area at least ``MIN_AREA``)."""
    return [f.id for f in layout.fixtures if f.size[0] * f.size[1] >= MIN_AREA]


def _new_object(d: _Draft, used: set[tuple[str, str]], noun: str | None = None) -> dict:
    """A fresh object (colour + noun not yet used) starting on a fixture other than work;
    ``noun`` when it has a colour left, else any noun."""
    nouns, colours = list(NOUNS), list(COLOURS)
    if noun is not None and not _free(noun, used):
        noun = None
    while True:
        n = noun or nouns[int(d.rng.integers(len(nouns)))]
        c = colours[int(d.rng.integers(len(colours)))]
        if (c, n) not in used:
            break
    used.add((c, n))
    shape, size = NOUNS[n]
    scale = float(d.rng.uniform(0.85, 1.15))
    starts = [p for p in d.places if p != d.work]
    obj = {
        "id": f"{c}_{n}",
        "name": f"{c} {n}",
        "shape": shape,
        "size": [round(s * scale, 3) for s in size],
        "color": [*COLOURS[c], 1.0],
        "category": "part",
        "start": starts[int(d.rng.integers(len(starts)))],
    }
    d.objects.append(obj)
    d.where[obj["id"]] = obj["start"]
    return obj


def _free(noun: str, used: set[tuple[str, str]]) -> bool:
    """Whether some colour of ``noun`` is not used yet."""
    return any((c, noun) not in used for c in COLOURS)


def _move(d: _Draft, oid: str, to: str) -> list[str]:
    """Effects moving ``oid`` from where it is to ``to``."""
    was, d.where[oid] = d.where[oid], to
    return [f"at({oid},{to})", f"not at({oid},{was})"]


def _step(
    sid: str, text: str, objects: list[str], at: str, effects: list[str], cues: tuple[str, str]
) -> dict[str, Any]:
    """A step document (keys in the library's order; add ``after``, ``params`` ... after)."""
    return {
        "id": sid,
        "instruction": text,
        "objects": objects,
        "location": at,
        "effects": effects,
        "done_cue": cues[0],
        "todo_cue": cues[1],
    }


def _fetch(d: _Draft, oid: str, optional: bool = False) -> None:
    name, start = d.name(oid), d.where[oid]
    text = f"Take the {name} from the {_say(start)} to the {_say(d.work)}."
    cues = f"{name} on the {_say(d.work)}", f"{name} still on the {_say(start)}"
    step = _step(f"fetch_{oid}", text, [oid], start, _move(d, oid, d.work), cues)
    d.add({**step, "duration": d.duration(3, 7)}, oid, optional)


def _process(d: _Draft, oid: str, optional: bool = False) -> None:
    """A process step on ``oid``: a verb, maybe at a station, an amount or a minimum time."""
    verbs = [v for v in PROCESSES if f"{PROCESSES[v]}({oid})" not in d.made]
    verb = verbs[int(d.rng.integers(len(verbs)))]
    pred, name, rng, was = f"{PROCESSES[verb]}({oid})", d.name(oid), d.rng, d.state.get(oid)
    effects, at = [pred], d.where[oid]
    if rng.random() < 0.35:
        at = d.places[int(rng.integers(len(d.places)))]
        effects += _move(d, oid, at) if at != d.where[oid] else []
    text, kind = f"{verb.capitalize()} the {name}", rng.random()
    extra: dict[str, Any] = {"duration": d.duration(3, 9)}
    if kind < 0.25:
        value = int(rng.choice([50, 100, 200, 250, 500]))
        extra["params"] = {"amount": f"{value} ml", "amount_value": value}
        text += f" with {value} ml"
    elif kind < 0.45:
        wait = int(rng.integers(8, 16))
        extra.update(params={"min_time": wait}, duration=_wait(wait, 1.5))
        text += f" and let it rest for {wait} seconds"
    if was:
        extra["requires"] = [was]
    cues = f"{name} {PROCESSES[verb]}", f"{name} not yet {PROCESSES[verb]}"
    step = _step(f"{verb}_{oid}", f"{text} at the {_say(at)}.", [oid], at, effects, cues)
    d.state[oid] = pred
    d.made.add(pred)
    d.add({**step, **extra}, oid, optional)


def _wait(seconds: int, std: float) -> dict[str, float]:
    """The duration of a step that lasts ``seconds`` (a ``min_time``)."""
    return {"mean": float(seconds), "std": std, "min": round(0.7 * seconds, 1)}


def _device(d: _Draft, used: set[tuple[str, str]]) -> str:
    """A device: turned on at a setting, run for a minimum time, turned off (safety)."""
    obj = _new_object(d, used, noun="box")
    oid, name = obj["id"], obj["name"]
    obj["category"] = "appliance"
    _fetch(d, oid)
    setting = SETTINGS[int(d.rng.integers(len(SETTINGS)))]
    on, wait, at = f"switched_on({oid})", int(d.rng.integers(10, 18)), d.work
    text = f"Turn the {name} on to {setting}."
    step = _step(f"turn_on_{oid}", text, [oid], at, [on], (f"{name} running", f"{name} still off"))
    d.add({**step, "params": {"setting": setting}, "duration": d.duration(2, 4)}, oid)
    text, cues = (
        f"Let the {name} run for {wait} seconds.",
        (f"{name} finished its run", f"{name} still running"),
    )
    step = _step(f"run_{oid}", text, [oid], at, [f"heated({oid})"], cues)
    d.add(
        {**step, "requires": [on], "params": {"min_time": wait}, "duration": _wait(wait, 2.0)}, oid
    )
    cues = f"{name} off", f"{name} still running"
    step = _step(
        f"turn_off_{oid}", f"Turn the {name} off.", [oid], at, [f"not {on}", f"off({oid})"], cues
    )
    extra = {"requires": [on], "safety_critical": True, "duration": d.duration(2, 4)}
    return d.add({**step, **extra}, oid)


def _combine(d: _Draft, oid: str, into: str) -> None:
    name, target, at = d.name(oid), d.name(into), d.where[into]
    text = f"Put the {name} into the {target} at the {_say(at)}."
    effects = [f"in({oid},{into})", f"not at({oid},{d.where[oid]})"]
    cues = f"{name} inside the {target}", f"{name} beside the {target}"
    step = _step(f"put_{oid}_in_{into}", text, [oid, into], at, effects, cues)
    d.add({**step, "after": [d.last[into]], "duration": d.duration(3, 6)}, oid)
    d.where[oid] = into


def _finish(d: _Draft, into: str, dest: str, waits: list[str]) -> None:
    """The last step: bring the container to ``dest`` after every combine and device."""
    name, was = d.name(into), d.where[into]
    cues = f"{name} on the {_say(dest)}", f"{name} still on the {_say(was)}"
    step = _step(
        f"bring_{into}",
        f"Bring the {name} to the {_say(dest)}.",
        [into],
        dest,
        _move(d, into, dest),
        cues,
    )
    after = sorted({*(s["id"] for s in d.steps if s["id"].startswith("put_")), *waits})
    d.add({**step, "after": after, "duration": d.duration(4, 7)}, into)


def _lookalikes(d: _Draft, mains: list[str], used: set[tuple[str, str]]) -> None:
    """Give some main objects a look-alike (same noun, other colour) on the same fixture."""
    for oid in mains:
        noun = oid.split("_", 1)[1]
        if d.rng.random() < 0.4 and _free(noun, used):
            obj = next(o for o in d.objects if o["id"] == oid)
            alt = _new_object(d, used, noun=noun)
            alt["start"] = d.where[alt["id"]] = obj["start"]
            obj["alternatives"] = [alt["id"]]


def _goal(doc: dict[str, Any]) -> list[str]:
    """The end state of the plan without its optional steps (its steps' own effects)."""
    from proassist.scenarios.validation.reachability import simulate

    initial = {f"at({o['id']},{o['start']})" for o in doc["objects"]}
    final = simulate(doc, initial, skip_optional=True).state
    made = {p for s in doc["steps"] if not s.get("optional") for p in s["effects"]}
    return sorted(final & made)


def _plan(d: _Draft) -> None:
    """Objects, fetch/process steps, a device, combines, the last step, a side branch."""
    rng, used = d.rng, set()
    mains = [_new_object(d, used)["id"] for _ in range(int(rng.integers(3, 6)))]
    for oid in mains:
        _fetch(d, oid)
        for _ in range(int(rng.integers(0, 3))):
            _process(d, oid)
    waits = [_device(d, used)] if rng.random() < 0.6 else []
    into, rest = mains[0], mains[1:]
    next(o for o in d.objects if o["id"] == into)["category"] = "container"
    chosen = [o for o in rest if rng.random() < 0.7] or rest[:1]
    for oid in chosen:
        _combine(d, oid, into)
    dests = [p for p in d.places if p != d.where[into]]
    _finish(d, into, dests[int(rng.integers(len(dests)))], waits)
    if rng.random() < 0.5:
        side = _new_object(d, used)["id"]
        _fetch(d, side, optional=True)
        _process(d, side, optional=True)
    _lookalikes(d, mains, used)


def generate_task(layout: Layout, seed: int, *, domain: str, task_id: str | None = None) -> dict:
    """A random, valid task document over ``layout``'s fixtures (module docstring).

    Args:
        layout: The layout whose fixtures the task uses (``load_layout(name)``).
        seed: Everything is drawn from ``np.random.default_rng([seed, crc32(layout.id)])``
            (so one seed gives unrelated tasks on two layouts).
        domain: The task's domain (an identifier); its id starts with ``domain_``.
        task_id: The id (and file stem); default ``{domain}_gen_{seed}``.

    Returns:
        The task document (what ``write_task`` writes and ``load_scenario`` validates).

    Raises:
        ValueError: The layout has fewer than three fixtures objects can rest on.
    """
    places = _fixtures(layout)
    if len(places) < 3:
        raise ValueError(
            f"layout {layout.id!r} has {len(places)} fixtures with a top area >= "
            f"{MIN_AREA} m² (half-extents); a generated task needs at least 3"
        )
    rng = np.random.default_rng([seed, zlib.crc32(layout.id.encode())])
    area = np.array([f.size[0] * f.size[1] for f in layout.fixtures if f.id in places])
    d = _Draft(rng, places[int(rng.choice(len(places), p=area / area.sum()))], places)
    _plan(d)
    doc: dict[str, Any] = {
        "id": task_id or f"{domain}_gen_{seed}",
        "domain": domain,
        "title": f"Generated procedure {seed} ({layout.id})",
        "goal": next(s["instruction"] for s in d.steps if s["id"].startswith("bring_")),
        "layout": layout.id,
        "max_duration": max(180, int(3 * sum(s["duration"]["mean"] for s in d.steps))),
        "person": "typical",
        "objects": d.objects,
        "initial": [],
        "steps": d.steps,
        "deviations": {"max_random": 2, "rates": {k: RATE for k in DEVIATION_KINDS.names()}},
    }
    doc["goal_predicates"] = _goal(doc)
    return doc


def write_task(doc: dict[str, Any], folder: str | Path) -> Path:
    """Write ``doc`` to ``folder/<id>.yaml`` (folder created) and return the path."""
    path = Path(folder) / f"{doc['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(doc, sort_keys=False, width=100, default_flow_style=None), encoding="utf-8"
    )
    return path


def generate_tasks(
    layout: Layout,
    seeds: range | list[int],
    folder: str | Path,
    *,
    domain: str,
    layout_file: str | Path | None = None,
) -> list[Path]:
    """Generate and write one task per seed; the paths, in seed order.

    ``layout_file``: the file ``layout`` was loaded from, when it is not in the library;
    the tasks then name it by its path relative to ``folder``, so they load anywhere.
    """
    paths = []
    for s in seeds:
        doc = generate_task(layout, int(s), domain=domain)
        if layout_file is not None:
            doc["layout"] = os.path.relpath(Path(layout_file).resolve(), Path(folder).resolve())
        paths.append(write_task(doc, folder))
    return paths
