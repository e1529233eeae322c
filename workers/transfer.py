"""Transfer modes: what happens to pruned weights while the model is fine-tuned.

`prepare` applies the mode to a fresh pretrained model and returns the constraint the training
loop calls after every optimizer step, so the mode's invariant holds after the last step too.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from pruning import apply_masks

Constraint = Callable[[], None]


def _parameters(model: torch.nn.Module, masks: dict[str, torch.Tensor]) -> list:
    named = dict(model.named_parameters())
    return [(named[name], mask) for name, mask in masks.items()]


def prepare(model: torch.nn.Module, masks: dict[str, torch.Tensor], transfer: str) -> Constraint:
    """Apply `transfer` to `model` (in place); returns the after-step constraint."""
    if transfer == "dense":
        return lambda: None
    if transfer in ("sparse", "sparse_to_dense", "none"):
        apply_masks(model, masks)
    if transfer == "sparse":
        pruned = [(p, ~m) for p, m in _parameters(model, masks)]

        @torch.no_grad()
        def keep_zero() -> None:
            for p, off in pruned:
                p.masked_fill_(off, 0.0)

        return keep_zero
    if transfer == "dense_freeze":
        frozen = [(p, m, p.detach().clone()) for p, m in _parameters(model, masks)]

        @torch.no_grad()
        def restore_pretrained() -> None:
            for p, kept, original in frozen:
                p.copy_(torch.where(kept, p, original))

        return restore_pretrained
    if transfer in ("sparse_to_dense", "none"):
        return lambda: None
    raise ValueError(f"transfer {transfer!r} is not implemented yet")
