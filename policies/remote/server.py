"""Start and stop a local ``transformers serve`` process (an OpenAI-compatible server).

Used by the tests, ``python -m bench server`` and scripts that want a real server on
``127.0.0.1`` for a local model directory (no hub access: the process runs with
``HF_HUB_OFFLINE=1``)::

    with start_server("/path/to/model") as server:
        policy = make_policy("openai-compatible", base_url=server.base_url,
                             model=server.model)

The server needs the ``[serve]`` extra (``pip install 'proassist[serve]'``: fastapi,
uvicorn, openai and accelerate, what ``transformers serve`` imports) besides ``[hf]``;
:func:`require_serve` says which is missing. ``continuous_batching=True`` batches
concurrent requests (``--continuous-batching``): the throughput setting; without it
requests are generated one at a time, each on its own, so greedy replies do not
depend on what else the server is doing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["SERVE_EXTRA", "ServerProcess", "free_port", "require_serve", "start_server"]

#: The install command named when a package ``transformers serve`` needs is missing.
SERVE_EXTRA: str = "pip install 'proassist[serve]'"

#: What ``transformers serve`` imports (module names).
SERVE_MODULES: tuple[str, ...] = ("torch", "transformers", "fastapi", "uvicorn", "openai")


def missing_serve_modules() -> list[str]:
    """The modules of :data:`SERVE_MODULES` that are not installed."""
    return [m for m in SERVE_MODULES if importlib.util.find_spec(m) is None]


def require_serve(feature: str = "a local model server") -> None:
    """Fail unless ``transformers serve`` can run here.

    Raises:
        ImportError: Naming the missing modules and :data:`SERVE_EXTRA`.
    """
    missing = missing_serve_modules()
    if missing:
        raise ImportError(
            f"{feature} needs {', '.join(missing)}, which a basic install leaves out: {SERVE_EXTRA}"
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A running ``transformers serve`` process; stop it with :meth:`stop` (or ``with``).

    Attributes:
        base_url: The API root (``http://HOST:PORT/v1``).
        model: The served model's name (the path it was started with).
        process: The ``subprocess.Popen`` handle.
        log_path: Where its output goes.
    """

    def __init__(self, process: subprocess.Popen, base_url: str, model: str, log: Path) -> None:
        self.process, self.base_url, self.model, self.log_path = process, base_url, model, log

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def log_tail(self, n: int = 2000) -> str:
        """The last ``n`` characters of its output."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the process (kill it after ``timeout`` seconds)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def _command(model: str, host: str, port: int, device: str, batching: bool) -> list[str]:
    code = "import sys; from transformers.cli.transformers import main; sys.exit(main())"
    cmd = [sys.executable, "-c", code, "serve", model, "--host", host, "--port", str(port)]
    cmd += ["--device", device, "--log-level", "warning"]
    return cmd + (["--continuous-batching"] if batching else [])


def _environment(threads: int | None) -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env |= {"HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1"}
    if threads is not None:
        env |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    return env


def start_server(
    model_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    device: str = "cpu",
    continuous_batching: bool = False,
    threads: int | None = 1,
    ready_timeout: float = 180.0,
    log_path: str | Path | None = None,
) -> ServerProcess:
    """Start ``transformers serve`` on a local model and wait until it answers.

    Args:
        model_path: Directory of a ``save_pretrained`` model (and its tokenizer).
        host: Address to listen on.
        port: Port (``None``: a free one).
        device: Torch device of the server (``"cpu"``, ``"cuda"``, ``"auto"``).
        continuous_batching: Batch concurrent requests.
        threads: Torch threads of the server process (``None``: torch's default).
        ready_timeout: Seconds to wait for the model to be loaded and served.
        log_path: File for the server's output (default: a temporary file).

    Returns:
        The running server (the model preloaded: the first request is not slowed).

    Raises:
        ImportError: Without the ``[serve]`` extra (:func:`require_serve`).
        FileNotFoundError: When ``model_path`` is not a directory.
        RuntimeError: When the server exits or is not ready in time (with its log).
    """
    require_serve("starting a model server")
    path = Path(model_path).resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"model_path {str(model_path)!r} is not a directory")
    port = port or free_port(host)
    log = Path(log_path) if log_path else _temp_log()
    cmd = _command(str(path), host, port, device, continuous_batching)
    handle = log.open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=_environment(threads))
    handle.close()
    server = ServerProcess(proc, f"http://{host}:{port}/v1", str(path), log)
    try:
        _wait_ready(server, ready_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _temp_log() -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(prefix="proassist-serve-", suffix=".log")
    os.close(fd)
    return Path(name)


def _wait_ready(server: ServerProcess, timeout: float) -> None:
    """Poll ``/v1/models`` until it lists the model (the server preloads it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"the model server exited:\n{server.log_tail()}")
        if server.model in _listed(server.base_url):
            return
        time.sleep(0.25)
    raise RuntimeError(f"the model server was not ready after {timeout:g} s:\n{server.log_tail()}")


def _listed(base_url: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2.0) as response:
            body: Any = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return []
    return [str(m.get("id")) for m in body.get("data", []) if isinstance(m, dict)]
