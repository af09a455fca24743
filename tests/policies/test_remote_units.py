"""The served-model client's parts that need no server: reply parsing (PWR's answer
format, robustly), the request (frames as PNG data URLs), latency settings, the
charged-latency timing, and the one-line error of an unreachable server."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.analysis.cli import main
from proassist.policies import RegistryError, make_policy
from proassist.policies.duplex.components import Decision
from proassist.policies.remote.client import (
    ChatClient,
    ChatReply,
    RemoteCallError,
    ServerUnreachable,
    normalize_base_url,
)
from proassist.policies.remote.interaction import RemoteInteractionModel
from proassist.policies.remote.latency import charged_seconds, check_latency
from proassist.policies.remote.parse import parse_reply
from proassist.policies.remote.prompt import chat_messages, encode_png, png_data_url
from proassist.policies.remote.server import free_port
from proassist.sim.messages import INTENTS, MAX_TEXT, is_valid_text

PLAN = [{"id": "boil_water", "instruction": "Boil the water."}, {"id": "add_tea"}]


# ---------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("$silent$", Decision(False)),
        ("  \n$silent$ because nothing happens", Decision(False)),
        ("$SILENT$", Decision(False)),
        ("Answer: $silent$", Decision(False)),
        ("<think>maybe $interrupt$?</think>$silent$", Decision(False)),
        ("```\n$silent$\n```", Decision(False)),
        ("$interrupt$ Next, boil the water.", Decision(True, text="Next, boil the water.")),
        ("$interrupt$Turn it off\n$silent$ trailing", Decision(True, text="Turn it off")),
        ('"$interrupt$ Careful!"', Decision(True, text="Careful!")),
        ("$interrupt$ stop $silent$", Decision(True, text="stop")),
        (
            "$interrupt$[correct_deviation boil_water] The kettle is off.",
            Decision(True, "correct_deviation", "boil_water", "The kettle is off."),
        ),
        ("$interrupt$[warn] Hot!", Decision(True, "warn", None, "Hot!")),
        ("$interrupt$[warn nope] Hot!", Decision(True, "warn", None, "Hot!")),
        (
            "$interrupt$[instruct_next, boil_water]",
            Decision(True, "instruct_next", "boil_water", "Next, boil the water."),
        ),
        ("$interrupt$[shout boil_water] Hey", Decision(True, text="Hey")),
    ],
)
def test_parse_reply(reply: str, expected: Decision) -> None:
    assert parse_reply(reply, PLAN) == expected


@pytest.mark.parametrize(
    "reply",
    ["", "hello", "$interrupt$", "$interrupt$   \n", "$interrupt$ $silent$", "$interrupt$[shout]"],
)
def test_malformed_replies_are_none(reply: str) -> None:
    assert parse_reply(reply, PLAN) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_reply_parses_to_a_valid_decision_or_none(reply: str) -> None:
    decision = parse_reply(reply, PLAN)
    if decision is None or not decision.interrupt:
        return
    assert decision.text and is_valid_text(decision.text) and len(decision.text) <= MAX_TEXT
    assert decision.intent in (None, *INTENTS)
    assert decision.step in (None, "boil_water", "add_tea")


words = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(words, min_size=1, max_size=8).map(" ".join),
    st.sampled_from(INTENTS),
    st.sampled_from(["boil_water", "add_tea", None]),
    st.sampled_from(["", "Answer: ", "<think>x</think>", "``` "]),
)
def test_structured_replies_round_trip(text: str, intent: str, step: Any, prefix: str) -> None:
    label = f"[{intent} {step}]" if step else f"[{intent}]"
    decision = parse_reply(f"{prefix}$interrupt${label} {text}\nmore", PLAN)
    assert decision == Decision(True, intent, step, text)


# ---------------------------------------------------------------------------- request


def test_png_round_trips_and_messages_carry_frames() -> None:
    from PIL import Image

    frame = np.random.default_rng(0).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(encode_png(frame)))), frame)
    grey = frame[..., 0]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(encode_png(grey)))), grey)
    with pytest.raises(ValueError, match="uint8"):
        encode_png(frame.astype(np.float32))
    (message,) = chat_messages([frame, frame], "Goal: tea")
    parts = message["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "text"]
    assert parts[0]["image_url"]["url"] == png_data_url(frame)
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert chat_messages([], "Goal: tea") == [{"role": "user", "content": "Goal: tea"}]


def test_latency_settings() -> None:
    assert check_latency("paused") == "paused" and check_latency(2) == 2.0
    for bad in ("fast", -1.0, float("nan"), True):
        with pytest.raises(ValueError, match="latency must be"):
            check_latency(bad)
    assert charged_seconds("paused", 3.0) == 0.0
    assert charged_seconds("charged", 3.0) == 3.0
    assert charged_seconds(1.5, 3.0) == 1.5


def test_base_url_and_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert normalize_base_url("http://h:8/") == "http://h:8/v1"
    assert normalize_base_url("https://api.x.org/v1/") == "https://api.x.org/v1"
    with pytest.raises(ValueError, match="http"):
        normalize_base_url("127.0.0.1:8000")
    with pytest.raises(ValueError, match="NO_SUCH_KEY_VAR"):
        ChatClient("http://h:1", "m", api_key_env="NO_SUCH_KEY_VAR")
    monkeypatch.setenv("MY_TEST_KEY", "sk-123")
    client = ChatClient("http://h:1", "m", api_key_env="MY_TEST_KEY")
    assert client._headers()["Authorization"] == "Bearer sk-123"


# ---------------------------------------------------------------------------- errors


def test_unreachable_server_is_one_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ServerUnreachable, match="cannot reach the model server at"):
        make_policy("openai-compatible", base_url=url, model="m")
    client = ChatClient(url, "m", timeout=1.0, retries=2, backoff=0.01)
    with pytest.raises(RemoteCallError) as info:
        client.chat([{"role": "user", "content": "hi"}])
    assert info.value.attempts == 3 and info.value.kind == "connection"


def test_cli_unreachable_server_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    argv = ["eval", "--env", "ProAssist-Kitchen-v0", "--policy", "openai-compatible"]
    argv += ["-k", f"base_url={url}", "-k", "model=m", "--episodes", "1", "--no-paired"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: cannot reach the model server at")
    assert main([*argv[:-3], "--concurrency", "0"]) == 2
    assert "--concurrency >= 1" in capsys.readouterr().err


def test_components_name_what_they_miss() -> None:
    with pytest.raises(ValueError, match="planner_kwargs with base_url, model"):
        make_policy("duplex", planner="openai-compatible")
    with pytest.raises(ValueError, match="unknown planner_kwargs"):
        make_policy("duplex", planner_kwargs={"base_url": "http://h:1"})
    with pytest.raises(ValueError, match="interaction_kwargs with base_url"):
        make_policy("duplex", interaction="openai-compatible")
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['modle'\]"):
        make_policy("duplex", interaction="openai-compatible", interaction_kwargs={"modle": 1})
    with pytest.raises(RegistryError, match="requires keyword argument 'base_url'"):
        make_policy("openai-compatible")


# ---------------------------------------------------------------------------- timing


class _Replies:
    """Stands in for the HTTP client in the timing test: fixed replies, fixed latency."""

    def __init__(self, replies: list[str], latency_s: float) -> None:
        self.replies, self.latency_s, self.calls = list(replies), latency_s, 0

    def chat(self, messages: Any, **_: Any) -> ChatReply:
        self.calls += 1
        return ChatReply(self.replies.pop(0), self.latency_s, 1)


def _obs(t: float) -> dict[str, Any]:
    return {"time": np.array([t], dtype=np.float32), "rgb": np.zeros((4, 4, 3), np.uint8)}


@pytest.mark.parametrize(("latency", "measured"), [("charged", 1.2), (1.2, 0.01)])
def test_charged_latency_delays_decisions(latency: Any, measured: float) -> None:
    model = RemoteInteractionModel("http://h:1", "m", latency=latency, check=False)
    model.client = _Replies(["$interrupt$ one", "$silent$", "$interrupt$ two"], measured)
    model.reset({"goal": "g", "plan": PLAN})
    said = [model.decide([_obs(0.5 * k)], None, []) for k in range(10)]
    spoken = {k: d.text for k, d in enumerate(said) if d.interrupt}
    # call at 0 s -> due 1.2 s -> spoken at 1.5 s (point 3); next call at 2.0 s (due 3.2,
    # silent) -> call at 3.5 s (due 4.7) -> spoken at 5.0 s (point 10: not reached)
    assert spoken == {3: "one"}
    assert model.client.calls == 3 and model.stats["busy"] == 6
    assert model.last_output_info["charged_s"] == pytest.approx(1.2)


def test_planner_parses_the_first_plan_and_keeps_the_last_on_failure() -> None:
    from proassist.policies.duplex.components import PlanContext
    from proassist.policies.duplex.plan_format import render_plan
    from proassist.policies.remote.planner import RemotePlanner

    planner = RemotePlanner("http://h:1", "m", latency="charged", check=False)
    context = PlanContext(goal="Make tea", procedure=PLAN)
    reference = planner.fallback.replan([], None, None, context)
    text = render_plan(reference)
    planner.client = _Replies([f"Sure. {text} and again {text}", "no plan here"], 0.25)
    first = planner.replan([], None, None, context)
    assert first == reference and planner.charged_s == 0.25
    assert planner.replan([], first, "Next, add tea.", context) == first
    assert planner.stats == {"calls": 2, "malformed": 1, "errors": 0}
    assert planner.last_output == "no plan here" and planner.last_output_info["error"] is None
