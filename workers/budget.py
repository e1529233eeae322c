"""Evaluation batches by a token budget, and a retry with half the budget after running out of
memory: a 7B model's open-book prompts × a fixed 128 sequences would need a ~56 GB KV cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

T = TypeVar("T")
CPU_BUDGET_TOKENS = 65_536  # the CPU's budget: its memory is the host's, shared with the model
ACTIVATION_MEMORY = 8 * 2**30  # bytes per batch beyond the weights on an accelerator


def bytes_per_token(config, dtype: torch.dtype, scoring: bool) -> int:
    """Accelerator bytes one token of a batch holds at its peak: its keys and values in every
    layer, its hidden states through a layer (×4 for attention/MLP intermediates), and — when
    every position's log-probabilities are read (scoring) — a row of logits in fp32.
    """
    size = torch.tensor([], dtype=dtype).element_size()
    text = getattr(config, "text_config", config)
    hidden = getattr(text, "hidden_size", None) or getattr(text, "d_model", None) or text.n_embd
    layers = (
        getattr(text, "num_hidden_layers", None) or getattr(text, "n_layer", None) or text.layers
    )
    heads = getattr(text, "num_attention_heads", None) or getattr(text, "n_head", 1)
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    kv = 2 * layers * kv_heads * (hidden // heads) * size
    intermediate = getattr(text, "intermediate_size", None) or 4 * hidden
    activations = (4 * hidden + intermediate) * size
    logits = text.vocab_size * 4 if scoring else 0
    return kv + activations + logits


def token_budget(config, dtype: torch.dtype, device: torch.device, scoring: bool) -> int:
    """How many tokens (batch size × padded length) one evaluation batch may hold."""
    if device.type != "cuda":
        return CPU_BUDGET_TOKENS
    free, _ = torch.cuda.mem_get_info(device)
    memory = min(ACTIVATION_MEMORY, int(free * 0.9))
    return max(1, memory // bytes_per_token(config, dtype, scoring))


def token_batches(
    lengths: Sequence[int], budget: int, max_batch: int | None = None
) -> list[list[int]]:
    """Indices in batches of at most `budget` padded tokens (size × the longest length).

    Longest first, so padding is small and an out-of-memory error comes at the start; an item
    longer than the budget is a batch of its own.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        current = batches[-1] if batches else None
        # sorted longest first: the batch's padded length is its first item's
        if (
            current
            and (len(current) + 1) * lengths[current[0]] <= budget
            and (max_batch is None or len(current) < max_batch)
        ):
            current.append(i)
        else:
            batches.append([i])
    return batches


def is_out_of_memory(error: BaseException) -> bool:
    """An accelerator (or allocator) out-of-memory error, whatever its class in this torch."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error)


def halving_on_oom(run: Callable[[int], T], budget: int, smallest: int = 1) -> tuple[T, int]:
    """`run(budget)`, again with half the budget after each out-of-memory error; (result, budget).

    Gives up (re-raises) once the budget is below `smallest` tokens: one sequence that does not
    fit is not solved by smaller batches.
    """
    while True:
        try:
            return run(budget), budget
        except Exception as error:  # noqa: BLE001  (only out-of-memory errors are retried)
            if not is_out_of_memory(error) or budget // 2 < smallest:
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()  # the failed batch's blocks, back to the allocator
            budget //= 2
