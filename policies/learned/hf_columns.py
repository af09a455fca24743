"""The columns :mod:`proassist.policies.learned.hf_dataset` derives from episode records.

:class:`EpisodeColumns` holds one episode record's lookups (decision times, gold
moments, dialogue, step and deviation events) and gives, for a sample at time ``t``,
every derived column of the dataset (their meaning is in the
:mod:`~proassist.policies.learned.hf_dataset` docstring); :func:`derived_features` is
their ``datasets`` schema. Strings are '' where there is nothing (no step, silence).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["EpisodeColumns", "derived_features"]

_EPS = 1e-6
_DEVIATION_KEYS = ("id", "kind", "step", "onset", "deadline")


def _strings(ds: Any) -> Any:
    return ds.List(ds.Value("string"))


def derived_features(ds: Any) -> dict[str, Any]:
    """The ``datasets`` features of the derived columns (``ds``: the module)."""
    s, f = ds.Value("string"), ds.Value("float32")
    turn = {"role": s, "time": f, "content": s, "intent": s, "step": s}
    active = {"id": s, "kind": s, "step": s, "onset": f, "deadline": f}
    plan_step = {"id": s, "instruction": s, "after": _strings(ds)} | {
        "optional": ds.Value("bool"),
        "safety_critical": ds.Value("bool"),
        "duration_mean": f,
    }
    deviation = active | {"recovery_steps": _strings(ds), "scripted": ds.Value("bool")}
    deviation |= {"params": s, "resolved_t": f, "assisted": ds.Value("bool"), "missed_t": f}
    return {
        "intent_name": s,
        "plan_current_step": s,
        "utterance": s,
        "dialogue": ds.List(turn),
        "gold_interrupt": ds.Value("bool"),
        "gold_kind": s,
        "gold_intent": s,
        "gold_step": s,
        "gold_text": s,
        "gt_current_step": s,
        "gt_completed_steps": _strings(ds),
        "active_deviations": ds.List(active),
    } | _episode_features(ds, plan_step, deviation)


def _episode_features(ds: Any, plan_step: dict, deviation: dict) -> dict[str, Any]:
    s = ds.Value("string")
    return {
        "seed": ds.Value("int64"),
        "env_id": s,
        "task": s,
        "domain": s,
        "goal": s,
        "profile": s,
        "deviation_rate": ds.Value("float32"),
        "driver": ds.Value("bool"),
        "success": ds.Value("bool"),
        "episode_duration": ds.Value("float32"),
        "plan": ds.List(plan_step),
        "deviations": ds.List(deviation),
    }


class EpisodeColumns:
    """The derived columns of one episode's samples.

    Args:
        record: The episode record (``episodes.jsonl`` line).
        feature_names: Names of the ``feats`` vector (the collector's index).
    """

    def __init__(self, record: Mapping[str, Any], feature_names: Sequence[str]) -> None:
        from proassist.sim.gold import decision_times, gold_content

        self.record = record
        self.dt = float(record.get("dt") or 0.5)
        self.times = np.asarray(decision_times(record), dtype=np.float64)
        self.gold = gold_content(record)
        self.plan_ids = [str(s["id"]) for s in record["plan"]]
        self.cur = {f"cur_{i}": i for i in range(len(self.plan_ids))}
        self.cur_cols = [(j, self.cur[n]) for j, n in enumerate(feature_names) if n in self.cur]
        self.turns = _turns(record)
        self.deviations = _deviations(record)
        self.steps = [e for e in record["events"] if e["type"] in ("step_start", "step_end")]
        self.static = _static(record, self.deviations)

    def at(self, t: float, feats: np.ndarray, row: Mapping[str, Any]) -> dict[str, Any]:
        """Every derived column at sample time ``t`` (``feats``: its feature vector)."""
        k = int(np.argmin(np.abs(self.times - t))) if self.times.size else -1
        moment = self.gold[k] if k >= 0 else None
        intent = int(row.get("intent", -1))
        return (
            self.static
            | {
                "intent_name": _intent_name(intent),
                "plan_current_step": self._plan_step(feats),
                "utterance": self._utterance(t),
                "dialogue": [dict(x) for x in self.turns if _before(x, t)],
                "gold_interrupt": moment is not None,
                "gold_kind": moment.kind if moment else "",
                "gold_intent": moment.intent if moment else "",
                "gold_step": (moment.step or "") if moment else "",
                "gold_text": moment.text if moment else "",
            }
            | self._truth(t)
        )

    def _utterance(self, t: float) -> str:
        """What the person said in ``(t - dt, t]`` (the observation's ``utterance``)."""
        lo, hi = t - self.dt + _EPS, t + _EPS
        said = [x["content"] for x in self.turns if x["role"] == "user" and lo < x["time"] <= hi]
        return " ".join(said)

    def _plan_step(self, feats: np.ndarray) -> str:
        """The step whose ``cur_<i>`` feature is hot ('' for none)."""
        for j, i in self.cur_cols:
            if feats[j] > 0.5:
                return self.plan_ids[i]
        return ""

    def _truth(self, t: float) -> dict[str, Any]:
        """``gt_current_step``, ``gt_completed_steps`` and ``active_deviations`` at ``t``."""
        current, done = "", []
        for e in self.steps:
            if e["t"] > t + _EPS or e.get("recovery") or e.get("step") not in self.plan_ids:
                continue
            if e["type"] == "step_start":
                current = e["step"]
            else:
                current = "" if current == e["step"] else current
                if not e.get("interrupted") and e["step"] not in done:
                    done.append(e["step"])
        active = [
            {k: d[k] for k in _DEVIATION_KEYS}
            for d in self.deviations
            if d["onset"] <= t + _EPS and not _ended(d, t)
        ]
        return {"gt_current_step": current, "gt_completed_steps": done, "active_deviations": active}


def _intent_name(intent: int) -> str:
    from proassist.sim.messages import INTENTS

    return INTENTS[intent] if 0 <= intent < len(INTENTS) else ""


def _before(turn: Mapping[str, Any], t: float) -> bool:
    """A person's turn counts up to ``t``, the assistant's strictly before."""
    return turn["time"] <= t + _EPS if turn["role"] == "user" else turn["time"] < t - _EPS


def _turns(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The dialogue: person utterances (events) and the executed assistant messages."""
    from proassist.sim.gold import instruction_of

    turns = [
        {"role": "user", "time": float(e["t"]), "content": str(e.get("text", ""))}
        | {"intent": "", "step": ""}
        for e in record["events"]
        if e["type"] == "person_utterance"
    ]
    for d in record["decisions"]:
        if int(d.get("decision") or 0):
            step, intent = d.get("step"), d.get("intent")
            words = str(d.get("text") or "").strip() or instruction_of(record, step)
            turns.append(
                {"role": "assistant", "time": float(d["t"]), "content": words or str(intent or "")}
                | {"intent": str(intent or ""), "step": str(step or "")}
            )
    return sorted(turns, key=lambda x: x["time"])


def _ended(deviation: Mapping[str, Any], t: float) -> bool:
    ends = [deviation["resolved_t"], deviation["missed_t"]]
    return any(x is not None and x <= t + _EPS for x in ends)


def _deviations(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every ``deviation`` event with its resolution and missed deadline (None: never)."""
    events = record["events"]
    resolved = {e["id"]: e for e in events if e["type"] == "deviation_resolved"}
    missed = {e["id"]: float(e["t"]) for e in events if e["type"] == "deadline_missed"}
    out = []
    for e in events:
        if e["type"] != "deviation":
            continue
        r = resolved.get(e["id"])
        out.append(
            {k: e.get(k) for k in ("id", "kind", "step")}
            | {"onset": float(e.get("onset", e["t"])), "deadline": _float(e.get("deadline"))}
            | {"recovery_steps": [str(s.get("id")) for s in e.get("recovery_steps") or []]}
            | {"scripted": bool(e.get("scripted")), "params": json.dumps(e.get("params") or {})}
            | {"resolved_t": float(r["t"]) if r else None, "missed_t": missed.get(e["id"])}
            | {"assisted": bool(r.get("assisted")) if r else None}
        )
    return out


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _static(record: Mapping[str, Any], deviations: list[dict[str, Any]]) -> dict[str, Any]:
    """The per-episode columns."""
    spec = record.get("collect") or {}
    plan = [
        {"id": str(s["id"]), "instruction": str(s.get("instruction", ""))}
        | {"after": [str(a) for a in s.get("after") or []]}
        | {"optional": bool(s.get("optional")), "safety_critical": bool(s.get("safety_critical"))}
        | {"duration_mean": _float(s.get("duration_mean"))}
        for s in record["plan"]
    ]
    return {
        "seed": int(record["seed"]),
        "env_id": str(record.get("env_id", "")),
        "task": str(record.get("task", "")),
        "domain": str(record.get("domain", "")),
        "goal": str(record.get("goal", "")),
        "profile": str(spec.get("profile", "")),
        "deviation_rate": _float(spec.get("deviation_rate")),
        "driver": bool(spec.get("driver", False)),
        "success": record.get("success"),
        "episode_duration": _float(record.get("duration")),
        "plan": plan,
        "deviations": deviations,
    }
