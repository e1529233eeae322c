"""Random pruning, the control: exactly k = int(n * (1 - sparsity)) weights kept, chosen uniformly.

Scope `global` draws the k kept weights uniformly over all prunable weights together (the count
per tensor follows the multivariate hypergeometric law); scope `layer` draws within each tensor.
The same seed gives the same masks on the same kind of device.
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
    # drawn where the weights are: a 7B model's permutations take minutes on a CPU. The same
    # seed gives the same masks on the same kind of device (CUDA's generator is not the CPU's)
    device = next(iter(params.values())).device if params else torch.device("cpu")
    generator = torch.Generator(device=device).manual_seed(seed)
    masks = {}
    for (name, param), count in zip(params.items(), counts):
        mask = torch.zeros(param.numel(), dtype=torch.bool, device=device)
        mask[torch.randperm(param.numel(), generator=generator, device=device)[:count]] = True
        masks[name] = mask.view(param.shape).to(param.device)
    return masks
