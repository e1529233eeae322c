"""N:M semi-structured sparsity: in every M consecutive input weights of an output row, keep N.

Weights are compared by |w| (float32) within each group; GPT-2's Conv1D weights, stored
(in, out), are grouped along their first dimension. The sparsity is 1 - N/M by construction.
"""

import torch

from pruning.errors import PruningError
from pruning.selection import linear_layers, out_by_in


def nm_mask(weight: torch.Tensor, layer: torch.nn.Module, keep: int, of: int) -> torch.Tensor:
    """Bool mask keeping the `keep` largest |w| of every `of` consecutive inputs of each row."""
    rows = out_by_in(weight.detach(), layer)
    if rows.shape[1] % of:
        raise PruningError(f"nm: input width {rows.shape[1]} is not divisible by of = {of}")
    groups = rows.float().abs().reshape(rows.shape[0], -1, of)
    kept = torch.zeros_like(groups, dtype=torch.bool)
    kept.scatter_(2, groups.topk(keep, dim=2).indices, True)
    return out_by_in(kept.reshape(rows.shape), layer)


def nm_masks(model: torch.nn.Module, params: dict[str, torch.Tensor], keep: int, of: int) -> dict:
    """N:M masks of the named linear weights of the model."""
    layers = linear_layers(model, list(params))
    return {name: nm_mask(p, layers[name], keep, of) for name, p in params.items()}
