"""Reference procedures the pruning methods are checked against."""

import torch


def layer_inputs(model: torch.nn.Module, layer: torch.nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """The inputs `layer` sees when `model` runs on `ids`, as rows of features."""
    seen = []
    handle = layer.register_forward_pre_hook(
        lambda m, a: seen.append(a[0].reshape(-1, a[0].shape[-1]))
    )
    with torch.no_grad():
        model(input_ids=ids)
    handle.remove()
    return torch.cat(seen)


def reference_masks(
    params: dict[str, torch.Tensor], sparsity: float, scope: str
) -> dict[str, torch.Tensor]:
    """The paper's seed code: topk over the concatenated |w|, keep |w| > k-th largest."""
    groups = [params] if scope == "global" else [{n: p} for n, p in params.items()]
    masks = {}
    for group in groups:
        scores = torch.cat([p.detach().float().abs().reshape(-1) for p in group.values()])
        k = int(scores.numel() * (1 - sparsity))
        threshold = torch.topk(scores, k, sorted=True)[0][-1]
        masks.update({n: p.detach().float().abs() > threshold for n, p in group.items()})
    return masks
