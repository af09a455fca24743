"""Builders of small hand-made episode records (CONTRACTS.md §5) for the analysis tests."""

from __future__ import annotations

from typing import Any

PLAN = [
    {"id": "a", "instruction": "Fill the kettle with water", "after": []},
    {"id": "b", "instruction": "Switch on the stove burner", "after": ["a"]},
    {"id": "c", "instruction": "Pour the hot water into the cup", "after": ["b"]},
]


def ev(t: float, type: str, **fields: Any) -> dict[str, Any]:
    """One event dict."""
    return {"t": t, "type": type} | fields


def msg(t: float, intent: str = "", step: str | None = None, text: str = "") -> dict[str, Any]:
    """An assistant_message event."""
    return ev(t, "assistant_message", intent=intent, step=step, text=text, index=-1)


def deviation(t: float, dev_id: str = "d0", kind: str = "omission", step: str = "b"):
    """A deviation event with one recovery step ``fix_<step>``."""
    rec = [{"id": f"fix_{step}", "instruction": "Go back and switch on the burner", "step": step}]
    return ev(
        t,
        "deviation",
        id=dev_id,
        kind=kind,
        step=step,
        index=1,
        onset=t,
        recovery_steps=rec,
        deadline=t + 30.0,
        params={},
        scripted=True,
    )


def make_record(
    events: list[dict[str, Any]],
    duration: float = 20.0,
    dt: float = 1.0,
    interrupts: dict[float, dict[str, Any]] | None = None,
    success: bool = True,
    task: str = "kitchen_tea",
    seed: int = 0,
) -> dict[str, Any]:
    """A record with decision points every ``dt`` s over ``[0, duration)``.

    ``interrupts`` maps a decision time to the action fields (intent, step, text).
    """
    interrupts = interrupts or {}
    decisions = []
    for k in range(int(round(duration / dt))):
        t = k * dt
        act = interrupts.get(t)
        decisions.append(
            {"t": t, "decision": int(act is not None), "intent": None, "step": None, "text": ""}
            | (act or {})
        )
    return {
        "env_id": "ProAssist-Kitchen-v0",
        "task": task,
        "domain": "kitchen",
        "seed": seed,
        "dt": dt,
        "policy": "test",
        "goal": "Make a cup of tea",
        "plan": PLAN,
        "events": [
            ev(
                0.0,
                "task_start",
                task=task,
                domain="kitchen",
                goal="tea",
                plan=["a", "b", "c"],
                seed=seed,
            )
        ]
        + events,
        "decisions": decisions,
        "success": success,
        "duration": duration,
        "env_kwargs": {},
    }


def test_make_record_has_one_decision_per_dt() -> None:
    rec = make_record([], duration=4.0, dt=0.5, interrupts={1.0: {"intent": "warn"}})
    assert [d["t"] for d in rec["decisions"]] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    assert [d["decision"] for d in rec["decisions"]].count(1) == 1
