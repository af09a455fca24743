"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    code = blocks[0].replace("seeds=range(10)", "seeds=range(3)")
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    record = namespace["record"]
    assert record["events"][-1]["type"] == "task_end"
    assert any(e["type"] == "deviation" and e["kind"] == "omission" for e in record["events"])
    g_mean, recall, _ = (float(x) for x in capsys.readouterr().out.split()[-3:])
    assert g_mean > 0.5 and recall == 1.0
