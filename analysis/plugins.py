"""User plugins: modules that register deviation kinds, policies and metrics.

A plugin is a Python module named by its import name (``my_pkg.my_kinds``) or by the
path of a ``.py`` file. Importing it runs its decorators: ``@register_deviation``
(:mod:`proassist.sim.deviations.base`), ``@register_policy``
(:mod:`proassist.policies`) and ``@register_metric``
(:mod:`proassist.analysis.metrics`). ``proassist eval/demo/sweep/collect/plot
--plugin X`` and a sweep file's ``plugins: [...]`` call :func:`load_plugins`, in the
main process and in every sweep worker.

Each plugin is loaded once per process (by module name or resolved file path). A
plugin that fails to import, or registers a name that is already taken (a built-in
name, say), raises :class:`PluginError` with one line naming the plugin; the registries
stay usable (a failed registration changes nothing).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

__all__ = ["PluginError", "is_plugin_path", "load_plugin", "load_plugins", "resolve_plugin"]

_LOADED: dict[str, ModuleType] = {}


class PluginError(ImportError):
    """A plugin could not be loaded; ``str()`` is one line naming the plugin."""


def is_plugin_path(spec: str) -> bool:
    """True when ``spec`` names a file (ends with ``.py`` or contains a separator)."""
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def resolve_plugin(spec: str, base: str | Path | None = None) -> str:
    """``spec`` with a relative file path made absolute (against ``base``, else the cwd)."""
    if not is_plugin_path(spec):
        return spec
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = Path(base or ".") / path
    return str(path.resolve())


def _module_name(path: Path) -> str:
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"proassist_plugin_{stem}_{digest}"


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise FileNotFoundError(f"no such file {str(path)!r}")
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so pickling and dataclasses find it
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_plugin(spec: str) -> ModuleType:
    """Import the plugin ``spec`` (a module name or a ``.py`` path) once.

    Raises:
        PluginError: One line: the plugin, the error type and its message.
    """
    key = resolve_plugin(str(spec))
    if key in _LOADED:
        return _LOADED[key]
    try:
        if is_plugin_path(key):
            module = _import_file(Path(key))
        else:
            module = importlib.import_module(key)
    except Exception as exc:  # noqa: BLE001 - any failure is reported as one line
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise PluginError(f"plugin {spec!r} failed: {type(exc).__name__}: {message}") from exc
    _LOADED[key] = module
    return module


def load_plugins(specs: Iterable[str] | None) -> list[ModuleType]:
    """Load every plugin of ``specs`` in order (see :func:`load_plugin`)."""
    return [load_plugin(s) for s in specs or ()]
