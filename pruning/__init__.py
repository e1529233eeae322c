"""Pruning masks for pre-trained transformers: which weights to keep, by which rule.

    masks = compute_masks(model, "magnitude", 0.5, "global")   # {name: bool tensor, True = kept}
    apply_masks(model, masks)                                    # zero the pruned weights
    actual_sparsity = measure_sparsity(model, masks)

Methods and the scopes they accept (METHODS): magnitude (global, layer), random (global, layer),
nm (row; keep=N, of=M, sparsity None or 1 - N/M), wanda (row; calibration), sparsegpt (layer;
calibration; rewrites the kept weights in place). RTN quantization is `quantize_rtn`, not a mask.
Which tensors are pruned: `prunable_parameters`. Masks on disk: `save_masks` / `load_masks`,
named by `mask_cache_key(model_fingerprint(model), ...)`.
"""

from pruning.errors import PruningError
from pruning.mask_cache import load_masks, mask_cache_key, model_fingerprint, save_masks
from pruning.masks import METHODS, apply_masks, compute_masks, measure_sparsity
from pruning.rtn import quantize_rtn
from pruning.selection import prunable_parameters

__all__ = [
    "METHODS",
    "PruningError",
    "apply_masks",
    "compute_masks",
    "load_masks",
    "mask_cache_key",
    "measure_sparsity",
    "model_fingerprint",
    "prunable_parameters",
    "quantize_rtn",
    "save_masks",
]
