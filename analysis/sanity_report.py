"""The sanity suite's report (:mod:`proassist.analysis.sanity`): its table, checks, OOP
recall by kind and ``sanity.md``, ``sanity.json`` texts, from :func:`~proassist.analysis.
sanity.run_sanity`'s result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proassist.analysis.sanity import COLUMNS
from proassist.analysis.sanity_ci import CI_SUFFIXES, KINDS_KEY
from proassist.analysis.sanity_ci import as_number as _number

__all__ = [
    "check_lines",
    "compact_json",
    "error_lines",
    "format_value",
    "kind_lines",
    "markdown",
    "seed_text",
    "table_lines",
]


def format_value(value: Any, signed: bool = False) -> str:
    """A score for the table: 3 decimals (``+`` sign when ``signed``), ``n/a`` if missing."""
    number = _number(value)
    if number is None:
        return "n/a"
    return f"{number:+.3f}" if signed else f"{number:.3f}"


_MARK = {"held": "✔", "failed": "✖", "n/a": "✖", "skipped": "-"}


def table_lines(result: Mapping[str, Any], markdown: bool = False) -> list[str]:
    """The table of :func:`run_sanity`'s result: one line per row (plain or Markdown)."""
    heads = ["row", *(head for _, head in COLUMNS)]
    body = [
        [row["label"], *(format_value(row["scores"].get(k), _signed(k)) for k, _ in COLUMNS)]
        for row in result["rows"]
    ]
    if markdown:
        lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        return lines + ["| " + " | ".join(cells) + " |" for cells in body]
    width = max(len(h) for h in heads[1:])
    first = max(len(heads[0]), *(len(b[0]) for b in body))
    fmt = [f"{{:<{first}}}", *[f"{{:>{width}}}"] * len(COLUMNS)]
    return [
        " ".join(f.format(c) for f, c in zip(fmt, cells, strict=True)) for cells in [heads, *body]
    ]


def _signed(key: str) -> bool:
    return key in ("net_assistance", "assistance_effect_task_success")


def check_lines(result: Mapping[str, Any]) -> list[str]:
    """One line per required ordering: mark, what it requires, the numbers involved."""
    lines = []
    for check in result["checks"]:
        values = ", ".join(
            f"{label} {format_value(v, _signed(check['metric']))}"
            for label, v in check["values"].items()
        )
        line = f"{_MARK[check['status']]} {check['text']} [{check['metric']}: {values}]"
        if check["status"] == "n/a":
            line += f" n/a for {', '.join(check['failing'])}"
        elif check["status"] == "failed":
            line += f" fails: {', '.join(check['failing'])}"
        elif check["status"] == "skipped":
            line += " skipped (rows not run)"
        lines.append(line)
    return lines


def error_lines(result: Mapping[str, Any]) -> list[str]:
    """One line per crashed cell (its row shows ``n/a``; orderings on it are not met)."""
    return [
        f"✖ crashed: {row['label']} on {env_id}: {message}"
        for row in result["rows"]
        for env_id, message in (row.get("errors") or {}).items()
    ]


def markdown(result: Mapping[str, Any], goals: Sequence[str] = ()) -> str:
    """``sanity.md``: the settings, the table, the checked orderings, the ``goals`` lines
    (:func:`~proassist.analysis.goals.check_goals`'), and the OOP recall by kind."""
    head = [
        "# ProAssist sanity suite",
        "",
        f"Envs: {', '.join(result['envs'])}; seeds: {seed_text(result['seeds'])}; "
        f"env kwargs: {result['env_kwargs'] or '{}'}. Values are means over the envs.",
        "",
    ]
    checks = [f"- {line}" for line in [*check_lines(result), *error_lines(result)]]
    verdict = "All orderings hold." if result["all_hold"] else "Some orderings do not hold."
    table = table_lines(result, markdown=True)
    listed = ["Issue 11's goals (`proassist goals`):", "", *(f"- {g}" for g in goals), ""]
    return "\n".join(
        [
            *head,
            *table,
            "",
            *checks,
            "",
            verdict,
            "",
            *(listed if goals else []),
            *kind_lines(result),
        ]
    )


def kind_lines(result: Mapping[str, Any]) -> list[str]:
    """A markdown table of the content-aware OOP recall by deviation kind (95 % CI over
    seed blocks; in parentheses the deviations of the kind the row met, all envs) of the
    rows with a content-aware OOP recall above 0; none when no row has a per-kind recall."""
    rows = [r for r in result["rows"] if _number(r["scores"].get("oop_recall"))]
    kinds = sorted({k[len(_KIND) :] for r in rows for k in r["scores"] if _is_kind_recall(k)})
    if not kinds:
        return []
    lines = [
        "Content-aware OOP recall by kind (mean over the envs with the kind, 95 % CI; in "
        "parentheses the deviations met in all envs; rows with a recall above 0):",
        "",
        "| row | " + " | ".join(kinds) + " |",
        "|---" * (len(kinds) + 1) + "|",
    ]
    for row in rows:
        met = _visible(row)
        cells = [_with_ci(row["scores"], _KIND + kind, met.get(kind)) for kind in kinds]
        lines.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _visible(row: Mapping[str, Any]) -> dict[str, int]:
    """``{kind: visible deviations}`` of a row, summed over its envs' :data:`KINDS_KEY`."""
    out: dict[str, int] = {}
    for scores in (row.get("per_env") or {}).values():
        table = scores.get(KINDS_KEY) or {"keys": [], "values": []}
        for j, key in enumerate(table["keys"]):
            kind, _, part = key.rpartition("/")
            if part == "visible":
                out[kind] = out.get(kind, 0) + int(sum(v[j] or 0 for v in table["values"]))
    return out


_KIND = "oop_recall_"


def _is_kind_recall(key: str) -> bool:
    return (
        key.startswith(_KIND)
        and not key.startswith("oop_recall_any")
        and not key.endswith(CI_SUFFIXES)
    )


def _with_ci(scores: Mapping[str, Any], key: str, count: int | None = None) -> str:
    value = _number(scores.get(key))
    if value is None:
        return "–"
    low, high = (_number(scores.get(key + suffix)) for suffix in CI_SUFFIXES)
    text = f"{value:.2f}" if low is None or high is None else f"{value:.2f} [{low:.2f}, {high:.2f}]"
    return text if count is None else f"{text} ({count})"


def compact_json(result: Mapping[str, Any]) -> str:
    """``sanity.json``'s text: indented JSON with every list of numbers on one line (the
    per-seed values and statistics: one seed a line)."""
    import json
    import re

    text = json.dumps(result, indent=2, ensure_ascii=False)
    number = r"(?:-?(?:\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|NaN|Infinity)|null)"
    flat = re.compile(rf"\[\s*({number}(?:,\s*{number})*)\s*\]")
    return flat.sub(lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)


def seed_text(seeds: Sequence[int]) -> str:
    """``first..last (n)`` for consecutive seeds, else the seeds listed."""
    if seeds and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]} ({len(seeds)})"
    return ", ".join(map(str, seeds))
