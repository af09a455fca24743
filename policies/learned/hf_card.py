"""The dataset card (``README.md``) of a Hugging Face export of a collected dataset.

:func:`write_card` documents what :mod:`proassist.policies.learned.hf_dataset` wrote:
how to load it, the splits (episodes, rows, the seed rule), every column (its
``datasets`` type and meaning; the shard arrays the collector writes beyond today's
are listed as such), the names of the ``feats`` vector, and the generating config
(the collect arguments, the collector's own metadata, env ids, seeds per split,
package version and git commit).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["COLUMN_DOCS", "write_card"]

#: What each known column means (others: a per-sample array of the collector).
COLUMN_DOCS: dict[str, str] = {
    "clips": "the last K frames before the decision, oldest first (uint8 RGB, K x S x S x 3)",
    "feats": "the model's input vector (plan state, then percepts if any): names below",
    "decision": "oracle label: 0 silent, 1 interrupt",
    "intent": "oracle label: INTENTS index, -1 when silent",
    "offset": "oracle label: named step - current plan step + MAX_OFFSET, -1 when n/a",
    "fix": "oracle label: the message asks for a recovery step (0/1, -1 when silent)",
    "text": "oracle label: the message text ('' when silent)",
    "t": "sim time of the decision point, seconds",
    "episode": "episode number in the collection (see the per-episode columns)",
    "intent_name": "the oracle's intent by name ('' when silent)",
    "plan_current_step": "current step of the assistant's cached plan (from feats)",
    "utterance": "what the person said in (t - dt, t]",
    "dialogue": "assistant messages before t and person utterances up to t",
    "gold_interrupt": "gold decision: a gold moment's window contains t",
    "gold_kind": "that gold moment's kind (opening, step_done, deviation, question, ...)",
    "gold_intent": "the intent an ideal message has there",
    "gold_step": "the step it should name",
    "gold_text": "its reference utterance",
    "gt_current_step": "ground truth: the plan step the person is doing ('' none)",
    "gt_completed_steps": "ground truth: plan steps finished by t",
    "active_deviations": "ground truth: deviations visible at t, unresolved, deadline not missed",
    "seed": "episode seed (decides the split)",
    "env_id": "the Gymnasium env id",
    "task": "the task (procedure) id",
    "domain": "kitchen, assembly or maintenance",
    "goal": "the task's goal (the query)",
    "profile": "the simulated person's profile",
    "deviation_rate": "per-kind deviation probability per applicable step",
    "driver": "a learned model acted (DAgger) and the oracle only labelled",
    "success": "the episode ended with the task done",
    "episode_duration": "episode length, sim seconds",
    "plan": "the procedure: steps with instruction, dependencies, flags, mean duration",
    "deviations": "every deviation of the episode with onset, deadline and outcome",
}


def _type(feature: Any) -> str:
    text = " ".join(repr(feature).split())
    return text if len(text) <= 70 else text[:67] + "..."


def _fields(features: Mapping[str, Any]) -> list[str]:
    rows = ["| column | type | meaning |", "|---|---|---|"]
    for name, feature in features.items():
        doc = COLUMN_DOCS.get(name, "a per-sample array of the collector's shards")
        rows.append(f"| `{name}` | `{_type(feature)}` | {doc} |")
    return rows


def _splits(summary: Mapping[str, Any]) -> list[str]:
    rows = ["| split | episodes | rows |", "|---|---|---|"]
    for name, n in summary["rows"].items():
        rows.append(f"| {name} | {summary['episodes'][name]} | {n} |")
    return rows


def _config(
    index: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    config: Mapping[str, Any],
    provenance: Mapping[str, Any] | None,
) -> dict[str, Any]:
    from proassist.policies.learned.hf_dataset import SPLITS, split_of

    seeds = {
        name: [int(r["seed"]) for r in records if split_of(r["seed"]) == name] for name in SPLITS
    }
    return {
        "collect_arguments": dict(config),
        "collector": index.get("meta", {}),
        "clip_len": index.get("clip_len"),
        "frame_size": index.get("frame_size"),
        "env_ids": sorted({str(r.get("env_id")) for r in records}),
        "tasks": sorted({str(r.get("task")) for r in records}),
        "seeds": seeds,
        "provenance": {
            k: v
            for k, v in (provenance or _default_provenance()).items()
            if k not in ("config", "seeds")  # both shown above
        },
    }


def _default_provenance() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return {"package": "proassist", "version": version("proassist"), "git_commit": None}
    except PackageNotFoundError:
        return {"package": "proassist", "version": None, "git_commit": None}


_LOAD = """```python
from datasets import load_from_disk

dd = load_from_disk("{dir}")          # DatasetDict: {splits}
train = dd["train"].with_format("numpy")   # or "torch"
row = train[0]
row["clips"].shape, row["feats"].shape, row["decision"], row["gold_interrupt"]
```"""


def write_card(
    dst: str | Path,
    index: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any],
    features: Mapping[str, Any],
    config: Mapping[str, Any],
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``dst/README.md`` (module docstring) and return its path."""
    names = list(index.get("feature_names") or [])
    cfg = _config(index, records, config, provenance)
    text = [
        "---\npretty_name: ProAssist interaction-model data\nlicense: mit",
        "tags: [proassist, synthetic, egocentric-video, procedural-assistance]\n---",
        "# ProAssist interaction-model dataset\n",
        f"{len(records)} simulated episodes ({', '.join(cfg['env_ids'])}) rolled out by the "
        "privileged oracle (or a DAgger driver) with `proassist collect`; one row per "
        "kept decision point (every interrupt, a share of the silent points).\n",
        "## Load\n",
        _LOAD.format(dir=str(dst), splits=", ".join(summary["rows"])) + "\n",
        "Frames are `datasets.Image` (lossless PNG: they round-trip exactly); `clips` is "
        'a list of K images, oldest first. `with_format("numpy")` gives uint8 '
        '`(K, S, S, 3)`, `"torch"` uint8 `(K, 3, S, S)`, plain indexing PIL images. '
        "Integer labels come back as int64 in those formats (datasets' rule).\n",
        "## Splits\n",
        "By episode seed: `h = int(sha256(f'proassist-split:{seed}').hexdigest()[:16], 16) "
        "% 100`; h < 80 train, h < 90 validation, else test "
        "(`proassist.policies.learned.hf_dataset.split_of`).\n",
        *_splits(summary),
        "\n## Fields\n",
        *_fields(features),
        f"\n`feats` names ({len(names)}, in order): " + ", ".join(f"`{n}`" for n in names) + "\n",
        "## Generating config\n",
        "```json\n" + json.dumps(cfg, indent=1, default=str) + "\n```\n",
    ]
    path = Path(dst) / "README.md"
    path.write_text("\n".join(text), encoding="utf-8")
    return path
