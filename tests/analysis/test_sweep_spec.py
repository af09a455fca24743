"""Sweep files: strict validation with FILE:LINE: field: message, and expansion."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.analysis.cli import main as cli_main
from proassist.analysis.sweeps.expand import expand_units, unit_id_of
from proassist.analysis.sweeps.runner import run_sweep
from proassist.analysis.sweeps.spec import SweepSpecError, load_sweep

SWEEPS = Path(__file__).resolve().parents[2] / "analysis" / "sweeps" / "examples"

GOOD = """\
name: ok
env: ProAssist-Kitchen-v0
episodes: {seeds: [0, 1]}
grid:
  policy: [spam-correct, periodic]
  policy_kwargs.period: [5.0]
"""

# (yaml text, field, line, substring of the message)
BROKEN = [
    (GOOD + "colour: red\n", "colour", 7, "unknown key"),
    (GOOD.replace("name: ok", "name: 'a b'"), "name", 1, "does not match"),
    (GOOD.replace("env: ProAssist-Kitchen-v0\n", ""), "<root>", 1, "missing required key 'env'"),
    (GOOD.replace("ProAssist-Kitchen-v0", "ProAssist-Kitchn-v0"), "env", 2, "did you mean"),
    (GOOD.replace("{seeds: [0, 1]}", "{seeds: [0, -1]}"), "episodes.seeds[1]", 3, ">= 0"),
    (GOOD.replace("{seeds: [0, 1]}", "{seeds: [1, 1]}"), "episodes.seeds[1]", 3, "duplicate"),
    (GOOD.replace("{seeds: [0, 1]}", "{count: 0}"), "episodes.count", 3, ">= 1"),
    (GOOD.replace("{seeds: [0, 1]}", "{count: 2.5}"), "episodes.count", 3, "integer"),
    (GOOD.replace("{seeds: [0, 1]}", "{seeds: [0], count: 3}"), "episodes", 3, "either"),
    (
        GOOD.replace("[spam-correct, periodic]", "[spam-correct, periodc]"),
        "grid.policy[1]",
        5,
        "did you mean",
    ),
    (GOOD.replace("[5.0]", "[]"), "grid.policy_kwargs.period", 6, "non-empty list"),
    (GOOD.replace("[5.0]", "[5.0, 5.0]"), "grid.policy_kwargs.period", 6, "distinct"),
    (GOOD.replace("[5.0]", "[-1.0]"), "grid.policy_kwargs.period[0]", 6, "[0.0, inf]"),
    (GOOD.replace("[5.0]", "[.nan]"), "grid.policy_kwargs.period[0]", 6, "finite"),
    (
        GOOD.replace("policy_kwargs.period", "policy_kwargs..period"),
        "grid.policy_kwargs..period",
        6,
        "identifiers",
    ),
    (
        GOOD.replace("policy_kwargs.period", "polcy_kwargs.period"),
        "grid.polcy_kwargs.period",
        6,
        "starts with",
    ),
    (
        GOOD.replace("policy_kwargs.period: [5.0]", "env_kwargs.obs_modes: [[rgb, rgbd]]"),
        "grid.env_kwargs.obs_modes[0][1]",
        6,
        "unknown mode 'rgbd'",
    ),
    (
        GOOD.replace("policy_kwargs.period: [5.0]", "env_kwargs.widht: [64]"),
        "grid.env_kwargs.widht[0]",
        6,
        "did you mean 'width'",
    ),
    (
        GOOD.replace("policy_kwargs.period: [5.0]", "env_kwargs.deviation_rates.omission: [1.5]"),
        "grid.env_kwargs.deviation_rates.omission[0]",
        6,
        "[0.0, 1.0]",
    ),
    (
        GOOD.replace("policy_kwargs.period: [5.0]", "env_kwargs.person.complience: [0.5]"),
        "grid.env_kwargs.person.complience[0]",
        6,
        "did you mean 'compliance'",
    ),
    (
        GOOD.replace("policy_kwargs.period: [5.0]", "env_kwargs.decision_dt: [0]"),
        "grid.env_kwargs.decision_dt[0]",
        6,
        "(0.0, inf]",
    ),
    (
        GOOD.replace(
            "grid:\n  policy: [spam-correct, periodic]\n  policy_kwargs.period: [5.0]\n",
            "grid: {}\n",
        ),
        "grid",
        4,
        "non-empty mapping",
    ),
    (
        GOOD.replace(
            "grid:\n  policy: [spam-correct, periodic]\n  policy_kwargs.period: [5.0]\n", ""
        ),
        "<root>",
        1,
        "needs 'grid' or 'variants'",
    ),
    (
        GOOD + "variants:\n  - {label: 'spam-correct,period=5.0', policy: silent}\n",
        "variants[0].label",
        8,
        "duplicate label",
    ),
    (
        GOOD + "variants:\n  - {label: x, policy: spam-correct, policy_kwargs.period: 5.0}\n",
        "variants[0]",
        8,
        "same configuration",
    ),
    (GOOD + "variants:\n  - {label: x, polcy: silent}\n", "variants[0].polcy", 8, "unknown key"),
    (GOOD + "tasks: [kitchen_tee]\n", "tasks[0]", 7, "did you mean 'kitchen_tea'"),
    (GOOD + "metrics: [g_mean, g_mean]\n", "metrics[1]", 7, "duplicate"),
    (GOOD + "metrics: [g_mean, g_meen]\n", "metrics[1]", 7, "did you mean 'g_mean'"),
    (GOOD + "unit: not-a-path\n", "unit", 7, "does not match"),
    (GOOD + "unit: test_sweep_helpers:no_such_fn\n", "unit", 7, "cannot load"),
    (GOOD + "tasks: [kitchen_tea]\nenv_kwargs: {task: kitchen_tea}\n", "tasks", 7, "not both"),
    (GOOD + "name: again\n", "name", 7, "duplicate key"),
    (
        GOOD.replace(
            "policy: [spam-correct, periodic]", "env_kwargs.deviation_rates: [{omission: 0.1}]"
        )
        + "  env_kwargs.deviation_rates.order: [0.1]\n",
        "grid.env_kwargs.deviation_rates.order",
        7,
        "overlaps",
    ),
    # the env's own argument validator (proassist.envs.arguments) runs on env_kwargs
    (GOOD + "env_kwargs: {width: 8}\n", "env_kwargs.width", 7, "must be an integer in [16"),
    (
        GOOD + "env_kwargs: {deviation_rates: {omision: 0.5}}\n",
        "env_kwargs.deviation_rates.omision",
        7,
        "did you mean 'omission'",
    ),
    (
        GOOD + "env_kwargs: {deviation_kinds: [omission, swap]}\n",
        "env_kwargs.deviation_kinds[1]",
        7,
        "unknown deviation kind 'swap'",
    ),
    (
        GOOD.replace("policy: [spam-correct, periodic]", "env_kwargs.deviation_rates.ordr: [0.1]"),
        "grid.env_kwargs.deviation_rates.ordr[0]",
        5,
        "did you mean 'order'",
    ),
    ("name: ok\nenv: a: b\n", "<yaml>", 2, "invalid YAML: mapping values are not allowed"),
    ("- just\n- a list\n", "<root>", 1, "must be a mapping"),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "field", "line", "message"), BROKEN)
def test_broken_files_name_field_and_line(
    tmp_path: Path, text: str, field: str, line: int, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SweepSpecError) as info:
        load_sweep(path)
    hits = [p for p in info.value.problems if p.field == field and message in p.message]
    assert hits, f"no problem on {field!r} with {message!r} in:\n{info.value}"
    assert hits[0].line == line
    assert str(hits[0]).startswith(f"{path}:{line}: {field}: ")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("[0, 1]", "[-1, 1]").replace("[5.0]", "[.inf]") + "extra: 1\n"
    with pytest.raises(SweepSpecError) as info:
        load_sweep(_write(tmp_path, text))
    fields = {p.field for p in info.value.problems}
    assert {"episodes.seeds[0]", "extra"} <= fields


def test_no_run_starts_on_invalid_file(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("[5.0]", "[-5.0]"))
    out = tmp_path / "out"
    with pytest.raises(SweepSpecError):
        run_sweep(path, out, unit_fn="test_sweep_helpers:ok_unit", progress=False)
    assert not out.exists()


def test_cli_invalid_file_exits_2_with_lines(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _write(tmp_path, GOOD + "colour: red\n")
    assert cli_main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{path}:7: colour: unknown key" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("path", sorted(SWEEPS.glob("*.yaml")), ids=lambda p: p.name)
def test_example_sweeps_validate(path: Path) -> None:
    assert expand_units(load_sweep(path))


def test_expansion_order_labels_and_merge(tmp_path: Path) -> None:
    text = GOOD.replace("[5.0]", "[5.0, 10.0]") + textwrap.dedent("""\
        env_kwargs: {deviation_rates: {order: 0.1}, obs_modes: [rgb]}
        variants:
          - {label: quiet, policy: silent, env_kwargs.deviation_rates.omission: 0.3}
        tasks: [kitchen_tea, kitchen_sandwich]
        """)
    units = expand_units(load_sweep(_write(tmp_path, text)))
    assert len(units) == (2 * 2 + 1) * 2 * 2
    labels = list(dict.fromkeys(u["label"] for u in units))
    assert labels == [
        "spam-correct,period=5.0",
        "spam-correct,period=10.0",
        "periodic,period=5.0",
        "periodic,period=10.0",
        "quiet",
    ]
    assert [(u["env_kwargs"]["task"], u["seed"]) for u in units[:4]] == [
        ("kitchen_tea", 0),
        ("kitchen_tea", 1),
        ("kitchen_sandwich", 0),
        ("kitchen_sandwich", 1),
    ]
    quiet = units[-1]
    assert quiet["env_kwargs"]["deviation_rates"] == {"order": 0.1, "omission": 0.3}
    assert quiet["policy_kwargs"] == {}
    assert len({u["unit_id"] for u in units}) == len(units)


def test_unit_ids_are_stable(tmp_path: Path) -> None:
    # Same content written differently, a renamed label and an added config: same ids.
    a = load_sweep(_write(tmp_path, GOOD))
    reordered = """\
episodes:
  seeds: [1, 0]
grid:
  policy_kwargs.period: [5.0]
  policy: [periodic, spam-correct, spam-reengage]
env: ProAssist-Kitchen-v0
name: other_name
"""
    b = load_sweep(_write(tmp_path, reordered))
    ids_a = {u["unit_id"] for u in expand_units(a)}
    ids_b = {u["unit_id"] for u in expand_units(b)}
    assert ids_a < ids_b
    assert expand_units(a) == expand_units(a)
    # Pinned: a change of the hashing scheme would orphan every existing sweep folder.
    key = (
        b'{"env_id":"ProAssist-Kitchen-v0","env_kwargs":{},"policy":"spam-correct",'
        b'"policy_kwargs":{"period":5.0},"seed":0}'
    )
    pinned = hashlib.sha256(key).hexdigest()[:16]
    assert unit_id_of("ProAssist-Kitchen-v0", "spam-correct", {"period": 5.0}, {}, 0) == pinned
    assert expand_units(a)[0]["unit_id"] == pinned


@settings(max_examples=25, deadline=None)
@given(
    periods=st.lists(st.floats(0.1, 100, allow_nan=False), min_size=1, max_size=3, unique=True),
    seeds=st.lists(st.integers(0, 10_000), min_size=1, max_size=4, unique=True),
)
def test_expansion_size_and_unique_ids(periods: list[float], seeds: list[int]) -> None:
    text = (
        "name: h\nenv: ProAssist-Kitchen-v0\n"
        f"episodes: {{seeds: {seeds}}}\n"
        f"grid:\n  policy: [periodic, spam-correct]\n  policy_kwargs.period: {periods}\n"
    )
    units = expand_units(load_sweep(text, is_text=True))
    assert len(units) == 2 * len(periods) * len(seeds)
    assert len({u["unit_id"] for u in units}) == len(units)
    assert units == expand_units(load_sweep(text, is_text=True))
