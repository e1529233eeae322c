"""Pruning masks for pre-trained transformers: which weights to keep, by which rule."""

from pruning.errors import PruningError
from pruning.masks import METHODS, apply_masks, compute_masks, measure_sparsity
from pruning.rtn import quantize_rtn
from pruning.selection import prunable_parameters

__all__ = [
    "METHODS",
    "PruningError",
    "apply_masks",
    "compute_masks",
    "measure_sparsity",
    "prunable_parameters",
    "quantize_rtn",
]
