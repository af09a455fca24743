"""Builders of the duplex assistant's components: interaction models and planners.

:data:`INTERACTION_MODELS` is the registry behind ``interaction=`` (extend it with
:func:`register_interaction_model`); :func:`build_planner` builds a planner of
:data:`~proassist.policies.duplex.planners.PLANNERS` from the assistant's options.
Re-exported by :mod:`proassist.policies.duplex.assistant`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.duplex.hf_common import resolve_device
from proassist.policies.duplex.planners import PLANNERS
from proassist.scenarios.registry import Registry, describe_kwargs

__all__ = [
    "INTERACTION_MODELS",
    "PLANNERS",
    "build_interaction_model",
    "build_planner",
    "check_interaction_kwargs",
    "check_planner_kwargs",
    "register_interaction_model",
]

#: Interaction-model factories accepted by ``interaction=``: each is called with
#: ``threshold``, ``checkpoint``, ``model_path`` and ``rng`` keyword arguments (and the
#: model settings ``device``, ``dtype``, ``n_frames``, ``max_new_tokens``, ``prompt``;
#: take ``**_`` to ignore the rest) and returns an
#: :class:`~proassist.policies.duplex.components.InteractionModel`.
INTERACTION_MODELS: Registry[Callable[..., Any]] = Registry("interaction model")


def register_interaction_model(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering an interaction-model factory under ``name``.

    Raises:
        proassist.scenarios.registry.RegistryError: If ``name`` is taken.
    """
    return INTERACTION_MODELS.register(name)


@register_interaction_model("rules")
def _rules(*, threshold: float, **_: Any) -> Any:
    from proassist.policies.duplex.cue_tracker import CueTracker

    return CueTracker(threshold=threshold)


@register_interaction_model("learned")
def _learned(
    *,
    threshold: float,
    checkpoint: str | None,
    device: str = "cpu",
    min_gap_s: float | None = None,
    logit_bias: float | None = None,
    intents: list[str] | None = None,
    persist: int | None = None,
    intent_bias: dict[str, float] | None = None,
    **_: Any,
) -> Any:
    from proassist.policies.learned import require_torch

    require_torch("interaction='learned'")
    from proassist.policies.learned.assets import CHECKPOINT_DIR, default_checkpoint
    from proassist.policies.learned.interaction import LearnedInteractionModel

    path = checkpoint or default_checkpoint()
    if path is None:
        raise FileNotFoundError(
            f"interaction='learned' without checkpoint=PATH uses the shipped "
            f"{CHECKPOINT_DIR / 'model.pt'} (and model.json), which is missing"
        )
    if not Path(path).is_file() or not Path(path).with_suffix(".json").is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r}: no such model.pt with model.json")
    settings = {"min_gap_s": min_gap_s, "logit_bias": logit_bias, "intents": intents}
    settings |= {"persist": persist, "intent_bias": intent_bias}
    return LearnedInteractionModel(
        path, threshold=threshold, device=resolve_device(device), **settings
    )


@register_interaction_model("hf")
def _hf(
    *,
    model_path: str | None,
    device: str = "cpu",
    dtype: str = "auto",
    n_frames: int = 1,
    max_new_tokens: int = 24,
    prompt: str | None = None,
    max_turns: int = 6,
    **_: Any,
) -> Any:
    if not model_path:
        raise ValueError("interaction='hf' needs model_path=DIR (a save_pretrained model)")
    from proassist.policies.duplex.hf_vlm import HFInteractionModel

    options = {"device": device, "dtype": dtype, "n_frames": n_frames, "prompt": prompt}
    options |= {"max_new_tokens": max_new_tokens, "max_turns": max_turns}
    return HFInteractionModel(model_path, **options)


@register_interaction_model("openai-compatible")
def _openai_compatible(*, max_new_tokens: int = 24, **options: Any) -> Any:
    from proassist.policies.remote.interaction import make_remote_interaction

    return make_remote_interaction(**({"max_tokens": max_new_tokens} | options))


def build_interaction_model(
    name: str,
    *,
    threshold: float = 0.5,
    checkpoint: str | None = None,
    model_path: str | None = None,
    rng: np.random.Generator | None = None,
    **options: Any,
) -> Any:
    """Build the interaction model ``name`` (registered in :data:`INTERACTION_MODELS`).

    ``options`` (model settings: ``device``, ``dtype``, ``n_frames``,
    ``max_new_tokens``, ``prompt``) go to the factory, which ignores those it lacks.

    Raises:
        RegistryError: On an unknown name ("did you mean").
        ValueError: When ``hf`` lacks ``model_path``.
        FileNotFoundError: When ``learned``'s checkpoint (given, or the shipped one
            without ``checkpoint``) is missing.
    """
    factory = INTERACTION_MODELS.get(name)
    return factory(
        threshold=threshold, checkpoint=checkpoint, model_path=model_path, rng=rng, **options
    )


#: Assistant keyword → planner constructor keyword, where they differ.
_PLANNER_ARGS: dict[str, str] = {
    "planner_path": "model_path",
    "planner_max_new_tokens": "max_new_tokens",
    "planner_prompt": "prompt",
}


def build_planner(
    name: str,
    *,
    plan_quality: float = 1.0,
    planner_path: str | None = None,
    rng: np.random.Generator | None = None,
    **settings: Any,
) -> Any:
    """Build the planner ``name`` (registered in :data:`PLANNERS`).

    Each option the planner's constructor accepts is passed (``planner_path`` as its
    ``model_path``; of the model ``settings``, ``device``, ``dtype``,
    ``planner_max_new_tokens`` as ``max_new_tokens`` and ``planner_prompt`` as
    ``prompt``); the others are ignored.

    Raises:
        RegistryError: On an unknown name ("did you mean").
        ValueError: When the planner needs an option not given (``hf``: ``planner_path``).
    """
    cls = PLANNERS.get(name)
    options = {"plan_quality": plan_quality, "planner_path": planner_path, "rng": rng}
    options |= settings
    accepted = describe_kwargs(cls)
    kwargs: dict[str, Any] = {}
    for option, value in options.items():
        arg = _PLANNER_ARGS.get(option, option)
        if arg not in accepted:
            continue
        if value is None and accepted[arg][1] is inspect.Parameter.empty:
            raise ValueError(f"planner={name!r} needs {option}=DIR (a save_pretrained causal LM)")
        if value is not None:
            kwargs[arg] = value
    return cls(**kwargs)


def check_planner_kwargs(name: str, planner_kwargs: dict | None) -> None:
    """Reject ``planner_kwargs`` that planner ``name`` does not take, or lacking one it needs.

    Raises:
        ValueError: Naming the unknown (or missing) arguments and the accepted ones.
    """
    accepted = describe_kwargs(PLANNERS.get(name))
    given = dict(planner_kwargs or {})
    listing = ", ".join(accepted) or "none"
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise ValueError(
            f"planner={name!r} got unknown planner_kwargs {unknown}; accepted: {listing}"
        )
    needed = [k for k, (_, default, _) in accepted.items() if default is inspect.Parameter.empty]
    missing = [k for k in needed if k not in given and k not in _PLANNER_ARGS.values()]
    if missing:
        raise ValueError(f"planner={name!r} needs planner_kwargs with {', '.join(missing)}")


def check_interaction_kwargs(name: str, interaction_kwargs: dict | None) -> None:
    """Reject ``interaction_kwargs`` that interaction model ``name`` would drop.

    A factory taking ``**_`` ignores what it lacks (the duplex passes every model the
    same settings), so the keys a user gives it must be its named arguments; a factory
    taking ``**options`` by another name checks them itself (``openai-compatible``).

    Raises:
        ValueError: Naming the unknown arguments, the close matches and the accepted ones.
    """
    import difflib

    params = inspect.signature(INTERACTION_MODELS.get(name)).parameters
    extra = [p for p in params.values() if p.kind is inspect.Parameter.VAR_KEYWORD]
    if extra and extra[0].name != "_":
        return
    named = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    accepted = [k for k, p in params.items() if p.kind in named]
    for key in sorted(set(interaction_kwargs or {}) - set(accepted)):
        close = difflib.get_close_matches(key, accepted, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"interaction={name!r} got unknown interaction_kwargs key {key!r}{hint} "
            f"(accepted: {', '.join(accepted)})"
        )
