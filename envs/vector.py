"""Text observations that survive Gymnasium's shared-memory async vector envs.

Gymnasium 1.x's :class:`~gymnasium.vector.AsyncVectorEnv` (``shared_memory=True``, its
default) reads the observation buffer once, when it is built, and relies on that read
returning *views* that follow later writes. That holds for ``Box`` (a NumPy view) but
not for ``Text``: its reader decodes the buffer into a tuple of ``str`` at build time,
so every later ``reset``/``step`` returns the initial, all-zero buffer, i.e. strings of
``'0'``. ``gym.make_vec(..., vectorization_mode="async")`` builds the vector env
directly (a registered ``vector_entry_point`` is only used when no mode is given), so
the fix must live in the space: ProAssist's text fields are a :class:`SharedText`, whose
shared-memory reader returns a :class:`TextView` that decodes the buffer when read. The
images keep the speed of shared memory; ``goal`` and ``utterance`` carry the real text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any, overload

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils.shared_memory import read_from_shared_memory

__all__ = ["SharedText", "TextView"]


class SharedText(spaces.Text):
    """A :class:`gymnasium.spaces.Text` whose async-vector shared-memory read is live.

    It samples, checks, flattens and compares exactly like ``Text``; only
    :func:`~gymnasium.vector.utils.read_from_shared_memory` differs (see
    :class:`TextView`).
    """


class TextView(Sequence[str]):
    """The ``n`` strings in a shared ``Text`` buffer, decoded each time they are read.

    A vector env with ``copy=True`` (the default) deep-copies its observations, which
    turns a view into a plain ``tuple`` of ``str`` (the same type a ``SyncVectorEnv``
    returns); with ``copy=False`` the view follows the buffer, like the NumPy views of
    the other fields.
    """

    def __init__(self, space: spaces.Text, buffer: SynchronizedArray, n: int) -> None:
        """Wrap ``buffer``, the shared memory of ``n`` values of ``space``."""
        self._n = n
        self._codes = np.frombuffer(buffer.get_obj(), dtype=np.int32).reshape(n, -1)
        self._chars = np.array(space.character_list, dtype=object)

    def snapshot(self) -> tuple[str, ...]:
        """The strings the buffer holds now (codes past the charset are padding)."""
        size = len(self._chars)
        return tuple("".join(self._chars[row[row < size]]) for row in self._codes)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...
    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        return self.snapshot()[index]

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[str]:
        return iter(self.snapshot())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self.snapshot() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable: its contents follow the buffer

    def __repr__(self) -> str:
        return f"TextView({self.snapshot()!r})"

    def __copy__(self) -> tuple[str, ...]:
        return self.snapshot()

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return self.snapshot()

    def __reduce__(self) -> tuple[type, tuple[tuple[str, ...]]]:
        return tuple, (self.snapshot(),)


@read_from_shared_memory.register(SharedText)
def _read_shared_text(space: SharedText, shared_memory: SynchronizedArray, n: int = 1) -> TextView:
    return TextView(space, shared_memory, n)
