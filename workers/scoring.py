"""Multiple-choice scoring by log-likelihood, as lm-evaluation-harness does it.

Each option is a continuation of the question's prompt; the model picks the option with the
highest log-likelihood (`accuracy`) or the highest log-likelihood per character of the option
(`accuracy_norm`, the harness's acc_norm). Above-chance accuracy, (acc - 1/k) / (1 - 1/k),
makes levels with different numbers of options k comparable: 0 is guessing, 1 is perfect.
"""

from __future__ import annotations

import numpy as np
import torch

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


@torch.no_grad()
def loglikelihoods(
    model: torch.nn.Module,
    tokenizer,
    requests: list[tuple[str, str]],
    batch_size: int,
    max_length: int,
) -> list[float]:
    """log p(continuation | context) for each (context, continuation), summed over its tokens.

    Inputs longer than `max_length` tokens lose their start. Batches hold `batch_size`
    requests, padded to the longest of them; only the continuations' logits are normalised.
    """
    model.eval()
    device = next(model.parameters()).device
    pairs = [split_pair(tokenizer, c, x) for c, x in requests]
    out = []
    for start in range(0, len(pairs), batch_size):
        chunk = [
            ((head + tail)[-(max_length + 1) :][:-1], len(tail))
            for head, tail in pairs[start : start + batch_size]
        ]
        targets = [tail for _, tail in pairs[start : start + batch_size]]
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
            out.append(scored.gather(1, index).sum().item())
    return out


def choice_metrics(
    scores: list[list[float]], options: list[list[str]], answers: list[int]
) -> dict[str, float]:
    """Accuracy with and without length normalisation, and each above chance (1/k)."""
    raw = np.mean([int(np.argmax(s)) == a for s, a in zip(scores, answers)])
    per_char = [[s / len(" " + o) for s, o in zip(row, opts)] for row, opts in zip(scores, options)]
    norm = np.mean([int(np.argmax(s)) == a for s, a in zip(per_char, answers)])
    chance = float(np.mean([1 / len(opts) for opts in options]))
    return {
        "accuracy": float(raw),
        "accuracy_norm": float(norm),
        "chance": chance,
        "accuracy_above_chance": float((raw - chance) / (1 - chance)),
        "accuracy_norm_above_chance": float((norm - chance) / (1 - chance)),
    }
