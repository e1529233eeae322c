"""Pruning masks for pre-trained transformers: which weights to keep, by which rule.

    masks = compute_masks(model, "magnitude", 0.5, "global")   # {name: bool tensor, True = kept}
    apply_masks(model, masks)                                    # zero the pruned weights
    actual_sparsity = measure_sparsity(model, masks)

Methods (METHODS, a record each in pruning.methods): magnitude (global, layer), random (global,
layer), nm (row; keep=N, of=M, sparsity None or 1 - N/M), wanda (row; calibration), sparsegpt
(layer; calibration; rewrites the kept weights in place). RTN quantization is `quantize_rtn`,
not a mask.
Which tensors are pruned: `prunable_parameters`. Masks on disk: `save_masks` / `load_masks`,
named by `mask_cache_key(model_fingerprint(model), ...)`.
"""

from importlib import import_module

# name -> the module that defines it; imported on first use (PEP 562), so that the torch-free
# parts (pruning.methods, pruning.errors) can be read without importing torch
_EXPORTS = {
    "METHODS": "pruning.methods",
    "Method": "pruning.methods",
    "Option": "pruning.methods",
    "PruningError": "pruning.errors",
    "apply_masks": "pruning.masks",
    "compute_masks": "pruning.masks",
    "get_method": "pruning.methods",
    "load_masks": "pruning.mask_cache",
    "mask_cache_key": "pruning.mask_cache",
    "measure_sparsity": "pruning.masks",
    "model_fingerprint": "pruning.mask_cache",
    "prunable_parameters": "pruning.selection",
    "quantize_rtn": "pruning.rtn",
    "register_method": "pruning.methods",
    "save_masks": "pruning.mask_cache",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pruning' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
