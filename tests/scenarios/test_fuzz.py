"""Fuzzing the task loader: every mutated file is rejected cleanly or runs an episode.

The cases come from :mod:`fuzz_corpus` (deterministic by seed). A case passes when
``load_scenario`` raises :class:`ScenarioError` whose problems all read
``FILE:LINE: field: message`` (line > 0 for the file itself), or when it loads and
``ProAssist-v0`` runs 20 steps on it.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import proassist.envs  # noqa: F401  (registers ProAssist-v0)
from proassist.scenarios import ScenarioError, load_scenario
from proassist.scenarios.validation.file_formats import SHAPES
from proassist.scenarios.validation.yaml_limits import MAX_NODES

sys.path.insert(0, str(Path(__file__).parent))
from fuzz_corpus import TASK_TEXT, Case, make_case  # noqa: E402

TIME_LIMIT_S = 2.0
HANG_S = 20


class Hang(Exception):
    """A case ran past :data:`HANG_S` seconds."""


@contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    """Raise :class:`Hang` after ``seconds`` (main thread, Unix only; else no limit)."""

    def fire(signum: int, frame: object) -> None:
        raise Hang(f"over {seconds} s")

    if not hasattr(signal, "SIGALRM"):
        yield
        return
    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _check_problems(err: ScenarioError, path: Path) -> None:
    assert err.problems, "ScenarioError without problems"
    for p in err.problems:
        text = str(p)
        assert text.startswith(f"{p.file}:{p.line}: {p.field}: "), text
        assert p.field and p.message, text
        if p.file == str(path) and not p.message.startswith("cannot read"):
            assert p.line > 0, text


def run_episode(path: Path, seed: int, *, render: bool = False, steps: int = 20) -> None:
    """Make ``ProAssist-v0`` on ``path`` and run ``steps`` steps (resetting at the end)."""
    kwargs = {"width": 32, "height": 32} if render else {}
    env = gym.make("ProAssist-v0", task=str(path), render=render, **kwargs)
    try:
        env.reset(seed=seed)
        for i in range(steps):
            action = {"decision": i % 3 == 1, "intent": i % 2, "step": 0}
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
    finally:
        env.close()


def check_case(case: Case, folder: Path, *, render: bool = False) -> str:
    """Load ``case``; run an episode when it validates. Returns ``rejected`` or ``ran``."""
    path = case.write(folder)
    try:
        load_scenario(path)
    except ScenarioError as err:
        _check_problems(err, path)
        return "rejected"
    run_episode(path, case.seed, render=render)
    return "ran"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 10**6))
def test_fuzz_case_is_rejected_or_runs(seed: int, tmp_path: Path) -> None:
    case = make_case(seed)
    with _alarm(HANG_S):  # a hang fails; slowness is reported by the corpus test, not failed
        check_case(case, tmp_path)


def test_make_case_is_deterministic() -> None:
    assert make_case(1234) == make_case(1234)
    assert {make_case(s).op for s in range(50)} >= {"bomb", "recursive", "flip", "chain"}


def test_shapes_match_renderer() -> None:
    from proassist.sim.render.shapes import SHAPES as RENDER_SHAPES

    assert SHAPES == RENDER_SHAPES


def _problems_of(tmp_path: Path, text: str | bytes, name: str = "kitchen_tea") -> list[str]:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with _alarm(HANG_S), pytest.raises(ScenarioError) as info:  # a hang fails, not slowness
        load_scenario(path)
    _check_problems(info.value, path)
    return [str(p) for p in info.value.problems]


def test_billion_laughs_is_rejected_fast(tmp_path: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    problems = _problems_of(tmp_path, "\n".join(lines) + "\n")
    assert len(problems) == 1 and "alias bomb" in problems[0]
    assert f"at most {MAX_NODES}" in problems[0] and ":5: <yaml>:" in problems[0]


@pytest.mark.parametrize("value", ["&r [*r]", "&r {a: *r}", "&r [1, [2, *r]]"])
def test_recursive_alias_is_rejected(tmp_path: Path, value: str) -> None:
    text = TASK_TEXT["kitchen_tea"] + f"\nextra: {value}\n"
    (problem,) = _problems_of(tmp_path, text)
    assert "recursive alias" in problem


def test_huge_integers_name_their_field(tmp_path: Path) -> None:
    text = TASK_TEXT["kitchen_tea"].replace("max_duration: 300", f"max_duration: {10**400}")
    problems = _problems_of(tmp_path, text)
    assert any(
        ": max_duration: expected a finite number, got an integer of 401" in p for p in problems
    )


@pytest.mark.parametrize("key", ["layout", "person"])
def test_overlong_names_are_unknown(tmp_path: Path, key: str) -> None:
    old = {"layout": "layout: kitchen", "person": "person: typical"}[key]
    text = TASK_TEXT["kitchen_tea"].replace(old, f"{key}: {'k' * 5000}")
    problems = _problems_of(tmp_path, text)
    assert any(f": {key}: unknown" in p for p in problems)


@pytest.mark.parametrize("n", [40, 600])
def test_long_after_chain_is_rejected(tmp_path: Path, n: int) -> None:
    steps = "".join(
        f"  - {{id: s{i}, instruction: x, location: counter, duration: {{mean: 1}}"
        + (f", after: [s{i - 1}]}}\n" if i else "}\n")
        for i in range(n)
    )
    head = TASK_TEXT["kitchen_tea"].split("\nsteps:")[0]
    problems = _problems_of(tmp_path, f"{head}\nsteps:\n{steps}")
    assert any("MAX_STEPS" in p for p in problems)


def test_too_large_file_is_rejected(tmp_path: Path) -> None:
    text = TASK_TEXT["kitchen_tea"] + "\n# " + "x" * 300_000 + "\n"
    (problem,) = _problems_of(tmp_path, text)
    assert ":1: <file>: file too large" in problem


@pytest.mark.parametrize("junk", [b"\x00", b"\xff\xfe", b"\xc3("])
def test_bad_bytes_have_a_line(tmp_path: Path, junk: bytes) -> None:
    data = TASK_TEXT["kitchen_tea"].encode()
    cut = data.index(b"\ntitle:") + 8
    problems = _problems_of(tmp_path, data[:cut] + junk + data[cut:])
    assert any(":3: " in p for p in problems), problems


def test_unknown_shape_and_zero_size_are_rejected(tmp_path: Path) -> None:
    text = TASK_TEXT["kitchen_tea"].replace(
        "shape: cylinder, size: [0.09, 0.1, 0.09]", "shape: torus, size: [0, 0.1, 0.09]"
    )
    problems = _problems_of(tmp_path, text)
    assert any("objects[0].shape: expected one of box" in p for p in problems)
    assert any("objects[0].size[0]: expected a number in [0.0001, 100.0]" in p for p in problems)


@pytest.mark.slow
def test_fuzz_corpus_1000_cases(tmp_path: Path) -> None:
    n, rendered, outcomes, failures, slow = 1000, 0, {}, [], []
    worst = 0.0
    for seed in range(n):
        case = make_case(seed)
        render = outcomes.get("ran", 0) in (1, 2) and rendered < 2
        start = time.perf_counter()
        try:
            with _alarm(HANG_S):
                outcome = check_case(case, tmp_path, render=render)
        except Exception as exc:  # noqa: BLE001  (collected and reported below)
            outcome = "error"
            failures.append(f"seed {seed} ({case.op}): {type(exc).__name__}: {exc!s:.300}")
        took = time.perf_counter() - start
        rendered += render and outcome == "ran"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        worst = max(worst, took)
        if took > TIME_LIMIT_S:
            slow.append(f"seed {seed} ({case.op}): {took:.2f} s")
    print(f"\nfuzz: {n} cases {outcomes}, rendered {rendered}, max {worst:.3f} s per case")
    if slow:  # reported, not failed: tests never fail on timing (a hang fails via HANG_S)
        print(f"cases over {TIME_LIMIT_S} s (machine load or a slow path):\n" + "\n".join(slow))
    assert not failures, "non-ScenarioError exceptions:\n" + "\n".join(failures)
    assert outcomes.get("ran", 0) >= 20 and rendered == 2
