"""Wanda (Sun et al. 2023): prune by |W_ij| * ||X_j||_2, compared within each output row.

||X_j||_2 is the norm of input feature j of the layer over all calibration tokens. As in the
reference code, each row prunes its int(in * sparsity) lowest scores (stable sort). Unlike the
reference code, which feeds each block the outputs of the already pruned blocks, all input
norms here come from one forward pass of the dense model, so the model is left unchanged.
"""

import torch
from torch import nn

from pruning.calibration import calibration_batches, input_statistics
from pruning.selection import linear_layers, out_by_in


def _sum_of_squares(x: torch.Tensor) -> torch.Tensor:
    return (x * x).sum(dim=0)


def wanda_masks(
    model: nn.Module, params: dict[str, torch.Tensor], sparsity: float, calibration: object
) -> dict[str, torch.Tensor]:
    """Bool masks keeping, in each output row, the largest |W_ij| * ||X_j||_2."""
    layers = linear_layers(model, list(params))
    squares = input_statistics(model, layers, calibration_batches(calibration), _sum_of_squares)
    masks = {}
    for name, layer in layers.items():
        rows = out_by_in(params[name].detach(), layer)
        scores = rows.float().abs() * squares[name].sqrt()
        pruned = scores.sort(dim=1, stable=True).indices[:, : int(rows.shape[1] * sparsity)]
        kept = torch.ones_like(scores, dtype=torch.bool).scatter_(1, pruned, False)
        masks[name] = out_by_in(kept, layer)
    return masks
