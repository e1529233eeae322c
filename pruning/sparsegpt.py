"""SparseGPT (Frantar & Alistarh 2023): unstructured pruning with OBS weight reconstruction.

For each linear layer, H = X^T X over the calibration inputs X (the paper's 2 X^T X / n differs
by a factor that cancels in every step); columns are processed in blocks of `blocksize`; within
a block the weights with the lowest w^2 / [H^-1]_jj^2 are pruned (int(numel * sparsity) + 1 per
block, ties included, as in the reference code) and the remaining weights are updated to
compensate. Blocks of the model are calibrated in order, each seeing the outputs of the already
pruned blocks before it, as in the paper. It therefore CHANGES THE MODEL'S WEIGHTS IN PLACE (the
kept ones too) and returns the masks. Input features never active in the calibration data have
their weights zeroed but stay kept in the mask, as in the reference code.
"""

import torch
from torch import nn

from pruning.calibration import block_statistics, calibration_batches
from pruning.selection import linear_layers, out_by_in


def _gram(previous: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """X^T X of the inputs so far, x's (batch, tokens, in) added."""
    x = x.reshape(-1, x.shape[-1]).float()
    return x.T @ x if previous is None else previous + x.T @ x


def sparsegpt_prune(
    rows: torch.Tensor, hessian: torch.Tensor, sparsity: float, blocksize: int, percdamp: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pruned and reconstructed (out, in) weights, and their bool mask (True = kept)."""
    weight, hessian = rows.float().clone(), hessian.float().clone()
    columns = weight.shape[1]
    dead = torch.diag(hessian) == 0
    hessian[dead, dead] = 1
    weight[:, dead] = 0
    hessian.diagonal().add_(percdamp * torch.mean(torch.diag(hessian)))
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(hessian)), upper=True)
    pruned = torch.zeros_like(weight, dtype=torch.bool)
    for i1 in range(0, columns, blocksize):
        i2 = min(i1 + blocksize, columns)
        w1, hinv1 = weight[:, i1:i2].clone(), hinv[i1:i2, i1:i2]
        errors = torch.zeros_like(w1)
        scores = w1**2 / torch.diag(hinv1).reshape(1, -1) ** 2
        pruned1 = scores <= torch.sort(scores.flatten())[0][int(scores.numel() * sparsity)]
        for i in range(i2 - i1):
            w, d = w1[:, i], hinv1[i, i]
            q = w.masked_fill(pruned1[:, i], 0)
            errors[:, i] = (w - q) / d
            w1[:, i:] -= errors[:, i : i + 1] @ hinv1[i : i + 1, i:]
            w1[:, i] = q
        weight[:, i1:i2] = w1
        weight[:, i2:] -= errors @ hinv[i1:i2, i2:]
        pruned[:, i1:i2] = pruned1
    return weight, ~pruned


def sparsegpt_masks(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    sparsity: float,
    calibration: object,
    blocksize: int = 128,
    percdamp: float = 0.01,
) -> dict[str, torch.Tensor]:
    """Prune and reconstruct the model's weights in place, block by block; return the masks."""
    layers = linear_layers(model, list(params))
    masks = {}
    for grams in block_statistics(model, layers, calibration_batches(calibration), _gram):
        for name, gram in grams.items():
            rows = out_by_in(params[name].data, layers[name])
            weight, kept = sparsegpt_prune(rows, gram, sparsity, blocksize, percdamp)
            rows.copy_(weight)
            masks[name] = out_by_in(kept, layers[name])
    return masks
