"""Offline checks that a model can do the tasks a spec gives it, before any trial starts.

Only what is on this machine is read: a local model directory, or a hub model already in the
local cache. A hub model that is not here is checked when its trials load it.
"""

from __future__ import annotations

from difficulty.tasks import CLASSIFICATION, TaskDef
from difficulty.translation import tokenizer_code
from workers.packaged import local_model


def _local(auto, model: str):
    folder = local_model(model)  # a packaged model not yet converted: checked when loaded
    if folder is None:
        return None
    try:
        return auto.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, KeyError):
        return None


def model_problem(model: str, task: TaskDef) -> str | None:
    """Why `model` cannot do `task` (one line), or None if it can or cannot be checked offline."""
    if task.kind == CLASSIFICATION:
        return None
    # imported here: they pull in torch, which a spec of classification tasks does not need
    from transformers import AutoConfig, AutoTokenizer
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
    )

    config = _local(AutoConfig, model)
    if config is None:
        return None
    if task.kind == "translation":
        if not config.is_encoder_decoder or config.model_type not in (
            MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES
        ):
            kind = config.model_type
            return f"is a {kind} model, not an encoder-decoder (seq2seq) translation model"
        tokenizer = _local(AutoTokenizer, model)
        for language in task.languages if tokenizer is not None else ():
            if tokenizer_code(tokenizer, language) is None:
                return f"its tokenizer has no language code for {language!r}"
        return None
    if config.is_encoder_decoder or config.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return f"is a {config.model_type} model, not a causal (decoder-only) language model"
    return None


def window_problem(model: str, length: int) -> str | None:
    """Why `length`-token calibration windows do not fit `model`, or None (or not checkable)."""
    from transformers import AutoConfig

    config = _local(AutoConfig, model)
    window = getattr(config, "max_position_embeddings", None) or getattr(
        config, "n_positions", None
    )
    if isinstance(window, int) and length > window:
        return f"calibration windows of {length} tokens exceed its {window} positions"
    return None
