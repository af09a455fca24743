"""Composing assistants: ``first-of`` speaks the first message of several assistants;
``heed`` holds back content the person refused.

Each inner assistant sees every observation and keeps its own state; at each decision
point the action of the first one (in the order given) that interrupts is sent, and
the others' messages at that point are dropped. It combines detectors of different
deviations, e.g. ``stepwatch`` (order and omission from the recognised step) before
the learned duplex (what else it detects):

    make_policy("first-of", policies=[
        {"policy": "stepwatch"},
        {"policy": "duplex", "policy_kwargs": {"interaction": "learned"}},
    ])

With ``resume_from=i`` the re-engagements (``re_engage``) the *other* assistants send
name the step that step watcher ``i`` (``stepwatch`` or ``step-oracle``) would get
back to (:func:`~proassist.policies.watchers.resume_step`: the first required step not
worked on after the furthest one worked on): the learned duplex then says *when* the
person needs a nudge and the recogniser says *to what*. The duplex's own step, read off
its tracked plan, is often the step just finished (issue 11, twenty-third round). An
inner assistant with a ``sent(action) -> bool`` method (``heed``) is told what was
said in its place: the renamed action, so it keys what the person refuses on the step
actually said (a renamed message whose content it holds back is dropped, and the next
assistant's message, if any, goes instead), or ``None`` when another assistant spoke,
so a refusal of that message does not mute content it never said.

The inner assistants do not see each other's messages, so one may repeat what another
just said, or a correction the person has acknowledged and is acting on (a redundant
verdict: trust and a second lost). ``ack_hold`` holds back the content (intent family,
step) of the last message sent before the person acknowledged ("Oops, thanks.", "I'm
on it.") for that many seconds, and ``gap`` any content sent in the last ``gap``
seconds, whoever sends it (:class:`RepeatHold`); a held message is dropped, not
replaced, and counts as not sent (``first_of_held`` in the record counts them). Both
are off by default (measured in ``policies/checkpoints/steps/README.md``,
thirty-sixth round).

``heed`` (:class:`HeedPolicy`) wraps one assistant so it listens: content the person
refused ("I already did that.", "I think it's fine.", "Please stop.") is held back.

A privileged inner assistant (``step-oracle``, ``oracle``) makes ``first-of``
privileged: that one gets the env's ``info`` (the env must be made with
``privileged=True``, which :func:`~proassist.analysis.evaluation.evaluate` does for a
privileged policy); the others still get none, as
:func:`~proassist.policies.rollout.rollout` gives a non-privileged assistant. It makes
reference rows such as ``step-oracle+learned`` (perfect step recognition in front of
the learned duplex) out of the same parts as the deployable ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proassist.policies.base import (
    PolicyBase,
    make_policy,
    observation_time,
    register_policy,
    silent_action,
)
from proassist.policies.learned.rl_env import REFUSED, reply_category
from proassist.policies.watchers import naming, resume_step
from proassist.sim.messages import INTENTS
from proassist.sim.person.reactions import family

__all__ = ["FirstOfPolicy", "HeedPolicy", "RepeatHold", "content"]


def content(action: Mapping[str, Any]) -> tuple[str, int]:
    """What an interrupting action says, as the person judges repeats: its intent family
    (:func:`~proassist.sim.person.reactions.family`) and step index."""
    return family(INTENTS[int(action["intent"])]), int(action["step"])


@register_policy("first-of")
class FirstOfPolicy(PolicyBase):
    """Sends the first interrupting action among ``policies`` (module docstring).

    Args:
        policies: Inner assistants, each ``{"policy": name, "policy_kwargs": {...}}``.
        resume_from: Index of a step watcher among ``policies`` (one with a ``watch``:
            ``stepwatch``, ``step-oracle``) whose next step the others' re-engagements
            name (module docstring); None: each names its own.
        ack_hold: Seconds the content (intent family, step) of the last message sent
            before the person acknowledged ("Oops, thanks.", "I'm on it.") is not sent
            again: they are on it (0: off).
        gap: Seconds the content of a sent message is not sent again, whoever says it
            (before the person could answer it; 0: off).
        done_veto: Drop another assistant's correction (``correct_deviation``) naming a
            plan step that step watcher ``resume_from`` counts as worked on (the next
            assistant's message, if any, goes instead); needs ``resume_from``. A
            correction naming a step the person did is mostly a false alarm on a task
            the watcher's recogniser reads well, but also drops right ones (a
            repetition, a substitution, a wrong setting name a step the person did).

    Attributes:
        privileged: Whether an inner assistant is privileged (module docstring).

    Raises:
        ValueError: With fewer than two entries, or an entry without ``policy`` or with
            other keys; a ``resume_from`` that is not the index of a step watcher; a
            negative ``ack_hold`` or ``gap``; ``done_veto`` without ``resume_from``.
    """

    def __init__(
        self,
        policies: Sequence[Mapping[str, Any]],
        resume_from: int | None = None,
        ack_hold: float = 0.0,
        gap: float = 0.0,
        done_veto: bool = False,
    ) -> None:
        super().__init__()
        if not (ack_hold >= 0.0 and gap >= 0.0):
            raise ValueError(f"first-of: ack_hold and gap must be >= 0, got {ack_hold}, {gap}")
        self.repeats = RepeatHold(float(ack_hold), float(gap))
        if len(policies) < 2:
            raise ValueError(
                "first-of needs at least two policies: [{'policy': name, 'policy_kwargs': {...}}, ...]"
            )
        self.inner = [self._build(i, spec) for i, spec in enumerate(policies)]
        self.privileged = any(getattr(p, "privileged", False) for p in self.inner)
        self.needs_pixels = any(getattr(p, "needs_pixels", True) for p in self.inner)
        modes = {m for p in self.inner for m in (getattr(p, "obs_modes", None) or ("rgb",))}
        self.obs_modes = tuple(m for m in ("rgb", "depth", "segmentation") if m in modes)
        self.name = "first-of(" + ", ".join(str(getattr(p, "name", "?")) for p in self.inner) + ")"
        self.sent_by = [0] * len(self.inner)
        self.resume_from = self._watcher(resume_from, [str(spec["policy"]) for spec in policies])
        if done_veto and self.resume_from is None:
            raise ValueError("first-of: done_veto reads a step watcher's steps: set resume_from")
        self.done_veto, self.vetoed = bool(done_veto), 0

    def _watcher(self, index: int | None, names: list[str]) -> int | None:
        """``index`` checked to be that of an inner step watcher (or None); ``names``
        are the inner assistants' registered names (for the error)."""
        if index is None:
            return None
        if isinstance(index, bool) or not (isinstance(index, int) and 0 <= index < len(self.inner)):
            raise ValueError(f"first-of: resume_from must be an index of policies, got {index!r}")
        if not hasattr(self.inner[index], "watch"):
            raise ValueError(
                f"first-of: resume_from={index} is {names[index]!r}, not a step "
                "watcher (stepwatch, step-oracle)"
            )
        return index

    @staticmethod
    def _build(i: int, spec: Mapping[str, Any]) -> Any:
        extra = set(spec) - {"policy", "policy_kwargs"}
        if "policy" not in spec or extra:
            raise ValueError(
                f"first-of policies[{i}]: need {{'policy': name, 'policy_kwargs': {{...}}}}, got {dict(spec)}"
            )
        return make_policy(str(spec["policy"]), **dict(spec.get("policy_kwargs") or {}))

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Reset every inner assistant and the per-assistant message counts."""
        super().reset(env_info=env_info, seed=seed)
        for p in self.inner:
            p.reset(env_info=env_info, seed=seed)
        self.sent_by, self.vetoed = [0] * len(self.inner), 0
        self.repeats.reset()

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """Every inner assistant acts (a privileged one with ``info``); the first
        interrupting action is sent, unless ``ack_hold`` or ``gap`` holds its content."""
        self.repeats.hear(observation)
        actions = [
            p.act(observation, info if getattr(p, "privileged", False) else None)
            for p in self.inner
        ]
        chosen, out = None, actions[0]
        for i, action in enumerate(actions):
            if not action["decision"]:
                continue
            renamed = self._resumed(i, action)
            if self._vetoed(i, renamed):
                self.vetoed += 1
                continue
            told = getattr(self.inner[i], "sent", None)
            if renamed is not action and callable(told) and not told(renamed):
                continue  # the renamed content is what that assistant's person refused
            if not self.repeats.passes(renamed):
                out = silent_action()  # held back: dropped, not replaced
                break
            chosen, out = i, renamed
            self.sent_by[i] += 1
            break
        self._tell_dropped(actions, chosen)
        return out

    def _tell_dropped(self, actions: list[dict], chosen: int | None) -> None:
        """Tell every other interrupting inner assistant with a ``sent`` method that
        nothing of its was said (``sent(None)``)."""
        for i, action in enumerate(actions):
            told = getattr(self.inner[i], "sent", None)
            if i != chosen and action["decision"] and callable(told):
                told(None)

    def _resumed(self, i: int, action: dict) -> dict:
        """``action`` (sent by inner assistant ``i``), a re-engagement renamed with the
        step watcher's next step when ``resume_from`` is set and another one sent it."""
        if not self._others(i, action, "re_engage"):
            return action
        watch = self.inner[self.resume_from].watch
        k = None if watch is None else resume_step(watch)
        return action if k is None else naming(watch.plan, k, "re_engage")

    def _vetoed(self, i: int, action: dict) -> bool:
        """Whether ``done_veto`` drops ``action`` of inner assistant ``i``: another
        assistant's correction naming a step the step watcher counts as worked on (also
        a right one: a repetition, a substitution or a wrong setting is named by a step
        the person did)."""
        if not self.done_veto or not self._others(i, action, "correct_deviation"):
            return False
        watch = self.inner[self.resume_from].watch
        return watch is not None and int(action["step"]) in watch.worked_on()

    def _others(self, i: int, action: dict, intent: str) -> bool:
        """Whether ``action`` of inner assistant ``i`` is an ``intent`` of an assistant
        other than the step watcher ``resume_from`` (set)."""
        if self.resume_from is None or i == self.resume_from:
            return False
        return INTENTS[int(action["intent"])] == intent  # as HeedPolicy reads it

    def episode_extras(self) -> dict[str, Any]:
        """The inner assistants' extras, how many messages each sent, and how many
        ``done_veto`` dropped."""
        out: dict[str, Any] = {}
        for p in self.inner:
            extras = getattr(p, "episode_extras", None)
            out.update(dict(extras()) if callable(extras) else {})
        held = {"first_of_held": self.repeats.held, "first_of_vetoed": self.vetoed}
        return {**out, "first_of_sent": list(self.sent_by), **held}


class RepeatHold:
    """``first-of``'s ``ack_hold`` and ``gap``: content (intent family, step) not sent
    again while the person is on it, or before they could answer it.

    Args:
        ack_hold: Seconds acknowledged content is held back.
        gap: Seconds sent content is held back.
    """

    def __init__(self, ack_hold: float, gap: float) -> None:
        self.ack_hold, self.gap = ack_hold, gap
        self.reset()

    def reset(self) -> None:
        """Forget what was said and held (a new episode)."""
        self.now, self.held, self.last = 0.0, 0, None
        self.until: dict[tuple[str, int], float] = {}

    def hear(self, observation: dict[str, Any]) -> None:
        """This point's time, and what the person said: an acknowledgement holds the
        last sent content back for ``ack_hold`` s; any reply closes it."""
        self.now = observation_time(observation)
        reply = reply_category(str(observation.get("utterance", "") or ""))
        if reply == "ack" and self.last is not None and self.ack_hold > 0:
            self.until[self.last] = max(self.until.get(self.last, 0.0), self.now + self.ack_hold)
        if reply != "none":
            self.last = None

    def passes(self, action: dict) -> bool:
        """Whether ``action`` may be sent now; if so, it is the content a reply answers."""
        if not action["decision"]:
            return True
        key = content(action)
        if self.now < self.until.get(key, -np.inf) - 1e-9:
            self.held += 1
            return False
        self.last = key
        if self.gap > 0:
            self.until[key] = max(self.until.get(key, 0.0), self.now + self.gap)
        return True


@register_policy("heed")
class HeedPolicy(PolicyBase):
    """Wraps an assistant so it heeds the person: refused content is not said again.

    When the person refuses the wrapped assistant's last message ("I already did
    that.", "I think it's fine.", "Please stop."; the observation's ``utterance``), a
    message of the same intent family (:func:`~proassist.sim.person.reactions.family`)
    naming the same step is dropped for ``mute`` seconds. The wrapped assistant still
    acts at every point and keeps its own state; only its refused content is held back.
    Not privileged: it reads only what the person says.

    Args:
        policy: The wrapped assistant's registered name.
        policy_kwargs: Its constructor arguments.
        mute: Seconds a refused (family, step) stays unsaid (``inf``: the episode).

    Raises:
        ValueError: On a negative ``mute`` or a privileged wrapped assistant.
    """

    def __init__(
        self, policy: str, policy_kwargs: Mapping[str, Any] | None = None, mute: float = 30.0
    ) -> None:
        super().__init__()
        if not mute >= 0.0:
            raise ValueError(f"heed: mute must be >= 0 seconds, got {mute}")
        self.inner = make_policy(policy, **dict(policy_kwargs or {}))
        if getattr(self.inner, "privileged", False):
            raise ValueError(f"heed: {policy!r} is privileged")
        for attr in ("needs_pixels", "obs_modes"):
            if hasattr(self.inner, attr):
                setattr(self, attr, getattr(self.inner, attr))
        self.mute, self.name = float(mute), f"heed({getattr(self.inner, 'name', policy)})"
        self.last: tuple[str, int] | None = None
        self.muted: dict[tuple[str, int], float] = {}
        self.held, self.now = 0, 0.0
        self.before: tuple[str, int] | None = None

    def reset(self, *, env_info: dict[str, Any], seed: int | None) -> None:
        """Reset the wrapped assistant and forget refused content."""
        super().reset(env_info=env_info, seed=seed)
        self.inner.reset(env_info=env_info, seed=seed)
        self.last, self.muted, self.held, self.now = None, {}, 0, 0.0
        self.before = None

    def act(self, observation: dict[str, Any], info: dict[str, Any] | None = None) -> dict:
        """The wrapped assistant's action, unless it repeats refused content."""
        now = self.now = observation_time(observation)
        reply = reply_category(str(observation.get("utterance", "") or ""))
        if reply in REFUSED and self.last is not None:
            self.muted[self.last] = now + self.mute
        if reply != "none":
            self.last = None
        action = self.inner.act(observation, None)
        if not action["decision"]:
            return action
        self.before = self.last
        if not self._heeds(action, now):
            return silent_action()
        return action

    def sent(self, action: dict | None) -> bool:
        """Told by ``first-of`` what was said in place of this assistant's action at
        this point: ``None`` when nothing of its was (another assistant spoke), else a
        renamed action (``resume_from``). Returns whether that content may be said now;
        if so, a refusal is keyed on it from now on."""
        self.last = self.before  # what was said before, until this is said
        return action is not None and self._heeds(action, self.now)

    def _heeds(self, action: dict, now: float) -> bool:
        """Whether ``action``'s (family, step) is not held back at ``now``; if not held
        back, it becomes the content a refusal mutes."""
        key = content(action)
        if now < self.muted.get(key, -np.inf):
            self.held += 1
            return False
        self.last = key
        return True

    def episode_extras(self) -> dict[str, Any]:
        """The wrapped assistant's extras, and how many messages were held back."""
        extras = getattr(self.inner, "episode_extras", None)
        return {**(dict(extras()) if callable(extras) else {}), "heed_held": self.held}
