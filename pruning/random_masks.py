"""Random pruning, the control: exactly k = int(n * (1 - sparsity)) weights kept, chosen uniformly.

Scope `global` draws the k kept weights uniformly over all prunable weights together (the count
per tensor follows the multivariate hypergeometric law); scope `layer` draws within each tensor.
The same seed gives the same masks.
"""

import numpy as np
import torch


def random_masks(
    params: dict[str, torch.Tensor], sparsity: float, scope: str, seed: int
) -> dict[str, torch.Tensor]:
    """Seeded uniformly random bool masks keeping exactly the rule's count of weights."""
    sizes = [p.numel() for p in params.values()]
    if scope == "global":
        rng = np.random.default_rng(seed)
        counts = rng.multivariate_hypergeometric(sizes, int(sum(sizes) * (1 - sparsity))).tolist()
    else:
        counts = [int(n * (1 - sparsity)) for n in sizes]
    generator = torch.Generator().manual_seed(seed)
    masks = {}
    for (name, param), count in zip(params.items(), counts):
        mask = torch.zeros(param.numel(), dtype=torch.bool)
        mask[torch.randperm(param.numel(), generator=generator)[:count]] = True
        masks[name] = mask.view(param.shape).to(param.device)
    return masks
