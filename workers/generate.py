"""Generation for evaluation-only tasks: greedy answers of a causal LM, beam-search translations.

Prompts go in batches of at most `batch_size` prompts and a token budget (workers.budget) that
counts prompt and new tokens of every beam; a causal LM's prompts are left-padded and lose their
start beyond `max_length` tokens.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from difficulty.translation import tokenizer_code
from workers.budget import token_batches
from workers.train import autocast


def cut(text: str, stop: tuple[str, ...], skip_blank: bool = False) -> str:
    """The text up to the first stop string, stripped; `skip_blank`: after its leading blanks
    (the paper's "first line" of an answer that starts with a newline is its next line)."""
    if skip_blank:
        text = text.lstrip()
    for s in stop:
        text = text.split(s, 1)[0]
    return text.strip()


class AnswerEnded(StoppingCriteria):
    """Per sequence: its answer is complete (a stop string follows it, `cut`'s rule), so the
    tokens after it would cost forward passes for nothing. A batch stops when all have."""

    def __init__(self, tokenizer, start: int, stop: tuple[str, ...], skip_blank: bool) -> None:
        self.tokenizer, self.start, self.stop, self.skip_blank = tokenizer, start, stop, skip_blank

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.start :], skip_special_tokens=True)
        ended = [any(s in (t.lstrip() if self.skip_blank else t) for s in self.stop) for t in texts]
        return torch.tensor(ended, dtype=torch.bool, device=input_ids.device)


@torch.no_grad()
def answers(
    model: torch.nn.Module,
    tokenizer,
    prompts: list[str],
    batch_size: int,
    max_new_tokens: int,
    max_length: int,
    stop: tuple[str, ...],
    budget: int | None = None,
    skip_blank: bool = False,
) -> list[str]:
    """Greedy continuations of each prompt, cut at the first stop string (`cut`)."""
    tokenizer.padding_side, tokenizer.truncation_side = "left", "left"
    out = [""] * len(prompts)
    limit = max_length - max_new_tokens

    def ended(start: int) -> StoppingCriteriaList:
        return StoppingCriteriaList([AnswerEnded(tokenizer, start, stop, skip_blank)])

    # skip_blank: the answer is the first non-blank line, and the model may not end before it
    # (an instruction-tuned model ends the turn it was not given at once: SmolLM2's <|im_end|>)
    first = {"min_new_tokens": 1} if skip_blank else {}
    for indices, batch, ids in _generated(model, tokenizer, prompts, batch_size, limit, budget,
                                          stopping=ended if stop else None, num_beams=1,
                                          max_new_tokens=max_new_tokens,
                                          pad_token_id=tokenizer.pad_token_id,
                                          **first):  # fmt: skip
        new = ids[:, batch["input_ids"].shape[1] :]
        for i, text in zip(indices, tokenizer.batch_decode(new, skip_special_tokens=True)):
            out[i] = cut(text, stop, skip_blank)
    return out


def _generated(model, tokenizer, texts: list[str], batch_size: int, max_length: int,
               budget: int | None, stopping=None, **generate):  # fmt: skip
    """(indices, tokenized batch, generated ids) for batches of `texts`, greedy unless told
    otherwise; a batch holds at most `batch_size` texts and `budget` tokens, counting every
    beam's prompt and new tokens (longest prompts first). `stopping(prompt width)`: the
    stopping criteria of a batch."""
    model.eval()
    device = next(model.parameters()).device
    side, source = tokenizer.truncation_side, getattr(tokenizer, "src_lang", None)
    encoded = encode(tokenizer, tuple(texts), max_length, side, source)  # padded per batch
    beams = generate.get("num_beams", 1)
    cost = [(len(ids) + generate.get("max_new_tokens", 0)) * beams for ids in encoded.input_ids]
    for indices in token_batches(cost, budget or batch_size * max(cost), batch_size):
        rows = {key: [encoded[key][i] for i in indices] for key in encoded}
        batch = tokenizer.pad(rows, return_tensors="pt").to(device)
        if stopping is not None:
            generate["stopping_criteria"] = stopping(batch["input_ids"].shape[1])
        with autocast(device):
            ids = model.generate(**batch, do_sample=False, **generate)
        yield indices, batch, ids


@lru_cache(maxsize=1)
def encode(tokenizer, texts: tuple[str, ...], max_length: int, side: str, src_lang: str | None):
    """`texts` tokenized, cut to `max_length` on `side` (src_lang: the tokenizer's source tag).
    The last call's are kept: an out-of-memory retry (workers.budget.halving_on_oom) runs the
    same prompts again at half the budget, and they are not tokenized again."""
    return tokenizer(list(texts), truncation=True, max_length=max_length)


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
    budget: int | None = None,
) -> list[str]:
    """Beam-search translations of `sources` from languages[0] into languages[1]."""
    tokenizer.padding_side, tokenizer.truncation_side = "right", "right"
    if hasattr(tokenizer, "src_lang"):  # mBART-50, NLLB, M2M-100 tag the source with its code
        tokenizer.src_lang = tokenizer_code(tokenizer, languages[0])
    start_with = language_start(tokenizer, languages[1])
    out = [""] * len(sources)
    for indices, _, ids in _generated(model, tokenizer, sources, batch_size, max_length, budget,
                                      max_new_tokens=max_new_tokens, num_beams=num_beams,
                                      early_stopping=True, **start_with):  # fmt: skip
        for i, text in zip(indices, tokenizer.batch_decode(ids, skip_special_tokens=True)):
            out[i] = text.strip()
    return out
