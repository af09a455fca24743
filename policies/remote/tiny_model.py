"""A tiny random chat model built offline, to serve in tests and examples.

:func:`build_tiny_chat_model` writes, with ``save_pretrained``, a randomly initialised
Llava (a 1-layer CLIP vision tower on 32x32 images and a 2-layer Llama, hidden size
32, about 100 k parameters: it reads the frames it is sent) or, with ``vision=False``,
the Llama alone, and a word-level tokenizer whose vocabulary is the words of the
built-in prompts, of every library task's goal and steps and of the answer tags,
wrapped in ``PreTrainedTokenizerFast`` with a plain chat template (``role: text``
lines). Nothing is downloaded. Its replies are word salad drawn from that vocabulary;
``silent_boost`` and ``interrupt_boost`` scale the output embeddings of ``$silent$``
and ``$interrupt$`` so that they come up (the lenient parser finds them after the
chatter): with the defaults a run has parsed silences and unparseable replies (often
``$interrupt$`` with nothing to say), and the frames change some replies.

Needs torch, transformers and tokenizers (the ``[hf]`` extra)::

    python -m proassist.policies.remote.tiny_model OUT_DIR
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["CHAT_TEMPLATE", "build_tiny_chat_model", "vocabulary_corpus"]

#: The image placeholder of the vision model (the processor expands it to 4 tokens).
IMAGE_TOKEN: str = "<image>"

#: The chat template: ``role: text`` lines, an image part as :data:`IMAGE_TOKEN`.
CHAT_TEMPLATE: str = (
    "{% for m in messages %}{{ m['role'] }}: "
    "{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for c in m['content'] %}{% if c['type'] == 'text' %}{{ c['text'] }}"
    "{% elif c['type'] == 'image' %}<image> {% endif %}{% endfor %}{% endif %}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)

_SPECIALS: tuple[str, ...] = ("<unk>", "<pad>", "<s>", "</s>")


def vocabulary_corpus() -> list[str]:
    """Sentences whose words make the tokenizer's vocabulary (prompts, tasks, tags)."""
    from proassist.policies.duplex.hf_vlm import DEFAULT_VLM_TEMPLATE
    from proassist.policies.remote.prompt import STRUCTURED_TEMPLATE
    from proassist.scenarios import list_scenarios, load_scenario
    from proassist.sim.messages import INTENTS

    lines = [DEFAULT_VLM_TEMPLATE, STRUCTURED_TEMPLATE, "$silent$ $interrupt$", " ".join(INTENTS)]
    lines.append("assistant: person: user: (no plan yet) (nothing said yet) (Current) (fix)")
    for name in list_scenarios():
        procedure = load_scenario(name).procedure
        lines.append(procedure.goal)
        lines += [f"[{s.id}] {s.instruction}" for s in procedure.steps]
    return [re.sub(r"[{}]", " ", line) for line in lines]


def _tokenizer(corpus: Sequence[str], image_token: str | None) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##")  # joins the words with spaces
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=list(_SPECIALS)))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
        eos_token="</s>",
    )  # fmt: skip
    if image_token:
        fast.add_special_tokens({"additional_special_tokens": [image_token]})
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _text_config(vocab_size: int, hidden: int) -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden,
        num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
        max_position_embeddings=4096, bos_token_id=2, eos_token_id=3, pad_token_id=1,
        tie_word_embeddings=False,
    )  # fmt: skip


def _vision_model(tokenizer: Any, hidden: int) -> tuple[Any, Any]:
    """A tiny Llava (CLIP tower on 32x32 images, 2x2 patches of 16) and its processor."""
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    image_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    vision = CLIPVisionConfig(
        image_size=32, patch_size=16, hidden_size=hidden, intermediate_size=2 * hidden,
        num_hidden_layers=1, num_attention_heads=2, projection_dim=hidden,
    )  # fmt: skip
    config = LlavaConfig(
        vision_config=vision, text_config=_text_config(len(tokenizer), hidden),
        image_token_index=image_id, vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )  # fmt: skip
    images = CLIPImageProcessorPil(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    processor = LlavaProcessor(
        image_processor=images, tokenizer=tokenizer, patch_size=16, image_token=IMAGE_TOKEN,
        vision_feature_select_strategy="default", num_additional_image_tokens=1,
        chat_template=CHAT_TEMPLATE,
    )  # fmt: skip
    return LlavaForConditionalGeneration(config), processor


def build_tiny_chat_model(
    out_dir: str | Path,
    *,
    vision: bool = True,
    seed: int = 0,
    hidden_size: int = 32,
    silent_boost: float = 3.0,
    interrupt_boost: float = 4.0,
) -> Path:
    """Write the tiny chat model and its tokenizer (or processor) to ``out_dir``.

    Args:
        out_dir: Directory to create (``save_pretrained`` layout).
        vision: A Llava that reads the images (else a text-only Llama).
        seed: Seed of the random weights.
        hidden_size: Width of the model.
        silent_boost: Factor on the output embedding of ``$silent$``.
        interrupt_boost: Factor on the output embedding of ``$interrupt$``.

    Returns:
        ``out_dir`` as a path.
    """
    from proassist.policies.duplex.hf_common import require_hf

    torch, transformers = require_hf("the tiny chat model")
    transformers.utils.logging.disable_progress_bar()
    tokenizer = _tokenizer(vocabulary_corpus(), IMAGE_TOKEN if vision else None)
    torch.manual_seed(seed)
    if vision:
        model, processor = _vision_model(tokenizer, hidden_size)
    else:
        config = _text_config(len(tokenizer), hidden_size)
        model, processor = transformers.LlamaForCausalLM(config), tokenizer
    with torch.no_grad():
        head = model.get_output_embeddings().weight
        for tag, boost in (("$silent$", silent_boost), ("$interrupt$", interrupt_boost)):
            head[tokenizer.convert_tokens_to_ids(tag)] *= boost
    model.generation_config.max_new_tokens = 32
    out = Path(out_dir)
    model.eval().save_pretrained(out)
    processor.save_pretrained(out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m proassist.policies.remote.tiny_model OUT_DIR [--seed S]``."""
    parser = argparse.ArgumentParser(prog="python -m proassist.policies.remote.tiny_model")
    parser.add_argument("out_dir", help="directory to write the model and tokenizer to")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument("--text-only", action="store_true", help="a Llama without vision")
    args = parser.parse_args(argv)
    print(build_tiny_chat_model(args.out_dir, vision=not args.text_only, seed=args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
