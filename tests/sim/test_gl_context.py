"""Choosing the EGL device of the ``gl`` renderer (``PROASSIST_EGL_DEVICE``)."""

from __future__ import annotations

import pytest

pytest.importorskip("moderngl")

from proassist.sim.render import gl_context  # noqa: E402
from proassist.sim.render.gl_context import EGL_DEVICE_VAR, create_context  # noqa: E402


def _egl_ok() -> bool:
    try:
        create_context(0).release()
    except (ImportError, RuntimeError):
        return False
    return True


needs_egl = pytest.mark.skipif(not _egl_ok(), reason="no EGL OpenGL context on this machine")


def test_the_device_comes_from_the_argument_then_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(EGL_DEVICE_VAR, raising=False)
    assert gl_context._device_index(None) == 0
    monkeypatch.setenv(EGL_DEVICE_VAR, " 3 ")
    assert gl_context._device_index(None) == 3
    assert gl_context._device_index(1) == 1


def test_a_device_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EGL_DEVICE_VAR, "gpu1")
    with pytest.raises(ValueError, match="PROASSIST_EGL_DEVICE='gpu1'"):
        create_context()


@needs_egl
def test_device_zero_draws_and_a_missing_device_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EGL_DEVICE_VAR, "0")
    ctx = create_context()
    assert ctx.info["GL_RENDERER"]
    ctx.release()
    monkeypatch.setenv(EGL_DEVICE_VAR, "64")  # no machine here has 65 EGL devices
    with pytest.raises(RuntimeError, match="EGL device 64 .PROASSIST_EGL_DEVICE."):
        create_context()
