"""How the simulated person hears and reacts to an assistant message (mixed into ``Person``).

Profile fields are those of :class:`~proassist.scenarios.model.PersonProfile`.

**Hearing** (at the message time ``t``, :meth:`Reactions.listen`):

- Listening costs time: the person stops for ``listen_base + listen_per_word * words``
  seconds at the end of the running motion (:func:`hold`); nothing is lost while they
  wait (a timed step's ``wait``) or idle (distraction, hesitation). A message without
  text counts as :data:`TEMPLATE_WORDS` words plus the named step's instruction.
- For ``tune_out`` seconds after "Please stop." messages are *tuned out*: they cost
  ``listen_base`` only, change nothing and get the response ``ignore``. The person
  tunes out for a time, not for a number of messages: an assistant that talks on
  loses every message of that time, and a quiet one is heard again when it is over.
- Guidance (``instruct_next`` / ``answer_question`` naming plan step ``s``) is noted.
  If the person chooses ``s`` at most ``prevention_window`` seconds after they finished
  listening to it (just in time: as the previous step finishes, which an assistant can
  only time by watching; a plan timer rarely lands there), the latent deviation that
  would manifest there is **prevented** with probability
  ``prevention * trust``; the draw is one uniform of ``param_rng("prevent", s)`` (a
  generator of the seed and the step only, so paired runs stay paired). The manager
  logs ``deviation_prevented`` with the latent deviation (the counterfactual).

**Reacting** (``reaction_delay`` later, :meth:`Reactions.react`). The message gets a
*verdict* (first that applies):

==============  =================================================================
``helpful``     a correction (``correct_deviation``/``warn``/``re_engage``) naming
                the affected, a related (``order``: the predecessor) or a recovery
                step of an *active* deviation (no step:
                an active distraction or hesitation); guidance naming a step
                available now while the person is stuck (hesitating, distracted
                or has asked "what next?")
``wrong``       a correction matching no open deviation (a false alarm); guidance
                naming a plan step that is not next: not done, not under way, and
                some ``after`` predecessor is neither believed done, skipped nor
                the step under way
``redundant``   a correction of a deviation already being recovered; guidance for
                a step done (and not deviated) or under way for more than
                ``guidance_window`` s, or *premature*: heard while the person is
                busy with an earlier plan step that lasts more than
                ``guidance_window`` s longer ("I know, I'm still on this");
                same intent family and step as a message heard less than
                ``redundancy_window`` s before
``irrelevant``  no intent understood (free text matching nothing)
``neutral``     anything else (a confirmation, guidance for an available step)
==============  =================================================================

Trust: ``helpful`` adds ``trust_gain`` (up to 1); ``wrong`` takes ``1/patience``,
``redundant`` ``redundant_cost/patience`` and ``irrelevant`` ``irrelevant_cost/patience``
(not below ``trust_floor``). A useless verdict (the last three) also costs
``dispute_time`` seconds, and when trust is then below ``stop_trust`` the person says
"Please stop." and tunes out for ``tune_out`` seconds.

Response: a matched message is followed with probability ``compliance * trust``
(trust before the update; one draw per message, always made), otherwise ignored.
``confirm_done`` gets "Okay."; guidance naming a step believed done gets "I already
did that."; a false alarm gets "I think it's fine." (response ``already_done``);
free text with no intent gets "Sorry, what do you mean?". The two refusals are said
with probability ``refusal_reply`` (1 in every library profile; strictly between 0
and 1, one draw of ``react_rng`` per refusal), otherwise the message is turned down in
silence.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from proassist.sim.messages import Message
from proassist.sim.person.activity import Activity, Phase

_Outcome = tuple[str, tuple[str, str] | None, Callable[[], None] | None]

ATTENTION_KINDS: frozenset[str] = frozenset({"distraction", "hesitation"})
#: Intents of guidance (what to do next) and of corrections.
GUIDANCE: frozenset[str] = frozenset({"instruct_next", "answer_question"})
CORRECTIONS: frozenset[str] = frozenset({"correct_deviation", "warn", "re_engage"})
#: A correction that matches no deviation, or guidance to a step not coming up.
WRONG: str = "wrong"
#: A correction of a deviation no longer active, guidance to a step already done (or
#: given late or early), or a neutral message repeated within ``redundancy_window``.
REDUNDANT: str = "redundant"
#: A message the person did not understand (no intent).
IRRELEVANT: str = "irrelevant"
#: A message that neither helps nor costs.
NEUTRAL: str = "neutral"
#: Verdicts that cost patience, trust and ``dispute_time``.
USELESS: frozenset[str] = frozenset({REDUNDANT, WRONG, IRRELEVANT})
#: The verdict that adds trust (a message that addresses an active deviation, or
#: guides a stuck person).
HELPFUL: str = "helpful"
#: The verdict of a message heard while the person tunes out (after "Please stop.").
TUNED_OUT: str = "tuned_out"
#: Words a message without text counts besides its step's instruction.
TEMPLATE_WORDS: int = 3
#: What the person says when they tune the assistant out.
STOP_TEXT: str = "Please stop."
#: What the person says to guidance or a correction naming a step they believe done.
DONE_TEXT: str = "I already did that."
#: What the person says to a correction that matches no open deviation (a false alarm).
FINE_TEXT: str = "I think it's fine."

ACKS: dict[str, str] = {
    "omission": "Oh, right, I forgot.",
    "safety": "Oh no, thanks for catching that.",
    "distraction": "Sorry, back to it.",
    "hesitation": "Okay, thanks.",
}

#: The primitive a pause after a phase holds (the pose at the phase's end).
_HOLD_PRIM: dict[str, str] = {"look": "wait", "reach": "grasp", "place": "wait"}


def family(intent: str | None) -> str:
    """The intent family used to spot repeated content (``guide``/``correct``/...)."""
    if intent in GUIDANCE:
        return "guide"
    if intent in CORRECTIONS:
        return "correct"
    return intent or "none"


def message_words(message: Message, instructions: dict[str, str]) -> int:
    """Spoken words of ``message`` (template plus step instruction when it has no text)."""
    if message.text.strip():
        return len(message.text.split())
    return TEMPLATE_WORDS + len(instructions.get(message.step or "", "").split())


def hold(act: Activity | None, t: float, seconds: float) -> float:
    """Pause ``act`` for ``seconds`` after the phase running at ``t``; the seconds lost.

    Nothing is lost while waiting or idle, or when ``act`` is absent, open-ended or over.
    The pause holds the pose the running phase ends in; later phases and onset
    triggers move by ``seconds``.
    """
    if act is None or seconds <= 0 or not math.isfinite(act.end) or act.end <= t:
        return 0.0
    i = next((k for k, ph in enumerate(act.phases) if t < ph.t1), None)
    if i is None or act.phases[i].prim in ("wait", "idle"):
        return 0.0
    ph = act.phases[i]
    prim = _HOLD_PRIM.get(ph.prim, ph.prim)
    held = None if ph.prim in ("reach", "place") else ph.held
    pause = Phase(prim, ph.t1, ph.t1 + seconds, ph.stand, ph.stand, ph.target, ph.target, held)
    for later in act.phases[i + 1 :]:
        later.t0 += seconds
        later.t1 += seconds
    act.phases.insert(i + 1, pause)
    act.end += seconds
    act.triggers = [(w + seconds if w >= ph.t1 else w, d) for w, d in act.triggers]
    return seconds


class Reactions:
    """Mixin of :class:`~proassist.sim.person.person.Person`: hearing and reacting."""

    sim: Any
    index: Any
    profile: Any
    react_rng: Any
    trust: float
    asked: bool
    directed: str | None
    believed: dict[str, None]
    skipped: set[str]
    activity: Any

    def init_reactions(self) -> None:
        """Reset the hearing state (called by ``Person.__init__``)."""
        self.tuned_out_until = -math.inf
        self.heard: dict[float, tuple[float, bool, tuple[str | None, str | None]]] = {}
        self.recent: dict[tuple[str, str | None], float] = {}
        self.guided: dict[str, tuple[float, float]] = {}
        self.premature: set[float] = set()  # times of guidance heard too early
        self.instructions = {s.id: s.instruction for s in self.sim.procedure.steps}

    # ------------------------------------------------------------------ hearing
    def listen(self, message: Message, t: float) -> None:
        """Hear ``message`` at ``t``: understand it, lose the listening time, note guidance.

        The understanding (intent, step) made now is the one the reaction uses.
        """
        prof = self.profile
        tuned_out = t < self.tuned_out_until
        if tuned_out:
            need = prof.listen_base
        else:
            need = prof.listen_base + prof.listen_per_word * message_words(
                message, self.instructions
            )
        intent, target = self.understand(message)
        if not tuned_out and intent in GUIDANCE and target in self.index.steps:
            self.guided[target] = (t, t + need)  # heard, listening over
            if self._premature(target, self.activity, t):
                self.premature.add(round(t, 6))
        self.heard[round(t, 6)] = (hold(self.activity, t, need), tuned_out, (intent, target))

    def deviates(self, step: Any, t: float) -> bool:
        """Just before ``step`` starts: guidance may prevent, then a deviation may start.

        Returns:
            Whether a deviation took over (see ``DeviationManager.before_step``).
        """
        heard, listened = self.guided.pop(step.id, (None, math.inf))
        if heard is not None and t - listened <= self.profile.prevention_window + 1e-9:
            p = self.profile.prevention * self.trust
            draw = float(self.sim.deviations.param_rng("prevent", step.id).random())
            if draw < p:
                self.sim.deviations.prevent(step, t, guided=step.id, message_t=heard, p=p)
        return self.sim.deviations.before_step(step, t)

    # ------------------------------------------------------------------ reacting
    def react(self, message: Message, heard_t: float, delay: float, t: float) -> str:
        """React at ``t`` to ``message`` heard at ``heard_t``; log and return the response.

        The person speaks first, then the ``reaction`` event is logged, then they act.
        """
        comply = self.react_rng.random() < self.profile.compliance * self.trust
        heard = self.heard.pop(round(heard_t, 6), None)
        listened, tuned_out, (intent, target) = heard or (0.0, False, self.understand(message))
        target = self._plan_target(target)
        before = self.trust
        if tuned_out:
            verdict, (response, said, action) = TUNED_OUT, ("ignore", None, None)
        else:
            verdict = self._verdict(intent, target, heard_t)
            response, said, action = self._respond(intent, target, t, comply)
        dispute, stop = self._judge(verdict, t)
        if stop:
            said = (STOP_TEXT, "refuse")
        if said is not None:
            self.say(said[0], said[1], t)
        fields = {"message_t": heard_t, "response": response, "delay": delay}
        fields |= {"trust": self.trust, "target": target, "intent": intent, "verdict": verdict}
        fields |= {"trust_before": before, "listen": listened, "dispute": dispute, "stop": stop}
        self.sim.log("reaction", t, **fields)
        if action is not None:
            action()
        return response

    def _respond(self, intent: str | None, target: str | None, t: float, comply: bool) -> _Outcome:
        """What the person says and does about an understood message."""
        if intent is None:
            return "not_understood", ("Sorry, what do you mean?", "chat"), None
        if intent == "confirm_done":
            return "comply", ("Okay.", "ack"), None
        if intent in GUIDANCE:
            return self._react_instruct(target, t, comply)
        return self._react_correction(target, t, comply)

    def _judge(self, verdict: str, t: float) -> tuple[float, bool]:
        """Update trust for ``verdict``; the dispute seconds lost and whether to stop."""
        prof = self.profile
        if verdict == HELPFUL:
            self.trust = min(1.0, self.trust + prof.trust_gain)
        if verdict not in USELESS:
            return 0.0, False
        weight = {WRONG: 1.0, REDUNDANT: prof.redundant_cost}.get(verdict, prof.irrelevant_cost)
        loss = weight / max(1, prof.patience)
        self.trust = max(min(prof.trust_floor, self.trust), self.trust - loss)
        dispute = hold(self.activity, t, prof.dispute_time)
        stop = self.trust < prof.stop_trust and prof.tune_out > 0
        if stop:
            self.tuned_out_until = t + prof.tune_out
        return dispute, stop

    def _verdict(self, intent: str | None, target: str | None, heard_t: float) -> str:
        """The verdict of an understood message (see the module docstring)."""
        if intent is None:
            return IRRELEVANT
        if intent in CORRECTIONS:
            verdict = self._correction_verdict(target)
        elif intent in GUIDANCE:
            verdict = self._guidance_verdict(target, heard_t)
        else:
            verdict = NEUTRAL
        key = (family(intent), target)
        last = self.recent.get(key)
        self.recent[key] = heard_t
        repeated = last is not None and heard_t - last < self.profile.redundancy_window
        if repeated and verdict == NEUTRAL:
            return REDUNDANT
        return verdict

    def _correction_verdict(self, target: str | None) -> str:
        dev = self.sim.deviations.match(target)
        if dev is None:
            return WRONG
        return HELPFUL if dev.status == "active" else REDUNDANT

    def _guidance_verdict(self, target: str | None, heard_t: float) -> str:
        if target is None or target not in self.index.steps:
            return NEUTRAL
        if self.sim.deviations.match(target) is not None:
            return NEUTRAL
        if target in self.believed:
            return REDUNDANT
        act = self.activity
        if act is not None and act.kind in ("step", "repeat") and act.step == target:
            late = heard_t - act.start > self.profile.guidance_window
            return REDUNDANT if late else NEUTRAL
        if not self._upcoming(target, act):
            return WRONG
        if self.stuck() and target in self.available():
            return HELPFUL
        early = round(heard_t, 6) in self.premature
        self.premature.discard(round(heard_t, 6))
        return REDUNDANT if early else NEUTRAL

    def _premature(self, target: str, act: Activity | None, heard_t: float) -> bool:
        """Whether ``target`` comes after the step under way when heard, and that step
        lasts over ``guidance_window`` seconds more."""
        if act is None or act.kind not in ("step", "repeat") or not math.isfinite(act.end):
            return False
        later = self.index.info[target].position > act.index
        return later and act.end - heard_t > self.profile.guidance_window

    def _upcoming(self, target: str, act: Activity | None) -> bool:
        """Whether ``target`` is next or right after the step under way (``after`` only)."""
        current = act.step if act is not None and act.kind in ("step", "repeat") else None
        done = self.believed
        return all(
            a in done or a in self.skipped or a == current for a in self.index.info[target].after
        )

    def stuck(self) -> bool:
        """Whether the person is stuck: asked "what next?", hesitating or distracted."""
        act = self.activity
        return self.asked or (act is not None and act.kind in ATTENTION_KINDS)

    def _plan_target(self, target: str | None) -> str | None:
        """Map a recovery step id to the plan step it belongs to."""
        if target is None or target in self.sim.index.steps:
            return target
        for dev in self.sim.deviations.devs:
            if any(r.id == target for r in dev.recovery):
                return dev.step
        return target

    def _react_instruct(self, target: str | None, t: float, comply: bool) -> _Outcome:
        self.asked = False
        if target is not None and target in self.believed:
            return "already_done", self._refusal(DONE_TEXT), None
        if not comply:
            return "ignore", None, None

        def act() -> None:
            if target in self.sim.index.steps:
                self.directed = target
                self.skipped.discard(target)
            attention = [d for d in self.sim.deviations.open() if d.kind in ATTENTION_KINDS]
            for dev in attention:
                if dev.status == "active":
                    self.begin_recovery(dev, t, "assistant")
            if not attention and self.activity is not None and self.activity.kind == "wrapup":
                self.interrupt(t)
                self.decide(t)

        return "comply", ("Okay.", "ack"), act

    def _react_correction(self, target: str | None, t: float, comply: bool) -> _Outcome:
        dev = self.sim.deviations.match(target)
        if dev is None:
            done = target is not None and target in self.believed
            return "already_done", self._refusal(DONE_TEXT if done else FINE_TEXT), None
        if dev.status == "recovering":
            return "comply", ("I'm on it.", "ack"), None
        if not self.sim.deviations.recoverable(dev, t):
            return "too_late", ("It's too late to fix that now.", "refuse"), None
        if not comply:
            return "ignore", None, None
        said = (ACKS.get(dev.kind, "Oops, thanks."), "ack")
        return "comply", said, lambda: self.begin_recovery(dev, t, "assistant")

    def _refusal(self, text: str) -> tuple[str, str] | None:
        """``text`` said as a refusal, or ``None`` when the person refuses in silence.

        ``react_rng`` is drawn only when 0 < ``refusal_reply`` < 1: a person who always
        or never replies draws exactly as before, so their episodes differ only by the
        replies.
        """
        p = self.profile.refusal_reply
        if p >= 1.0 or (p > 0.0 and self.react_rng.random() < p):
            return text, "refuse"
        return None

    def ask(self, dev: Any, t: float) -> None:
        """Ask "what next?" if still hesitating on ``dev``."""
        if self.activity is not None and self.activity is dev.activity and dev.status == "active":
            self.asked = True
            self.say("What should I do next?", "question", t)
