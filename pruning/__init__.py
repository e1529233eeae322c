"""Pruning masks for pre-trained transformers: which weights to keep, by which rule."""

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
