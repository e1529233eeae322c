"""Wanda (Sun et al. 2023): prune by |W_ij| * ||X_j||_2, compared within each output row.

As in the reference code (locuslab/wanda, `prune_wanda`): blocks are pruned in order, each from
the input norms it sees when the blocks before it are already pruned; within a block every layer
uses the norms collected before the block is pruned. ||X_j||^2 is kept as the reference's running
mean over calibration sequences, and each row prunes its int(in * sparsity) lowest scores
(stable sort). The pruned weights are zeroed only while the later blocks are calibrated: the
model is left unchanged.
"""

import torch
from torch import nn

from pruning.calibration import block_statistics, calibration_batches
from pruning.selection import linear_layers, out_by_in


def _mean_square(
    previous: tuple[int, torch.Tensor] | None, x: torch.Tensor
) -> tuple[int, torch.Tensor]:
    """(sequences seen, mean over them of each input feature's squared norm), updated by x."""
    seen, mean = previous if previous is not None else (0, 0.0)
    total = seen + x.shape[0]
    squares = torch.linalg.vector_norm(x.reshape(-1, x.shape[-1]).float(), dim=0) ** 2
    return total, mean * (seen / total) + squares / total


def _row_mask(rows: torch.Tensor, mean_square: torch.Tensor, sparsity: float) -> torch.Tensor:
    """Keep, in each row, all but the int(in * sparsity) lowest |W_ij| * ||X_j||."""
    scores = rows.float().abs() * mean_square.sqrt()
    pruned = scores.sort(dim=1, stable=True).indices[:, : int(rows.shape[1] * sparsity)]
    return torch.ones_like(scores, dtype=torch.bool).scatter_(1, pruned, False)


def wanda_masks(
    model: nn.Module, params: dict[str, torch.Tensor], sparsity: float, calibration: object
) -> dict[str, torch.Tensor]:
    """Bool masks keeping, in each output row, the largest |W_ij| * ||X_j||_2, block by block."""
    layers = linear_layers(model, list(params))
    batches = calibration_batches(calibration)
    masks, zeroed = {}, {}
    try:
        for stats in block_statistics(model, layers, batches, _mean_square):
            for name, (_, mean_square) in stats.items():
                rows = out_by_in(params[name].data, layers[name])
                kept = _row_mask(rows, mean_square, sparsity)
                masks[name] = out_by_in(kept, layers[name])
                # the later blocks see this block pruned; the values wait on the host, not the GPU
                zeroed[name] = rows[~kept].cpu()
                rows.masked_fill_(~kept, 0)
    finally:
        for name, values in zeroed.items():
            rows = out_by_in(params[name].data, layers[name])
            rows.masked_scatter_(~out_by_in(masks[name], layers[name]), values.to(rows.device))
    return masks
