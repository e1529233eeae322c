"""Generation for evaluation-only tasks: greedy answers of a causal LM, beam-search translations.

Prompts go in batches of `batch_size`, so memory is bounded by batch size × (prompt + new
tokens); a causal LM's prompts are left-padded and lose their start beyond `max_length` tokens.
"""

from __future__ import annotations

import torch

from difficulty.translation import tokenizer_code
from workers.train import autocast


def cut(text: str, stop: tuple[str, ...]) -> str:
    """The text up to the first stop string, stripped."""
    for s in stop:
        text = text.split(s, 1)[0]
    return text.strip()


@torch.no_grad()
def answers(
    model: torch.nn.Module,
    tokenizer,
    prompts: list[str],
    batch_size: int,
    max_new_tokens: int,
    max_length: int,
    stop: tuple[str, ...],
) -> list[str]:
    """Greedy continuations of each prompt, cut at the first stop string."""
    tokenizer.padding_side, tokenizer.truncation_side = "left", "left"
    out = []
    limit = max_length - max_new_tokens
    for batch, ids in _generated(model, tokenizer, prompts, batch_size, limit, num_beams=1,
                                 max_new_tokens=max_new_tokens,
                                 pad_token_id=tokenizer.pad_token_id):  # fmt: skip
        new = ids[:, batch["input_ids"].shape[1] :]
        out += [cut(t, stop) for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return out


def _generated(model, tokenizer, texts: list[str], batch_size: int, max_length: int, **generate):
    """(tokenized batch, generated ids) for each batch of `texts`, greedy unless told otherwise."""
    model.eval()
    device = next(model.parameters()).device
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(
            texts[start : start + batch_size],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_length,
        ).to(device)
        with autocast(device):
            ids = model.generate(**batch, do_sample=False, **generate)
        yield batch, ids


def language_start(tokenizer, target: str) -> dict[str, int]:
    """How generation is told the target language: its code is forced as the first generated
    token (`forced_bos_token_id`), after the model's own decoder start (`</s>` for mBART-50), as
    mBART-50, NLLB and M2M-100 document. A tokenizer without language codes needs none."""
    code = tokenizer_code(tokenizer, target)
    return {} if code is None else {"forced_bos_token_id": tokenizer.convert_tokens_to_ids(code)}


@torch.no_grad()
def translations(
    model: torch.nn.Module,
    tokenizer,
    sources: list[str],
    languages: tuple[str, str],
    batch_size: int,
    max_new_tokens: int,
    max_length: int,
    num_beams: int,
) -> list[str]:
    """Beam-search translations of `sources` from languages[0] into languages[1]."""
    tokenizer.padding_side, tokenizer.truncation_side = "right", "right"
    if hasattr(tokenizer, "src_lang"):  # mBART-50, NLLB, M2M-100 tag the source with its code
        tokenizer.src_lang = tokenizer_code(tokenizer, languages[0])
    start_with = language_start(tokenizer, languages[1])
    out = []
    for _, ids in _generated(model, tokenizer, sources, batch_size, max_length,
                             max_new_tokens=max_new_tokens, num_beams=num_beams,
                             early_stopping=True, **start_with):  # fmt: skip
        out += [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
    return out
