"""Deterministic fuzz corpus: mutated copies of the library task files.

Each case is built from an integer seed alone (same seed, same bytes), so a failing
case can be reproduced with ``make_case(seed)``. Mutations work on the parsed data
(delete/duplicate keys, type swaps, huge numbers, long strings, deep ``after`` chains,
unknown shapes, NaN/inf) or on the text (alias bombs, recursive aliases, byte flips,
NUL and non-UTF-8 bytes, truncation, duplicate keys, deep nesting).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from proassist.scenarios.library import TASKS_DIR

TASK_TEXT: dict[str, str] = {
    p.stem: p.read_text(encoding="utf-8") for p in sorted(TASKS_DIR.glob("*.yaml"))
}

JUNK: list[Any] = [
    None,
    True,
    0,
    -1,
    10**400,
    -(10**400),
    1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    " ",
    "x" * 5000,
    "a\x00b",
    "not at(x,y)",
    "at(kettle,sink)",
    "filled()",
    "get_mug",
    "kitchen",
    [],
    [None],
    [[1, [2, [3]]]],
    {},
    {"id": "x"},
    {"mean": 10**400},
    ["at(mug,counter)"] * 3,
    "../../../etc/passwd.yaml",
    "k" * 5000 + ".yaml",
]


@dataclass(frozen=True)
class Case:
    """One fuzz case.

    Attributes:
        seed: The seed it was made from.
        name: The task stem (the file must be written as ``<name>.yaml``).
        op: The mutation(s) applied, for reports.
        data: The file's bytes.
    """

    seed: int
    name: str
    op: str
    data: bytes

    def write(self, folder: Path) -> Path:
        """Write the case as ``folder/<seed>/<name>.yaml`` and return the path."""
        path = folder / str(self.seed) / f"{self.name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.data)
        return path


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _pick(doc: Any, rng: random.Random) -> tuple[Any, Any]:
    path = rng.choice(_paths(doc)[1:])
    return _get(doc, path[:-1]), path[-1]


def _delete(doc: Any, rng: random.Random) -> None:
    parent, key = _pick(doc, rng)
    del parent[key]


def _retype(doc: Any, rng: random.Random) -> None:
    parent, key = _pick(doc, rng)
    parent[key] = rng.choice(JUNK)


def _duplicate(doc: Any, rng: random.Random) -> None:
    parent, key = _pick(doc, rng)
    if isinstance(parent, list):
        parent.insert(key, parent[key])
    else:
        parent[f"{key}_copy"] = parent[key]


def _junk_key(doc: Any, rng: random.Random) -> None:
    parent, _ = _pick(doc, rng)
    if isinstance(parent, dict):
        parent[rng.choice(["x", "ids", "step", "shape", 7, "\x00"])] = rng.choice(JUNK)


def _number(doc: Any, rng: random.Random) -> None:
    nums = [p for p in _paths(doc)[1:] if isinstance(_get(doc, p), (int, float))]
    if nums:
        path = rng.choice(nums)
        value = rng.choice([10**400, 1e308, -1e308, 2**63, float("nan"), float("inf"), 0, -0.0])
        _get(doc, path[:-1])[path[-1]] = value


def _long_string(doc: Any, rng: random.Random) -> None:
    strs = [p for p in _paths(doc)[1:] if isinstance(_get(doc, p), str)]
    path = rng.choice(strs)
    _get(doc, path[:-1])[path[-1]] = rng.choice(["k", "a_", "x/"]) * rng.choice([300, 5000])


def _rename_ref(doc: Any, rng: random.Random) -> None:
    for key, value in (("layout", "k" * 5000), ("person", "p" * 5000)):
        if rng.random() < 0.5:
            doc[key] = value if rng.random() < 0.7 else {"base": value}


def _shape(doc: Any, rng: random.Random) -> None:
    for obj in doc.get("objects") or []:
        if isinstance(obj, dict) and rng.random() < 0.5:
            obj["shape"] = rng.choice(["torus", "", "BOX", "mesh", "cylinder", "sphere", "capsule"])
            obj["size"] = rng.choice([[0, 0, 0], [1e9, 1e9, 1e9], [1e-12, 5, 0], [0.1, 0.1, 0.1]])


def _chain(doc: Any, rng: random.Random) -> None:
    n = rng.choice([33, 500, 10_000])
    first = doc["steps"][0]
    loc = first.get("location", "counter")
    doc["steps"] = [
        {
            "id": f"s{i}",
            "instruction": "x",
            "location": loc,
            "duration": {"mean": 1},
            **({"after": [f"s{i - 1}"]} if i else {}),
        }
        for i in range(n)
    ]


def _cycle(doc: Any, rng: random.Random) -> None:
    steps = [s for s in doc.get("steps") or [] if isinstance(s, dict) and "id" in s]
    if len(steps) >= 2:
        a, b = rng.sample(steps, 2)
        a.setdefault("after", []).append(b["id"])
        b.setdefault("after", []).append(a["id"])


def _numbers_everywhere(doc: Any, rng: random.Random) -> None:
    doc["max_duration"] = rng.choice([1e12, 1.0, 1e308, 10**30, 3.5])
    for step in doc.get("steps") or []:
        if isinstance(step, dict):
            step["duration"] = {"mean": rng.choice([0, 1e-9, 1e9, 1e300]), "std": 1e300}
    doc["deviations"] = {"max_random": rng.choice([0, 10**9, 2**70]), "rates": {"omission": 1.0}}
    doc["person"] = {"base": "typical", "speed": rng.choice([0.05, 1e9]), "patience": 10**18}


KINDS = ["omission", "order", "substitution", "placement", "measurement", "timing"]
KINDS += ["setting", "repetition", "distraction", "hesitation", "safety", "bogus"]
PARAM_KEYS = ["skip_prob", "min_time", "amount", "amount_value", "setting", "before"]
PARAM_KEYS += ["duration", "target", "object", "substitute", "fixture", "wrong", "fraction"]


def _params(doc: Any, rng: random.Random) -> None:
    steps = [s for s in doc.get("steps") or [] if isinstance(s, dict)]
    for step in rng.sample(steps, min(len(steps), 3)):
        params = step.setdefault("params", {})
        for key in rng.sample(PARAM_KEYS, 3):
            params[key] = rng.choice(JUNK + [0.5, 2, "250 ml", "high"])


def _scripted(doc: Any, rng: random.Random) -> None:
    ids = [s.get("id") for s in doc.get("steps") or [] if isinstance(s, dict)]
    scripted = []
    for _ in range(rng.choice([1, 3, 8])):
        params = {k: rng.choice(JUNK + [0.5, 3, "x"]) for k in rng.sample(PARAM_KEYS, 2)}
        item = {"kind": rng.choice(KINDS), "step": rng.choice(ids + ["nope"])}
        item.update({"time": rng.choice([0, 1.5, 1e308, 10**40])} if rng.random() < 0.5 else {})
        scripted.append({**item, **({"params": params} if rng.random() < 0.7 else {})})
    rates = {k: rng.choice([0.0, 1.0, 0.5]) for k in rng.sample(KINDS[:-1], 4)}
    doc["deviations"] = {"scripted": scripted, "rates": rates, "max_random": rng.choice([0, 5])}


def _many(doc: Any, rng: random.Random) -> None:
    objects = [o for o in doc.get("objects") or [] if isinstance(o, dict)]
    n = rng.choice([100, 1000])
    doc["objects"] = objects + [{**objects[0], "id": f"o{i}"} for i in range(n)]
    for step in doc.get("steps") or []:
        if isinstance(step, dict):
            step["objects"] = [f"o{i}x" for i in range(rng.choice([1, 20]))]


DATA_OPS: dict[str, Callable[[Any, random.Random], None]] = {
    "params": _params,
    "scripted": _scripted,
    "many": _many,
    "delete": _delete,
    "retype": _retype,
    "duplicate": _duplicate,
    "junk_key": _junk_key,
    "number": _number,
    "long_string": _long_string,
    "rename_ref": _rename_ref,
    "shape": _shape,
    "chain": _chain,
    "cycle": _cycle,
    "numbers": _numbers_everywhere,
}


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10_000)


def _data_case(seed: int, name: str, rng: random.Random) -> Case:
    doc = yaml.safe_load(TASK_TEXT[name])
    ops = rng.choices(list(DATA_OPS), k=rng.choice([1, 1, 2, 3]))
    for op in ops:
        try:
            DATA_OPS[op](doc, rng)
        except (IndexError, KeyError, TypeError, AttributeError):
            pass  # the mutation did not apply to this document
    return Case(seed, name, "+".join(ops), _dump(doc).encode("utf-8", "surrogatepass"))


def _bomb(levels: int, width: int) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _text_bomb(text: str, rng: random.Random) -> str:
    bomb = _bomb(rng.choice([9, 12, 30]), rng.choice([9, 10]))
    if rng.random() < 0.5:
        return text + bomb
    last = bomb.strip().splitlines()[-1].split(": ", 1)[0]
    return bomb.replace(f"{last}:", "steps:") + text.replace("steps:", "old_steps:")


def _text_recursive(text: str, rng: random.Random) -> str:
    value = rng.choice(["&r [*r]", "&r {a: *r}", "&r [1, [2, *r]]", "&r {params: *r}"])
    key = rng.choice(["initial", "objects", "deviations", "person", "x"])
    return text.replace(f"\n{key}:", f"\nold_{key}:") + f"\n{key}: {value}\n"


def _text_flip(text: str, rng: random.Random) -> bytes:
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.choice([1, 3, 20])):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _text_insert(text: str, rng: random.Random) -> bytes:
    junk = rng.choice(
        [
            b"\x00",
            b"\xff\xfe",
            b"\xc3",
            b"\t",
            b"- [",
            b"{",
            b": :",
            b"&a [*a]",
            b"*nope",
            b"!!python/object:os.system x",
            b"!!binary AAAA",
            b"? [a]\n: 1",
            b"<<: *x",
            b"\r",
            b"\xef\xbb\xbf",
            b"%YAML 9.9\n---\n",
        ]
    )
    data = text.encode("utf-8")
    cut = rng.randrange(len(data))
    return data[:cut] + junk + data[cut:]


def _text_truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text))]


def _text_dupkey(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    return "\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :]) + "\n"


def _text_deep(text: str, rng: random.Random) -> str:
    n = rng.choice([50, 500, 5000])
    if rng.random() < 0.5:
        value = "[" * n + "]" * n
    else:
        value = "\n" + "".join("  " * i + f"k{i}:\n" for i in range(min(n, 400)))
    key = rng.choice(["initial", "steps", "x", "deviations"])
    return text.replace(f"\n{key}:", f"\nold_{key}:") + f"\n{key}: {value}\n"


def _text_merge(text: str, rng: random.Random) -> str:
    return "base: &b {id: x, name: y}\n" + text.replace(
        "objects:\n", "objects:\n  - <<: *b\n    start: counter\n", 1
    )


TEXT_OPS: dict[str, Callable[[str, random.Random], str | bytes]] = {
    "bomb": _text_bomb,
    "recursive": _text_recursive,
    "flip": _text_flip,
    "insert": _text_insert,
    "truncate": _text_truncate,
    "dupkey": _text_dupkey,
    "deep": _text_deep,
    "merge": _text_merge,
}


def make_case(seed: int) -> Case:
    """The fuzz case of ``seed`` (deterministic).

    Args:
        seed: Any integer.

    Returns:
        The :class:`Case`: about 60% data mutations, 40% text mutations.
    """
    rng = random.Random(seed)
    name = rng.choice(sorted(TASK_TEXT))
    if rng.random() < 0.6:
        return _data_case(seed, name, rng)
    op = rng.choice(list(TEXT_OPS))
    out = TEXT_OPS[op](TASK_TEXT[name], rng)
    data = out if isinstance(out, bytes) else out.encode("utf-8", "surrogatepass")
    return Case(seed, name, op, data)


def corpus(n: int, start: int = 0) -> list[Case]:
    """The cases of seeds ``start .. start + n - 1``."""
    return [make_case(seed) for seed in range(start, start + n)]
