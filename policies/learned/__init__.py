"""The learned interaction model: inputs (:mod:`.features`), network (:mod:`.net`,
torch), the duplex component (:mod:`.interaction`), the shipped checkpoint
(:mod:`.assets`), the data engine (:mod:`.collect`, :mod:`.dataset`) and training
(:mod:`.train`); and reinforcement learning on the when-to-speak decision: the env
(:mod:`.rl_env`), PPO (:mod:`.ppo`, torch) and the ``ppo`` policy (:mod:`.rl_policy`).
Importing this package loads no torch.

torch is an optional dependency (the ``[learn]`` extra, also part of ``[hf]``):
:func:`require_torch` is the guard every torch-using entry point goes through, and
:func:`torch_available` tells whether it would succeed without importing torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

__all__ = ["LEARN_EXTRA", "TRAIN_SEED_BASE", "require_torch", "torch_available"]

#: Training episodes (collect, train-steps, PPO) use seeds at or above this;
#: evaluation uses seeds below it (validation: 900,000 and up).
TRAIN_SEED_BASE: int = 1_000_000

#: The install command named when torch is missing.
LEARN_EXTRA: str = "pip install 'proassist[learn]'"


def torch_available() -> bool:
    """Whether torch can be imported (no import; ``sys.modules['torch'] = None`` hides it)."""
    if "torch" in sys.modules:
        return sys.modules["torch"] is not None
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def require_torch(feature: str = "the learned interaction model") -> ModuleType:
    """Import torch, or fail with a message naming the extra.

    Args:
        feature: What needs torch (named in the message).

    Returns:
        The ``torch`` module.

    Raises:
        ImportError: When torch is not installed: "``feature`` needs torch: pip
            install 'proassist[learn]'".
    """
    try:
        return importlib.import_module("torch")
    except ImportError as err:
        raise ImportError(
            f"{feature} needs torch, which a basic install leaves out: {LEARN_EXTRA} "
            "(or 'proassist[hf]')"
        ) from err
