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
    model.eval()
    device = next(model.parameters()).device
    tokenizer.padding_side, tokenizer.truncation_side = "left", "left"
    out = []
    for start in range(0, len(prompts), batch_size):
        batch = tokenizer(
            prompts[start : start + batch_size],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_length - max_new_tokens,
        ).to(device)
        with autocast(device):
            ids = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                pad_token_id=tokenizer.pad_token_id,
            )
        new = ids[:, batch["input_ids"].shape[1] :]
        out += [cut(t, stop) for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return out


def language_start(model: torch.nn.Module, tokenizer, target: str) -> dict[str, int]:
    """How generation is told the target language: mBART starts the decoder with its code,
    NLLB and M2M-100 force it as the first generated token."""
    code = tokenizer.convert_tokens_to_ids(tokenizer_code(tokenizer, target))
    if model.config.model_type == "mbart":
        return {"decoder_start_token_id": code}
    return {"forced_bos_token_id": code}


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
    model.eval()
    device = next(model.parameters()).device
    tokenizer.padding_side, tokenizer.truncation_side = "right", "right"
    if hasattr(tokenizer, "src_lang"):  # mBART, NLLB, M2M-100 tag the source with its language
        tokenizer.src_lang = tokenizer_code(tokenizer, languages[0])
    start_with = language_start(model, tokenizer, languages[1])
    out = []
    for start in range(0, len(sources), batch_size):
        batch = tokenizer(
            sources[start : start + batch_size],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_length,
        ).to(device)
        with autocast(device):
            ids = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                num_beams=num_beams,
                do_sample=False,
                early_stopping=True,
                **start_with,
            )
        out += [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
    return out
