"""A kitchen layout no assistant was trained on, and the five kitchen tasks in it.

``write_heldout(out)`` writes ``out/layouts/kitchen_b.yaml`` (the shipped kitchen
mirrored along x, so the fridge is on the right and the stove on the left, the table
moved 0.5 m to the side, other colours) and ``out/tasks/kitchen_*_b.yaml``: the five
built-in kitchen tasks, unchanged except their id and layout. Every assistant that
ships was trained on the shipped layouts only, so these measure generalisation to a
held-out layout. Run as a script, it also evaluates assistants on both layouts with the
same seeds and prints net assistance with 95 % CIs, and the held-out-minus-shipped
difference matched by task and seed::

    python examples/heldout_layout.py --out /tmp/heldout --seeds 0 36
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from proassist.scenarios.library import LAYOUTS_DIR, TASKS_DIR

TASKS = (
    "kitchen_pour_over_coffee",
    "kitchen_salad",
    "kitchen_sandwich",
    "kitchen_scrambled_eggs",
    "kitchen_tea",
)
COLOURS = {
    "counter": [0.70, 0.74, 0.80, 1.0],
    "table": [0.35, 0.30, 0.28, 1.0],
    "shelf": [0.80, 0.80, 0.78, 1.0],
    "stove": [0.85, 0.85, 0.88, 1.0],
}
TABLE_SHIFT = 0.5


def heldout_layout() -> dict[str, Any]:
    """The shipped kitchen, mirrored along x, its table moved, recoloured."""
    layout = yaml.safe_load((LAYOUTS_DIR / "kitchen.yaml").read_text())
    layout["id"] = "kitchen_b"
    layout["floor_color"] = [0.45, 0.47, 0.52, 1.0]
    layout["wall_color"] = [0.80, 0.86, 0.80, 1.0]
    for fx in layout["fixtures"]:
        shift = TABLE_SHIFT if fx["id"] == "table" else 0.0
        fx["position"][0] = -fx["position"][0] + shift
        fx["stand"][0] = -fx["stand"][0] + shift
        fx["color"] = COLOURS.get(fx["id"], fx["color"])
    return layout


def write_heldout(out: Path) -> list[Path]:
    """Write the held-out layout and the five kitchen tasks in it; return the tasks."""
    (out / "layouts").mkdir(parents=True, exist_ok=True)
    (out / "tasks").mkdir(parents=True, exist_ok=True)
    (out / "layouts" / "kitchen_b.yaml").write_text(yaml.safe_dump(heldout_layout()))
    paths = []
    for name in TASKS:
        task = yaml.safe_load((TASKS_DIR / f"{name}.yaml").read_text())
        task["id"], task["layout"] = f"{name}_b", "kitchen_b"
        path = out / "tasks" / f"{name}_b.yaml"
        path.write_text(yaml.safe_dump(task, sort_keys=False))
        paths.append(path)
    return paths


def evaluate_layouts(
    out: Path, seeds: range, rows: dict[str, tuple[str, Any]], **env_kwargs: Any
) -> dict[str, dict[str, list[Any]]]:
    """Each row's per-episode net assistance on both layouts (same tasks and seeds, in
    the same order), their difference and the ``pairs`` ((task, seed), in that order);
    printed with 95 % CIs and returned."""
    import numpy as np

    from proassist.analysis.evaluation import evaluate
    from proassist.analysis.metrics.closed_loop import net_assistance_value
    from proassist.analysis.metrics.stats import bootstrap_ci

    tasks = {"shipped": list(TASKS), "held-out": [str(p) for p in write_heldout(out)]}
    result: dict[str, dict[str, list[Any]]] = {}
    for row, (policy, kwargs) in rows.items():
        nets: dict[str, list[Any]] = {}
        keys: dict[str, list[tuple[str, int]]] = {}
        for layout, names in tasks.items():
            nets[layout], keys[layout] = [], []
            for task in names:
                ev = evaluate(
                    policy, "ProAssist-v0", seeds, policy_kwargs=kwargs, task=task, **env_kwargs
                )
                silent = {r["seed"]: r for r in ev.silent_records}
                nets[layout] += [net_assistance_value(r, silent[r["seed"]]) for r in ev.records]
                keys[layout] += [(r["task"].removesuffix("_b"), r["seed"]) for r in ev.records]
        if keys["held-out"] != keys["shipped"]:  # the difference pairs episodes by position
            raise RuntimeError("the two layouts' episodes are not in the same (task, seed) order")
        nets["held-out minus shipped"] = list(np.subtract(nets["held-out"], nets["shipped"]))
        nets["pairs"] = keys["shipped"]
        for name, values in nets.items():
            if name == "pairs":
                continue
            lo, hi = bootstrap_ci(values)
            print(f"{row:24s} {name:22s} {np.mean(values):+.3f} [{lo:+.3f}, {hi:+.3f}]")
        result[row] = nets
    return result


def main() -> None:
    """Write the held-out tasks and evaluate the sanity table's two step-watch rows."""
    from proassist.analysis.sanity import ROWS, resolve_kwargs

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=Path("heldout_layout"), help="where the files go"
    )
    parser.add_argument("--seeds", type=int, nargs=2, default=(0, 36), metavar=("FROM", "TO"))
    args = parser.parse_args()
    wanted = ("stepwatch+learned", "step-oracle+learned")
    rows = {r.label: (r.policy, resolve_kwargs(r.kwargs)) for r in ROWS if r.label in wanted}
    evaluate_layouts(args.out, range(*args.seeds), rows)


if __name__ == "__main__":
    main()
