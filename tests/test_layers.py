"""The layer order of the package, read from the import statements of every module.

Layers (DESIGN.md "Layout"): scenarios ← sim ← envs ← policies ← analysis; a module may
import only its own layer or a lower one (``proassist`` itself, ``_proassist/``, is the
lowest). Imports inside functions count too. Lazy importlib strings (a registry's
``builtins``, Gymnasium entry points) are not import statements and are not checked.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Folder → (import name, layer rank).
LAYERS: dict[str, tuple[str, int]] = {
    "_proassist": ("proassist", 0),
    "scenarios": ("proassist.scenarios", 1),
    "sim": ("proassist.sim", 2),
    "envs": ("proassist.envs", 3),
    "policies": ("proassist.policies", 4),
    "analysis": ("proassist.analysis", 5),
}

#: Application-layer parts that must stay pure functions of episode records.
PURE = ("proassist.analysis.metrics", "proassist.analysis.plots")


def _modules() -> dict[str, tuple[Path, bool]]:
    """``{module name: (path, is_package)}`` for every module of every layer."""
    mods: dict[str, tuple[Path, bool]] = {}
    for folder, (pkg, _) in LAYERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            name = ".".join([pkg, *(parts[:-1] if is_pkg else parts)])
            mods[name] = (path, is_pkg)
    return mods


MODULES = _modules()


def _imports(name: str) -> Iterator[tuple[str, int]]:
    """``(imported proassist module, line)`` for every import statement of ``name``."""
    path, is_pkg = MODULES[name]
    package = name if is_pkg else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        else:
            continue
        for target in found:
            if target == "proassist" or target.startswith("proassist."):
                yield _known(target), node.lineno


def _known(target: str) -> str:
    """The longest known module prefix of ``target`` (``from pkg import name``)."""
    while target not in MODULES and "." in target:
        target = target.rpartition(".")[0]
    return target


def _layer(module: str) -> tuple[str, int]:
    """``(folder, rank)`` of ``module``."""
    best = max(
        (
            item
            for item in LAYERS.items()
            if module == item[1][0] or module.startswith(item[1][0] + ".")
        ),
        key=lambda item: len(item[1][0]),
    )
    return best[0], best[1][1]


def test_every_layer_has_modules() -> None:
    for folder in LAYERS:
        assert any(_layer(m)[0] == folder for m in MODULES), folder


def test_imports_point_down_the_layers() -> None:
    bad = []
    for name, (path, _) in MODULES.items():
        folder, rank = _layer(name)
        for target, line in _imports(name):
            to_folder, to_rank = _layer(target)
            if to_rank > rank:
                bad.append(
                    f"{path.relative_to(ROOT)}:{line}: {folder} imports {target} ({to_folder})"
                )
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def _folder_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {folder: set() for folder in LAYERS}
    for name in MODULES:
        for target, _ in _imports(name):
            graph[_layer(name)[0]].add(_layer(target)[0])
    return graph


def test_no_import_cycles_between_folders() -> None:
    graph = _folder_graph()

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(graph[node] - {node})
        return False

    cycles = [(a, b) for a in graph for b in graph[a] - {a} if reaches(b, a)]
    assert not cycles, f"folders importing each other: {cycles}"


@pytest.mark.parametrize("pure", PURE)
def test_metrics_and_plots_import_no_env_or_policy(pure: str) -> None:
    bad = [
        f"{MODULES[name][0].relative_to(ROOT)}:{line}: {target}"
        for name in MODULES
        if name == pure or name.startswith(pure + ".")
        for target, line in _imports(name)
        if target.startswith(("proassist.envs", "proassist.policies"))
    ]
    assert not bad, f"{pure} must be a pure function of records:\n" + "\n".join(bad)


def test_policies_never_import_analysis() -> None:
    bad = [
        f"{MODULES[name][0].relative_to(ROOT)}:{line}: {target}"
        for name in MODULES
        if _layer(name)[0] == "policies"
        for target, line in _imports(name)
        if target.startswith("proassist.analysis")
    ]
    assert not bad, "\n".join(bad)


def _declared_packages() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^packages\s*=\s*\[(.*?)\]", text, re.S | re.M)
    assert block, "pyproject.toml has no [tool.setuptools] packages list"
    return set(re.findall(r'"([\w.]+)"', block.group(1)))


def test_every_package_folder_is_in_pyproject() -> None:
    packages = {name for name, (_, is_pkg) in MODULES.items() if is_pkg}
    missing = sorted(packages - _declared_packages())
    assert not missing, f"add to pyproject.toml [tool.setuptools] packages: {missing}"


def test_every_folder_with_modules_is_a_package() -> None:
    folders = {path.parent for path, _ in MODULES.values()}
    loose = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").is_file())
    assert not loose, f"folders with modules but no __init__.py: {loose}"
