"""Tests of the simulated person: reactions, trust, free text, hesitation, distraction."""

from __future__ import annotations

import numpy as np
import pytest
from sim_testkit import of_type, profile, run, scenario, scripted

from proassist.sim.engine import Simulation
from proassist.sim.messages import Message
from proassist.sim.person.language import StepMatcher, infer_intent, interpret


def _silent(seed: int = 0, **changes) -> Simulation:
    sc = scenario("kitchen_tea")
    return Simulation(
        sc,
        rng=np.random.default_rng(seed),
        deviation_rates={},
        script=[],
        profile=profile(sc, **changes),
    )


def _at_onset(message: Message):
    def policy(sim, new):
        return message if any(e["type"] == "deviation" for e in new) else None

    return policy


def test_false_alarms_lower_trust_down_to_the_floor() -> None:
    sim = _silent(compliance=1.0, patience=4, trust_floor=0.3, tune_out=0.0)

    def policy(s, new):
        return Message("correct_deviation", "serve_tea") if s.time < 6 and s.time % 1 == 0 else None

    events = run(sim, policy)
    reactions = of_type(events, "reaction")
    assert [r["response"] for r in reactions] == ["already_done"] * 6
    assert [r["verdict"] for r in reactions] == ["wrong"] * 6
    assert [r["trust"] for r in reactions] == pytest.approx([0.75, 0.5, 0.3, 0.3, 0.3, 0.3])
    assert sim.trust == pytest.approx(0.3) and sim.success


def _refusals(reply: float) -> list[dict]:
    """A false alarm at 1, 2 and 3 s, then guidance naming each step as it ends."""
    sim = _silent(compliance=1.0, patience=4, trust_floor=0.3, tune_out=0.0, refusal_reply=reply)

    def policy(s, new):
        if s.time in (1.0, 2.0, 3.0):
            return Message("correct_deviation", "serve_tea")
        done = [e["step"] for e in of_type(new, "step_end")]
        return Message("instruct_next", done[0]) if done and s.time > 4 else None

    return run(sim, policy)


def test_refusal_reply_says_or_withholds_the_refusal_only() -> None:
    """Refused aloud or in silence: the same verdicts, trust and episode otherwise."""
    aloud, silent = _refusals(1.0), _refusals(0.0)
    reactions = of_type(aloud, "reaction")
    assert [r["verdict"] for r in reactions[:3]] == ["wrong"] * 3
    assert [r["trust"] for r in reactions[:3]] == pytest.approx([0.75, 0.5, 0.3])
    assert {r["response"] for r in reactions} == {"already_done"} and len(reactions) > 3
    said = [e["text"] for e in of_type(aloud, "person_utterance")]
    assert said == ["I think it's fine."] * 3 + ["I already did that."] * (len(reactions) - 3)
    assert of_type(silent, "person_utterance") == []
    assert silent == [e for e in aloud if e["type"] != "person_utterance"]


def test_refusal_reply_in_between_draws_per_refusal() -> None:
    sim = _silent(compliance=1.0, patience=100, refusal_reply=0.5)

    def policy(s, new):
        return (
            Message("correct_deviation", "serve_tea") if s.time < 30 and s.time % 1 == 0 else None
        )

    events = run(sim, policy)
    said = [e["text"] for e in of_type(events, "person_utterance")]
    assert 0 < len(said) < len(of_type(events, "reaction")) == 30
    assert set(said) == {"I think it's fine."}


def test_low_trust_says_please_stop_and_tunes_out_for_a_time() -> None:
    sim = _silent(compliance=1.0, patience=4, trust_floor=0.1, stop_trust=0.4, tune_out=3.0)

    def policy(s, new):
        talks = (s.time < 8 and s.time % 1 == 0) or s.time == 20
        return Message("correct_deviation", "serve_tea") if talks else None

    events = run(sim, policy)
    reactions = of_type(events, "reaction")
    verdicts = [r["verdict"] for r in reactions]
    # "Please stop." at the third reaction (t = 3): heard before t = 6, tuned out; the
    # message at 20 s is heard, however many were tuned out before it.
    assert verdicts == ["wrong"] * 3 + ["tuned_out"] * 3 + ["wrong"] + ["tuned_out", "wrong"]
    assert [r["stop"] for r in reactions] == [False, False, True] + [False] * 3 + [
        True,
        False,
        True,
    ]
    stops = [r["t"] for r in reactions if r["stop"]]
    for r in reactions:
        inside = any(s <= r["message_t"] < s + 3.0 for s in stops)
        assert (r["verdict"] == "tuned_out") == inside
    said = [e["text"] for e in of_type(events, "person_utterance")]
    assert said.count("Please stop.") == 3
    tuned = [r for r in reactions if r["verdict"] == "tuned_out"]
    assert all(r["response"] == "ignore" and r["trust"] == r["trust_before"] for r in tuned)


def test_a_profile_with_the_retired_stop_ignore_is_told_what_replaced_it(tmp_path) -> None:
    from proassist.scenarios.validation.validate import validate_file

    (tmp_path / "profiles").mkdir()
    old = tmp_path / "profiles" / "old.yaml"
    old.write_text("name: old\nstop_ignore: 4\n")
    problems = validate_file(old)
    assert [p.field for p in problems] == ["stop_ignore"]
    assert "tune_out" in problems[0].message and "seconds" in problems[0].message


def test_lower_trust_means_lower_compliance() -> None:
    def comply_rate(false_alarms: int) -> float:
        complied = 0
        for seed in range(40):
            sim = scripted(
                "kitchen_tea",
                "omission",
                "fill_kettle",
                seed,
                compliance=1.0,
                patience=2,
                trust_floor=0.25,
                self_correction=0.0,
            )

            def policy(s, new, n=false_alarms):
                if any(e["type"] == "deviation" for e in new):
                    return Message("correct_deviation", "fill_kettle")
                k = round(s.time / s.dt)
                return Message("warn", "serve_tea") if k < n else None

            events = run(sim, policy)
            last = of_type(events, "reaction")[-1]
            complied += last["response"] == "comply"
        return complied / 40

    assert comply_rate(0) == 1.0
    assert comply_rate(3) < 0.5


def test_free_text_correction_is_understood() -> None:
    sim = scripted("kitchen_tea", "omission", "fill_kettle", 2, compliance=1.0, self_correction=0.0)
    events = run(sim, _at_onset(Message(text="Wait, you forgot to fill the kettle with water!")))
    reaction = of_type(events, "reaction")[0]
    assert reaction["response"] == "comply" and reaction["target"] == "fill_kettle"
    assert of_type(events, "deviation_resolved") and sim.success


def test_free_text_warning_fixes_a_hazard() -> None:
    sim = scripted(
        "kitchen_tea", "safety", "turn_off_burner", 0, compliance=1.0, self_correction=0.0
    )
    events = run(sim, _at_onset(Message(text="Careful, the burner is still on. Turn it off!")))
    assert of_type(events, "reaction")[0]["target"] == "turn_off_burner"
    assert of_type(events, "deviation_resolved") and sim.success


def test_gibberish_is_not_understood_and_costs_a_little_trust() -> None:
    sim = _silent(compliance=1.0, patience=5, irrelevant_cost=0.5)
    events = run(sim, lambda s, new: Message(text="zzz qqq") if s.time == 3 else None)
    reaction = of_type(events, "reaction")[0]
    assert reaction["response"] == "not_understood" and reaction["verdict"] == "irrelevant"
    assert sim.trust == pytest.approx(0.9) and sim.success


def test_hesitating_person_asks_and_an_answer_resolves_it() -> None:
    sim = scripted(
        "kitchen_tea",
        "hesitation",
        "add_tea_bag",
        0,
        compliance=1.0,
        self_correction=0.0,
        ask_when_stuck=1.0,
    )

    def policy(s, new):
        asked = [e for e in new if e["type"] == "person_utterance" and e["act"] == "question"]
        return Message(text="Put a tea bag in the mug.") if asked else None

    events = run(sim, policy)
    question = [e for e in of_type(events, "person_utterance") if e["act"] == "question"]
    assert question and question[0]["text"] == "What should I do next?"
    assert of_type(events, "hesitation_start") and of_type(events, "hesitation_end")
    resolved = of_type(events, "deviation_resolved")
    assert resolved and resolved[0]["assisted"] and sim.success
    after = [e["step"] for e in of_type(events, "step_start") if e["t"] >= resolved[0]["t"]]
    assert after[0] == "add_tea_bag"


def test_re_engage_without_step_ends_a_distraction() -> None:
    sim = scripted(
        "kitchen_tea", "distraction", "boil_water", 0, compliance=1.0, self_correction=0.0
    )
    events = run(sim, _at_onset(Message("re_engage")))
    dev = of_type(events, "deviation")[0]
    resolved = of_type(events, "deviation_resolved")
    assert resolved and resolved[0]["latency"] < dev["params"]["duration"]
    assert sim.success


def test_instruct_next_changes_what_the_person_does_next() -> None:
    sim = _silent(3, compliance=1.0)
    events = run(sim, lambda s, new: Message("instruct_next", "get_milk") if s.time == 0 else None)
    starts = [e["step"] for e in of_type(events, "step_start")]
    assert starts[1] == "get_milk"
    reaction = of_type(events, "reaction")[0]
    assert reaction["t"] - reaction["message_t"] == pytest.approx(reaction["delay"])


def test_harmless_messages_cost_only_listening_time() -> None:
    def steps(policy, **changes) -> list[tuple]:
        events = run(_silent(5, **changes), policy)
        return [(e["type"], e["t"], e["step"]) for e in of_type(events, "step_start", "step_end")]

    def confirm(s, new):
        return Message("confirm_done") if s.time % 10 == 0 else None

    free = {"listen_base": 0.0, "listen_per_word": 0.0}
    assert steps(None) == steps(confirm, **free)
    quiet, talked = steps(None), steps(confirm)
    assert [(k, s) for k, _, s in quiet] == [(k, s) for k, _, s in talked]
    assert talked[-1][1] > quiet[-1][1]


def test_language_helpers() -> None:
    matcher = StepMatcher(scenario("kitchen_tea").procedure)
    assert matcher.match("fill the kettle") == "fill_kettle"
    assert matcher.match("turn the burner off") == "turn_off_burner"
    assert matcher.match("zzz") is None
    assert infer_intent("You forgot the milk") == "correct_deviation"
    assert infer_intent("Careful, that is hot") == "warn"
    assert infer_intent("Next, stir the tea") == "instruct_next"
    assert infer_intent("Well done") == "confirm_done"
    assert interpret("Stir the tea", matcher, asked=True) == ("answer_question", "stir_tea")
    assert interpret("hmm", matcher) == (None, None)


TALKING_FIELDS = (
    "listen_base",
    "listen_per_word",
    "dispute_time",
    "redundancy_window",
    "trust_gain",
    "redundant_cost",
    "irrelevant_cost",
    "stop_trust",
    "tune_out",
    "prevention",
    "guidance_window",
    "prevention_window",
    "refusal_reply",
)


def test_library_profiles_set_and_validate_the_talking_fields(tmp_path) -> None:
    from pathlib import Path

    from proassist.scenarios.validation.validate import validate_file

    folder = Path(__file__).resolve().parents[2] / "scenarios" / "profiles"
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text()
        assert validate_file(path) == [], path
        assert all(f"\n{name}:" in text for name in TALKING_FIELDS), path
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nprevention: 1.5\ntune_out: -1\nlisten_base: -0.1\n")
    fields = {p.field.split(".")[0] for p in validate_file(bad)}
    assert {"prevention", "tune_out", "listen_base"} <= fields


def test_env_person_settings_check_the_new_probabilities() -> None:
    from proassist.envs.arguments import check_env_setting

    assert check_env_setting(("person", "prevention"), 0.5) == []
    assert check_env_setting(("person", "prevention"), 1.5)
    assert check_env_setting(("person", "stop_trust"), -0.1)
    assert check_env_setting(("person", "refusal_reply"), 2.0)
