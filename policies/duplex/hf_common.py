"""Settings shared by the Hugging Face components (:mod:`.hf_planner`, :mod:`.hf_vlm`).

* :func:`require_hf`: imports torch and transformers, or raises an ``ImportError``
  naming the ``[hf]`` extra.
* :func:`resolve_device` (``"auto"``: CUDA when available, else the CPU) and
  :func:`dtype_kwargs` (``"auto"``, ``"float32"``, ``"float16"``, ``"bfloat16"``, as the
  keyword the installed transformers expects).
* :func:`load_template`: a prompt template given inline or as a file path, checked for
  unknown ``{fields}`` when the component is built.
* :func:`stop_when`: a stopping criterion ending generation as soon as the answer is
  complete (or already unparseable), so a small CPU model does not spend its whole
  ``max_new_tokens`` budget on every call.
* :func:`logged_call`: runs one call of a component and logs its raw output (the
  duplex assistant's ``model_outputs``, saved in the episode record).

Nothing heavy is imported at module import.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "DTYPES",
    "HF_EXTRA",
    "check_dtype",
    "dtype_kwargs",
    "load_template",
    "logged_call",
    "require_hf",
    "resolve_device",
    "stop_when",
    "template_fields",
]

#: The install command named when torch or transformers is missing.
HF_EXTRA: str = "pip install 'proassist[hf]'"

#: Accepted ``dtype`` settings (``"auto"``: the checkpoint's own dtype).
DTYPES: tuple[str, ...] = ("auto", "float32", "float16", "bfloat16")


def require_hf(feature: str) -> tuple[Any, Any]:
    """Import ``(torch, transformers)``, or fail naming the ``[hf]`` extra.

    Raises:
        ImportError: "``feature`` needs torch and transformers: pip install 'proassist[hf]'".
    """
    try:
        import torch
        import transformers
    except ImportError as err:
        raise ImportError(
            f"{feature} needs torch and transformers, which a basic install leaves out: {HF_EXTRA}"
        ) from err
    return torch, transformers


def resolve_device(device: str) -> str:
    """``"auto"`` → ``"cuda"`` when a GPU is visible, else ``"cpu"``; others unchanged."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def check_dtype(dtype: str) -> str:
    """``dtype`` when it is one of :data:`DTYPES`.

    Raises:
        ValueError: Naming the accepted values.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    return dtype


def dtype_kwargs(dtype: str) -> dict[str, Any]:
    """The ``from_pretrained`` keyword for ``dtype`` (``dtype=`` or, before
    transformers 4.56, ``torch_dtype=``)."""
    import torch
    import transformers

    value: Any = "auto" if check_dtype(dtype) == "auto" else getattr(torch, dtype)
    major, minor = (int(p) for p in transformers.__version__.split(".")[:2])
    return {"dtype" if (major, minor) >= (4, 56) else "torch_dtype": value}


def template_fields(template: str) -> set[str]:
    """The ``{field}`` names a ``str.format`` template uses."""
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def load_template(template: str | None, default: str, fields: Sequence[str]) -> str:
    """The prompt template: ``default``, a file's text, or ``template`` itself.

    Args:
        template: ``None`` for ``default``; the template text (``str.format`` syntax:
            ``{goal}``; a literal brace is doubled); or, when it has no ``{``, the path
            of a text file holding the template.
        default: The built-in template.
        fields: The field names the component fills in.

    Raises:
        FileNotFoundError: When a template without ``{`` names no file.
        TypeError: When ``template`` is not text (``-k prompt={goal}`` reads as YAML:
            give a file path, or quote the value).
        ValueError: When the template uses a field not in ``fields`` or is malformed.
    """
    if template is None:
        return default
    if not isinstance(template, str):
        raise TypeError(
            f"prompt template must be text or a file path, got {type(template).__name__} "
            "(with -k, give a file path or quote the template: -k 'prompt=\"...{goal}...\"')"
        )
    text = template
    if "{" not in template:
        if not Path(template).is_file():
            raise FileNotFoundError(
                f"prompt template {template!r}: no such file (an inline template uses "
                f"{{fields}}: {', '.join('{' + f + '}' for f in fields)})"
            )
        text = Path(template).read_text(encoding="utf-8")
    try:
        unknown = template_fields(text) - set(fields)
    except ValueError as err:
        raise ValueError(f"prompt template is malformed ({err}): {text[:80]!r}") from err
    if unknown:
        raise ValueError(
            f"prompt template uses unknown field(s) {sorted(unknown)}; "
            f"available: {', '.join('{' + f + '}' for f in fields)}"
        )
    return text


def stop_when(tokenizer: Any, prompt_len: int, done: Callable[[str], bool]) -> Any:
    """A ``StoppingCriteria`` ending generation once ``done(new text)`` is true.

    Args:
        tokenizer: Decodes the generated tokens.
        prompt_len: Length of the prompt in tokens (the generated text follows it).
        done: Tells, from the text generated so far, whether the answer is complete.
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Done(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            flags = [
                done(tokenizer.decode(row[prompt_len:], skip_special_tokens=True))
                for row in input_ids
            ]
            return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_Done()])


def logged_call(
    log: list[dict[str, Any]], now: float, component: str, model: Any, call: Callable[[], Any]
) -> tuple[Any, int]:
    """Run ``call()`` (one call of ``model``) and log the model's raw output.

    A model with a ``last_output`` attribute (the HF components) whose ``stats["calls"]``
    grew gets one entry ``{"t", "component", "output", "parsed"}`` appended to ``log``
    (``parsed`` is false when its ``stats["malformed"]`` grew), updated with the
    model's ``last_output_info`` dict when it has one (a served model's latency and
    error: :mod:`proassist.policies.remote`). Other models are not logged.

    Returns:
        ``(result of call, malformed outputs added by the call)``.
    """

    def counters() -> tuple[int, int]:
        stats = getattr(model, "stats", None) or {}
        return int(stats.get("calls", 0)), int(stats.get("malformed", 0))

    calls, malformed = counters()
    result = call()
    calls_after, malformed_after = counters()
    bad = malformed_after - malformed
    if calls_after > calls and hasattr(model, "last_output"):
        entry = {"t": float(now), "component": component, "output": str(model.last_output)}
        log.append(entry | {"parsed": bad == 0} | dict(getattr(model, "last_output_info", {})))
    return result, bad
