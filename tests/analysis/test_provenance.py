"""Provenance: config, seeds, version, and the git commit only when it can be known."""

from __future__ import annotations

import json
import platform
import re
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from proassist.analysis import provenance as pv


@pytest.fixture(autouse=True)
def _fresh_git_cache() -> Iterator[None]:
    pv.git_commit.cache_clear()
    pv.git_dirty.cache_clear()
    yield
    pv.git_commit.cache_clear()
    pv.git_dirty.cache_clear()


def test_provenance_records_config_seeds_and_code() -> None:
    config = {"env_id": "ProAssist-Kitchen-v0", "env_kwargs": {"max_duration": 40}}
    prov = pv.provenance(config, [3, 1, 2, 1])
    assert prov["config"] == config and prov["config"] is not config
    assert prov["seeds"] == [1, 2, 3]
    assert prov["version"] == version("proassist") == pv.package_version()
    assert prov["python"] == platform.python_version()
    assert json.loads(json.dumps(prov)) == prov
    assert pv.provenance("name: s\n", range(2))["config"] == "name: s\n"


@pytest.mark.skipif(not (pv.source_root() / ".git").exists(), reason="not a git checkout")
def test_commit_of_this_checkout() -> None:
    commit = pv.git_commit()
    assert commit is not None and re.fullmatch(r"[0-9a-f]{40}", commit)
    assert isinstance(pv.git_dirty(), bool)


def test_no_git_on_the_path_gives_no_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    assert pv.git_commit() is None and pv.git_dirty() is None
    assert pv.provenance({}, [0])["git_commit"] is None


def test_a_package_outside_a_checkout_gives_no_commit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(pv, "source_root", lambda: tmp_path)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    assert pv.git_commit() is None and calls == []


def test_a_hanging_git_gives_no_commit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()

    def hang(cmd: list[str], **kwargs: Any) -> Any:
        assert kwargs["timeout"] == pv.GIT_TIMEOUT_S and kwargs["cwd"] == tmp_path
        raise subprocess.TimeoutExpired(cmd, kwargs["timeout"])

    monkeypatch.setattr(pv, "source_root", lambda: tmp_path)
    monkeypatch.setattr(subprocess, "run", hang)
    assert pv.git_commit() is None
