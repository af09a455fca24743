"""HF planner and VLM interaction model against tiny random models built offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proassist.policies.duplex.components import (
    Decision,
    DialogueTurn,
    InteractionModel,
    PlanContext,
    Planner,
)
from proassist.policies.duplex.hf_planner import build_planner_prompt
from proassist.policies.duplex.hf_vlm import parse_vlm_output
from proassist.policies.duplex.planners import TaskGraphPlanner

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

_WORDS = (
    "<mode> </mode> normal recovery <goal> </goal> <done> </done> <plan> </plan> 1. 2. (Current) "
    "(fix) $silent$ $interrupt$ fill the kettle next step boil water ; [s0] [s1]"
).split()


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>", "<s>", "</s>", "<image>"])
    tok.train_from_iterator([" ".join(_WORDS)], trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
    )


def _text_config(tok, **kw):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        **kw,
    )


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> Path:
    from transformers import LlamaForCausalLM

    path = tmp_path_factory.mktemp("tiny_lm")
    tok = _tokenizer()
    torch.manual_seed(0)
    LlamaForCausalLM(_text_config(tok)).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory) -> Path:
    import transformers
    from transformers import (
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    path = tmp_path_factory.mktemp("tiny_vlm")
    tok = _tokenizer()
    vision = CLIPVisionConfig(
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
        projection_dim=16,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=_text_config(tok),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-1,
    )
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(path)
    image_cls = getattr(transformers, "CLIPImageProcessorPil", transformers.CLIPImageProcessor)
    images = image_cls(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    LlavaProcessor(
        image_processor=images,
        tokenizer=tok,
        patch_size=8,
        image_token="<image>",
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    ).save_pretrained(path)
    return path


def _ctx(env_info: dict) -> PlanContext:
    return PlanContext(env_info["goal"], env_info["plan"], clip_description="a kettle on a counter")


def test_hf_planner_runs_and_keeps_plan_on_garbage(tiny_lm: Path, env_info: dict) -> None:
    from proassist.policies.duplex.planners import make_planner

    planner = make_planner("hf", model_path=str(tiny_lm), max_new_tokens=12)
    assert isinstance(planner, Planner)
    first = planner.replan([], None, None, _ctx(env_info))
    assert first == TaskGraphPlanner().replan([], None, None, _ctx(env_info))  # fallback
    said = Decision(True, "instruct_next", "s1", "Next, do step 1")
    for _ in range(3):
        assert planner.replan([], first, said, _ctx(env_info)) is first  # random model: malformed
    assert planner.stats["calls"] == planner.stats["malformed"] == 4
    assert 0 < planner.stats["new_tokens"] <= 4 * 12
    assert isinstance(planner.last_output, str)


def test_planner_prompt_has_pwr_inputs(env_info: dict) -> None:
    plan = TaskGraphPlanner().replan([], None, None, _ctx(env_info))
    prompt = build_planner_prompt(plan, Decision(True, "warn", "s1", "Careful"), _ctx(env_info))
    for part in (
        "Finish the toy task",
        "(Current)",
        "[warn s1] Careful",
        "a kettle on a counter",
        "[s2] Do step number 2",
    ):
        assert part in prompt


def test_hf_planner_missing_path(tmp_path: Path) -> None:
    from proassist.policies.duplex.hf_planner import HFPlanner

    with pytest.raises(FileNotFoundError, match="not a directory"):
        HFPlanner(str(tmp_path / "nope"))


def test_vlm_interaction_model_never_crashes(tiny_vlm: Path, env_info: dict) -> None:
    from proassist.policies.duplex.hf_vlm import HFInteractionModel

    model = HFInteractionModel(tiny_vlm, n_frames=2, max_new_tokens=6)
    assert isinstance(model, InteractionModel)
    model.reset(env_info)
    plan = TaskGraphPlanner().replan([], None, None, _ctx(env_info))
    rng = np.random.default_rng(0)
    history = [
        {"rgb": rng.integers(0, 255, (48, 48, 3), dtype=np.uint8), "time": np.array([k * 0.5])}
        for k in range(3)
    ]
    dialogue = [
        DialogueTurn(0.0, "assistant", "Fill the kettle"),
        DialogueTurn(1.0, "person", "ok"),
    ]
    outs = [model.decide(history, plan if k % 2 else None, dialogue) for k in range(4)]
    assert all(isinstance(d, Decision) for d in outs)
    assert model.stats["calls"] == 4
    assert model.stats["interrupts"] == sum(d.interrupt for d in outs)
    expected = parse_vlm_output(model.last_output)
    assert outs[-1] == (expected if expected is not None else Decision(False))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  $silent$", Decision(False)),
        ("$interrupt$ Turn the burner off.", Decision(True, text="Turn the burner off.")),
        ("$interrupt$", None),
        ("I think $silent$", None),
        ("", None),
    ],
)
def test_parse_vlm_output(text: str, expected: Decision | None) -> None:
    assert parse_vlm_output(text) == expected


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_parse_vlm_output_total(text: str) -> None:
    decision = parse_vlm_output(text)
    assert decision is None or len(decision.text) <= 256 and decision.text.isprintable()


def _constant_head(model, token_id: int) -> None:
    """Make a loaded model always answer ``token_id`` (in memory: zero weights, a bias)."""
    hidden = model.lm_head.in_features
    head = torch.nn.Linear(hidden, model.lm_head.out_features, bias=True)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(-10.0)
        head.bias[token_id] = 10.0
    model.lm_head = head


def test_hf_planner_settings_and_early_stop(tiny_lm: Path, env_info: dict) -> None:
    from proassist.policies.duplex.hf_planner import PLAN_SLACK_TOKENS, HFPlanner

    planner = HFPlanner(str(tiny_lm), dtype="float32", prompt="Goal: {goal}. Plan:")
    assert planner.max_new_tokens is None and planner.template == "Goal: {goal}. Plan:"
    assert next(planner.model.parameters()).dtype == torch.float32
    auto = HFPlanner(str(tiny_lm), device="auto", dtype="bfloat16")
    assert auto.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert next(auto.model.parameters()).dtype == torch.bfloat16
    reference = TaskGraphPlanner().replan([], None, None, _ctx(env_info))
    budget = planner.token_budget(reference)
    assert PLAN_SLACK_TOKENS < budget < 256  # sized to the plan, not a fixed 256
    _constant_head(planner.model, planner.tokenizer.convert_tokens_to_ids("<mode>"))
    planner.replan([], None, None, _ctx(env_info))
    assert planner.last_output.split() == ["<mode>", "<mode>"]  # stopped: cannot parse
    assert planner.stats["new_tokens"] == 2 and planner.stats["malformed"] == 1


def test_hf_vlm_settings_and_early_stop(tiny_vlm: Path, env_info: dict) -> None:
    from proassist.policies.duplex.hf_vlm import HFInteractionModel

    template = "{silent} or {interrupt}? Goal: {goal}"
    model = HFInteractionModel(tiny_vlm, n_frames=2, max_new_tokens=20, prompt=template)
    model.reset(env_info)
    tok = model.processor.tokenizer
    _constant_head(model.model, tok.convert_tokens_to_ids("$silent$"))
    rng = np.random.default_rng(0)
    history = [
        {"rgb": rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), "time": np.array([k * 0.5])}
        for k in range(3)
    ]
    assert model.decide(history, None, []) == Decision(False)
    assert model.last_output.strip() == "$silent$"
    assert model.stats["new_tokens"] == 1 and model.stats["malformed"] == 0
    with pytest.raises(ValueError, match="n_frames"):
        HFInteractionModel(tiny_vlm, n_frames=0)
    with pytest.raises(ValueError, match="dtype"):
        HFInteractionModel(tiny_vlm, dtype="fp8")


def test_duplex_hf_settings_through_make_policy_and_k(tiny_lm: Path, tmp_path: Path) -> None:
    from proassist.analysis.cli.eval import parse_kv
    from proassist.policies import make_policy

    template = tmp_path / "planner.txt"
    template.write_text("Goal: {goal}\nProcedure: {procedure}\nPlan:\n")
    kwargs = parse_kv(
        [
            "planner=hf",
            f"planner_path={tiny_lm}",
            "planner_max_new_tokens=8",
            "device=cpu",
            "dtype=float32",
            f"planner_prompt={template}",
            "n_frames=3",
        ]
    )
    policy = make_policy("duplex", **kwargs)
    assert policy.planner.max_new_tokens == 8 and policy.planner.device == "cpu"
    assert policy.planner.template == template.read_text() and policy.planner.dtype == "float32"
    inline = parse_kv(['planner_prompt="Goal: {goal}"'])  # quoted: YAML keeps the braces
    assert make_policy("duplex", **kwargs | inline).planner.template == "Goal: {goal}"
    with pytest.raises(TypeError, match="quote"):
        make_policy("duplex", **kwargs | parse_kv(["planner_prompt=Goal: {goal}"]))
    with pytest.raises(ValueError, match="unknown field"):
        make_policy("duplex", **kwargs | {"planner_prompt": "{goal} {nope}"})
    with pytest.raises(ValueError, match="dtype"):
        make_policy("duplex", dtype="float8")
