"""Magnitude pruning, the paper's rule.

Scope `global`: over all prunable tensors together, k = int(N * (1 - sparsity)) weights are to be
kept; the threshold is the k-th largest |w| and a weight is kept iff |w| > threshold (strictly:
ties at the threshold are pruned, as in the paper's seed code). Scope `layer`: the same rule
within each tensor. Exception: sparsity 0 keeps every weight (the strict rule would prune the
smallest one; `compute_masks` applies this to every method). |w| is compared in float32
whatever the model's dtype.
"""

import torch

from pruning.threshold import keep_above_kth_largest


def _keep_count(numel: int, sparsity: float) -> int:
    return int(numel * (1 - sparsity))


def magnitude_masks(
    params: dict[str, torch.Tensor], sparsity: float, scope: str
) -> dict[str, torch.Tensor]:
    """Bool masks (True = kept) of the paper's magnitude rule, per tensor or over all of them."""
    if scope == "layer":
        return {
            name: keep_above_kth_largest([p], _keep_count(p.numel(), sparsity))[0]
            for name, p in params.items()
        }
    total = sum(p.numel() for p in params.values())
    masks = keep_above_kth_largest(list(params.values()), _keep_count(total, sparsity))
    return dict(zip(params, masks))
