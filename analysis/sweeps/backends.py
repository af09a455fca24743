"""Execution engines of a sweep: in-process, local processes and Ray.

A *unit function* takes one unit (a dict, see
:func:`proassist.analysis.sweeps.expand.expand_units`) and returns a mapping with
optional ``scores`` (a mapping of metric name to value), optional ``episode`` (the
episode record, CONTRACTS.md §5) and any other JSON-serialisable fields (kept in the
row's ``extra``). It is given either as a callable (picklable for local processes, i.e.
defined at module level) or as a ``"package.module:function"`` string imported by each
worker. :func:`execute_unit` wraps it on the worker side: an exception becomes a
``failed`` row with its traceback, so every engine produces the same rows.

Every engine calls ``on_result(unit, row, episode, elapsed_s)`` in the driver process
as each unit finishes, in completion order.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import importlib
import importlib.util
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

UnitFn = Callable[[dict[str, Any]], Mapping[str, Any]]
UnitRef = UnitFn | str
OnResult = Callable[[dict[str, Any], dict[str, Any], Any, float], None]
WORKER_DIED = "WorkerDied: the worker process exited abruptly while running this unit"
#: Seconds between two checks of a local worker's watchdog that its parent is alive.
WATCHDOG_PERIOD: float = 0.5
_PR_SET_PDEATHSIG = 1


def resolve_unit_fn(ref: UnitRef) -> UnitFn:
    """Return the callable named by ``ref`` (``"module:function"``) or ``ref`` itself.

    Raises:
        ValueError: When the string is not ``module:function``.
        ImportError / AttributeError: When the module or function does not exist.
    """
    if callable(ref):
        return ref
    module, sep, name = str(ref).partition(":")
    if not sep or not module or not name:
        raise ValueError(f"a unit function is 'package.module:function', got {ref!r}")
    fn = getattr(importlib.import_module(module), name)
    if not callable(fn):
        raise TypeError(f"{ref!r} is not callable")
    return fn


def _json_default(obj: Any) -> Any:
    """JSON encoder fallback for numpy scalars/arrays, tuples and sets."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"value of type {type(obj).__name__} is not JSON serialisable")


def _plain(obj: Any) -> Any:
    """``obj`` as plain JSON data (what it will read back as from the files)."""
    return json.loads(json.dumps(obj, default=_json_default))


def base_row(unit: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a result row that come from the unit itself."""
    return {
        "unit_id": unit["unit_id"],
        "label": unit["label"],
        "task": unit["env_kwargs"].get("task"),
        "seed": unit["seed"],
        "config": {
            "policy": unit["policy"],
            "policy_kwargs": unit["policy_kwargs"],
            "env_id": unit["env_id"],
            "env_kwargs": unit["env_kwargs"],
        },
    }


def failed_row(unit: Mapping[str, Any], error: str, tb: str) -> dict[str, Any]:
    """A ``failed`` result row with its error line and traceback."""
    row = base_row(unit)
    row.update(status="failed", scores={}, extra={}, error=error, traceback=tb, has_episode=False)
    return row


def _call_unit(fn_ref: UnitRef, unit: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    from proassist.analysis.plugins import load_plugins

    load_plugins(unit.get("plugins"))  # in the worker, before the unit (once per process)
    out = resolve_unit_fn(fn_ref)(copy.deepcopy(unit))
    if not isinstance(out, Mapping):
        raise TypeError(f"a unit function must return a mapping, got {type(out).__name__}")
    scores = out.get("scores", {})
    if not isinstance(scores, Mapping):
        raise TypeError(f"'scores' must be a mapping, got {type(scores).__name__}")
    extra = {k: v for k, v in out.items() if k not in ("scores", "episode")}
    episode = out.get("episode")
    row = base_row(unit)
    row.update(status="ok", scores=dict(scores), extra=extra, error=None, traceback=None)
    row["has_episode"] = episode is not None
    return _plain(row), _plain(episode)


def execute_unit(unit: dict[str, Any], fn_ref: UnitRef) -> tuple[dict[str, Any], Any, float]:
    """Run one unit on a worker: ``(row, episode_or_None, elapsed_s)``; never raises
    for errors of the unit function (they give a ``failed`` row with the traceback)."""
    t0 = time.perf_counter()
    try:
        row, episode = _call_unit(fn_ref, unit)
    except (Exception, SystemExit) as exc:
        row, episode = (
            failed_row(unit, f"{type(exc).__name__}: {exc}", traceback.format_exc()),
            None,
        )
    return row, episode, time.perf_counter() - t0


def module_root(fn_ref: UnitRef) -> str | None:
    """The sys.path entry the unit function's module is imported from (None if unknown)."""
    name = fn_ref.__module__ if callable(fn_ref) else str(fn_ref).partition(":")[0]
    top = (name or "").split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None
    origin = Path(spec.origin)
    return str(origin.parent.parent if origin.name == "__init__.py" else origin.parent)


def run_inline(units: list[dict[str, Any]], fn_ref: UnitRef, on_result: OnResult) -> None:
    """Run every unit in this process, one after the other (debugging; no isolation)."""
    for unit in units:
        on_result(unit, *execute_unit(unit, fn_ref))


def _drain(
    pool: cf.ProcessPoolExecutor,
    queue: deque[dict[str, Any]],
    fn_ref: UnitRef,
    limit: int,
    on_result: OnResult,
) -> list[dict[str, Any]]:
    """Run queued units with at most ``limit`` in flight; return those in flight when the
    pool broke (a worker died), or [] when the queue was emptied normally."""
    running: dict[cf.Future, dict[str, Any]] = {}
    suspects: list[dict[str, Any]] = []
    pool_ok = True
    while (queue and pool_ok) or running:
        while pool_ok and queue and len(running) < limit:
            unit = queue.popleft()
            try:
                running[pool.submit(execute_unit, unit, fn_ref)] = unit
            except cf.process.BrokenProcessPool:
                queue.appendleft(unit)  # never started: back to the queue
                pool_ok = False
        when = cf.FIRST_COMPLETED if pool_ok else cf.ALL_COMPLETED
        done, _ = cf.wait(running, return_when=when)
        for fut in done:
            unit = running.pop(fut)
            try:
                on_result(unit, *fut.result())
            except cf.process.BrokenProcessPool:
                suspects.append(unit)
                pool_ok = False
    return suspects


def _set_parent_death_signal() -> None:
    """On Linux, have the kernel SIGKILL this process when its parent dies (best effort)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 probe)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _watch_parent(parent: int, driver: int) -> None:
    """Exit this process as soon as it is re-parented or the sweep's driver is gone."""
    while True:
        if os.getppid() != parent or not _pid_alive(driver):
            os._exit(1)
        time.sleep(WATCHDOG_PERIOD)


def _worker_init(driver: int) -> None:
    """Initializer of local workers: never outlive the sweep's driver process ``driver``.

    Sets ``PR_SET_PDEATHSIG`` on Linux and starts a watchdog thread (portable
    fallback) that exits when the worker's parent changes or ``driver`` is gone; a
    driver that died before this ran is caught by the first check.
    """
    _set_parent_death_signal()
    if not _pid_alive(driver):
        os._exit(1)
    parent = os.getppid()
    threading.Thread(
        target=_watch_parent, args=(parent, driver), name="parent-watchdog", daemon=True
    ).start()


def _pool(workers: int, ctx: Any) -> cf.ProcessPoolExecutor:
    """A local process pool whose workers exit when this (driver) process dies."""
    return cf.ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)
    )


def _stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes so none outlives an interrupted sweep."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


def _isolate(unit: dict[str, Any], fn_ref: UnitRef, ctx: Any, on_result: OnResult) -> None:
    """Rerun a unit that was in flight when a worker died, alone in a fresh process."""
    t0 = time.perf_counter()
    with _pool(1, ctx) as pool:
        fut = pool.submit(execute_unit, unit, fn_ref)
        try:
            result = fut.result()
        except cf.process.BrokenProcessPool:
            tb = "".join(traceback.format_exc())
            on_result(unit, failed_row(unit, WORKER_DIED, tb), None, time.perf_counter() - t0)
            return
    on_result(unit, *result)


def run_local(
    units: list[dict[str, Any]],
    fn_ref: UnitRef,
    workers: int,
    on_result: OnResult,
    start_method: str = "spawn",
) -> None:
    """Run units on ``workers`` local processes (one unit per task).

    When a worker dies (segfault, ``os._exit``, OOM kill) every unit then in flight is
    rerun alone in a fresh process; the one that kills its process again is recorded as
    failed (``WORKER_DIED``), the others complete normally. When this process dies
    (even by SIGKILL) the workers exit too (see :func:`_worker_init`).
    """
    ctx = multiprocessing.get_context(start_method)
    queue = deque(units)
    while queue:
        with _pool(workers, ctx) as pool:
            try:
                suspects = _drain(pool, queue, fn_ref, workers, on_result)
            except BaseException:  # Ctrl-C / SIGTERM: stop the workers, keep what is written
                _stop_pool(pool)
                raise
        for unit in suspects:
            _isolate(unit, fn_ref, ctx, on_result)


def import_ray() -> Any:
    """Import Ray, or raise ImportError naming the ``[ray]`` extra."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            "the Ray backend needs Ray: pip install 'proassist[ray]' (the [ray] extra)"
        ) from exc
    return ray


def _start_ray(ray: Any, workers: int, address: str | None, fn_ref: UnitRef) -> bool:
    """Connect to or start Ray; True when this call started (and must stop) it."""
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, logging_level="WARNING", log_to_driver=False)
        return True
    # Ray's workers inherit the environment of the raylet started here: put the unit
    # function's import root on their PYTHONPATH, then restore ours.
    root, old = module_root(fn_ref), os.environ.get("PYTHONPATH")
    if root and root not in (old or "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, old) if p)
    try:
        ray.init(
            num_cpus=workers, include_dashboard=False, logging_level="WARNING", log_to_driver=False
        )
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return True


def run_ray(
    units: list[dict[str, Any]],
    fn_ref: UnitRef,
    workers: int,
    on_result: OnResult,
    address: str | None = None,
) -> None:
    """Run units as Ray tasks (one CPU each, no automatic retries).

    Uses the Ray already initialised in this process, else ``ray.init(address=...)``
    when ``address`` is given, else a local Ray with ``num_cpus=workers``; a Ray this
    function started is shut down at the end. A task whose worker dies is recorded as
    failed (``WORKER_DIED``).
    """
    ray = import_ray()
    started = _start_ray(ray, workers, address, fn_ref)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(execute_unit)
        cpus = int(ray.cluster_resources().get("CPU", workers))
        _ray_loop(ray, remote, deque(units), fn_ref, 2 * max(cpus, 1), on_result)
    finally:
        if started:
            ray.shutdown()


def _ray_loop(
    ray: Any, remote: Any, queue: deque, fn_ref: UnitRef, limit: int, on_result: OnResult
) -> None:
    running: dict[Any, tuple[dict[str, Any], float]] = {}
    while queue or running:
        while queue and len(running) < limit:
            unit = queue.popleft()
            running[remote.remote(unit, fn_ref)] = (unit, time.perf_counter())
        ready, _ = ray.wait(list(running), num_returns=1)
        for ref in ready:
            unit, t0 = running.pop(ref)
            try:
                result = ray.get(ref)
            except Exception as exc:  # worker died or task infrastructure failed
                died = isinstance(exc, ray.exceptions.WorkerCrashedError)
                error = WORKER_DIED if died else f"{type(exc).__name__}: {exc}"
                row = failed_row(unit, error, f"{type(exc).__name__}: {exc}")
                result = (row, None, time.perf_counter() - t0)
            on_result(unit, *result)
