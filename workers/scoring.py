"""Multiple-choice scoring by log-likelihood, as lm-evaluation-harness does it.

Each option is a continuation of the question's prompt; its summed log-likelihood is the score
that the `choose` metrics of difficulty.metrics turn into accuracies.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from workers.budget import token_batches
from workers.train import autocast


def split_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """Token ids of context and continuation, split where the harness splits them.

    The pair is encoded as one text, so that the tokens at the boundary are those the model sees
    in running text; a context's trailing spaces move to the continuation.
    """
    spaces = len(context) - len(context.rstrip(" "))
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole = tokenizer(context + continuation).input_ids
    head = tokenizer(context).input_ids
    return whole[: len(head)], whole[len(head) :]


@lru_cache(maxsize=1)
def split_pairs(tokenizer, requests: tuple[tuple[str, str], ...]) -> list:
    """`split_pair` of every request. The last call's are kept: an out-of-memory retry
    (workers.budget.halving_on_oom) scores the same requests again at half the budget, and
    they are not tokenized again."""
    return [split_pair(tokenizer, c, x) for c, x in requests]


@torch.no_grad()
def loglikelihoods(
    model: torch.nn.Module,
    tokenizer,
    requests: list[tuple[str, str]],
    batch_size: int,
    max_length: int,
    budget: int | None = None,
) -> list[float]:
    """log p(continuation | context) for each (context, continuation), summed over its tokens.

    Inputs longer than `max_length` tokens lose their start. Batches hold at most `batch_size`
    requests and `budget` padded tokens (longest first); only the continuations' logits are
    normalised.
    """
    model.eval()
    device = next(model.parameters()).device
    pairs = split_pairs(tokenizer, tuple(requests))
    inputs = [((head + tail)[-(max_length + 1) :][:-1], len(tail)) for head, tail in pairs]
    out = [0.0] * len(pairs)
    lengths = [len(ids) for ids, _ in inputs]
    for indices in token_batches(lengths, budget or batch_size * max(lengths), batch_size):
        chunk = [inputs[i] for i in indices]
        targets = [pairs[i][1] for i in indices]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.full((len(chunk), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, (tokens, _) in enumerate(chunk):
            ids[row, : len(tokens)] = torch.tensor(tokens)
            mask[row, : len(tokens)] = 1
        with autocast(device):
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        for row, ((tokens, n), target) in enumerate(zip(chunk, targets)):
            scored = logits[row, len(tokens) - n : len(tokens)].float().log_softmax(-1)
            index = torch.tensor(target, device=scored.device)[:, None]
            out[indices[row]] = scored.gather(1, index).sum().item()
    return out
