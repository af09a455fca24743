"""``import proassist.envs`` stays light: heavy dependencies load lazily."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers", "ray", "pybullet", "matplotlib", "scipy")


def test_import_envs_and_policies_pull_no_heavy_module() -> None:
    code = (
        "import sys, proassist.envs, proassist.policies, proassist.analysis.cli\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
