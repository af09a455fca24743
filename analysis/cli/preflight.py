"""Checks a subcommand runs on its arguments before any work starts.

Each raises :class:`~proassist.analysis.cli.errors.UserError` (one line per problem,
exit 2) with what is wrong and, for names, the closest known ones. They reuse the one
validator of each vocabulary: :func:`proassist.envs.arguments.check_env_kwargs` for env
arguments, :func:`proassist.policies.base.check_policy_kwargs` for policy arguments.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from proassist.analysis.cli.errors import UserError, user_errors
from proassist.scenarios.registry import did_you_mean

__all__ = ["build_policy", "check_env", "check_policy", "input_path", "output_dir"]


def check_env(env_id: str, env_kwargs: Mapping[str, Any], flag: str = "-e") -> None:
    """Check the env id and arguments, then build the env once (without rendering).

    Building it runs everything ``gym.make`` checks (a task that does not exist or is
    not in the env's domain, an invalid task file) in a fraction of a second.

    Raises:
        UserError: An unknown env id, each problem of the arguments (``flag NAME:
            message``), or the env's own complaint.
    """
    import gymnasium as gym

    from proassist.envs import ENV_IDS
    from proassist.envs.arguments import check_env_kwargs

    known = list(ENV_IDS)
    if env_id.rsplit(":", 1)[-1] not in known:
        hint = did_you_mean(env_id, known)
        raise UserError(f"unknown env {env_id!r}{hint}; known: {', '.join(known)}")
    problems = check_env_kwargs(env_kwargs)
    if problems:
        raise UserError(*(f"{flag} {'.'.join(map(str, p))}: {m}" for p, m in problems))
    with user_errors(ValueError, OSError):
        gym.make(env_id, **{**env_kwargs, "render": False}).close()


def check_policy(name: str, kwargs: Mapping[str, Any]) -> None:
    """Check the policy name and its keyword arguments against its constructor.

    Raises:
        UserError: One line per problem, with "did you mean" and the accepted names.
    """
    from proassist.policies.base import check_policy_kwargs

    problems = check_policy_kwargs(name, kwargs)
    if problems:
        raise UserError(*(message for _, message in problems))


def build_policy(name: str, kwargs: Mapping[str, Any]) -> Any:
    """Check, then build the policy; its constructor's own complaints are user errors.

    Raises:
        UserError: From :func:`check_policy`, or the constructor's ``ValueError``, file
            error or ``ImportError`` (a bad threshold, a missing checkpoint, an
            optional dependency the requested component needs).
    """
    from proassist.policies import make_policy

    check_policy(name, kwargs)
    with user_errors(ValueError, OSError, ImportError):
        return make_policy(name, **kwargs)


def input_path(path: str | Path, what: str, *, folder: bool = False) -> Path:
    """``path`` when it is an existing, readable file (or folder with ``folder``).

    Raises:
        UserError: ``what PATH: no such file`` (or folder), or not readable.
    """
    p = Path(path)
    kind = "folder" if folder else "file"
    if not p.exists():
        raise UserError(f"{what} {p}: no such {kind}")
    if p.is_dir() != folder:
        raise UserError(f"{what} {p}: is a {'file' if folder else 'folder'}, expected a {kind}")
    if not os.access(p, os.R_OK | (os.X_OK if folder else 0)):
        raise UserError(f"{what} {p}: not readable (permission denied)")
    return p


def output_dir(path: str | Path, what: str = "--out") -> Path:
    """Create the output folder ``path`` (and parents) and check it is writable.

    Raises:
        UserError: When ``path`` is a file, cannot be created or is not writable.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UserError(f"{what} {p}: exists and is not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{what} {p}: cannot create it ({exc.strerror or exc})") from exc
    if not os.access(p, os.W_OK | os.X_OK):
        raise UserError(f"{what} {p}: not writable (permission denied)")
    return p
