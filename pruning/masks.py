"""Compute, apply and measure pruning masks: the package's entry points.

A mask is a bool tensor of the weight's shape and device, True where the weight is kept.
"""

import math
from numbers import Integral, Real

import torch
from torch import nn

from pruning.errors import PruningError
from pruning.magnitude import magnitude_masks
from pruning.nm import nm_mask
from pruning.random_masks import random_masks
from pruning.selection import linear_layers, prunable_parameters
from pruning.sparsegpt import sparsegpt_masks
from pruning.wanda import wanda_masks

METHODS: dict[str, tuple[str, ...]] = {
    "magnitude": ("global", "layer"),
    "random": ("global", "layer"),
    "nm": ("row",),
    "wanda": ("row",),
    "sparsegpt": ("layer",),
}
"""The pruning methods and, for each, the scopes it accepts (the first is its natural one)."""

OPTIONS: dict[str, tuple[str, ...]] = {"nm": ("keep", "of"), "sparsegpt": ("blocksize", "percdamp")}
"""The method-specific keyword options of `compute_masks`."""


def _check_sparsity(sparsity: object) -> float:
    if isinstance(sparsity, bool) or not isinstance(sparsity, Real) or not 0 <= sparsity < 1:
        raise PruningError(f"sparsity = {sparsity!r} is outside [0, 1)")
    return float(sparsity)


def _check_method_and_scope(method: str, scope: str) -> None:
    if method == "rtn":
        raise PruningError(
            "method = 'rtn' quantizes and makes no mask: call pruning.quantize_rtn(model, bits)"
        )
    if method not in METHODS:
        raise PruningError(f"method = {method!r} is unknown; allowed: {', '.join(METHODS)}")
    if scope not in METHODS[method]:
        allowed = ", ".join(METHODS[method])
        raise PruningError(f"scope = {scope!r} is not allowed for {method}; allowed: {allowed}")


def _check_options(method: str, options: dict) -> None:
    allowed = OPTIONS.get(method, ())
    for option in options:
        if option not in allowed:
            raise PruningError(
                f"option {option!r} is unknown for method {method}; "
                f"allowed: {', '.join(allowed) or 'none'}"
            )


def _integer(option: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise PruningError(f"{option} = {value!r} must be an integer >= {low}")
    return int(value)


def _check_nm(sparsity: object, keep: object, of: object) -> tuple[int, int]:
    if keep is None or of is None:
        raise PruningError("nm needs the options keep and of, e.g. keep=2, of=4 for 2:4")
    keep, of = _integer("nm option keep", keep, 1), _integer("nm option of", of, 2)
    if keep >= of:
        raise PruningError(f"nm: keep = {keep} must be smaller than of = {of}")
    if sparsity is not None and not math.isclose(_check_sparsity(sparsity), 1 - keep / of):
        raise PruningError(
            f"sparsity = {sparsity!r} disagrees with nm {keep}:{of}, whose sparsity is "
            f"{1 - keep / of}; pass that or None"
        )
    return keep, of


def _check_percdamp(percdamp: object) -> float:
    if isinstance(percdamp, bool) or not isinstance(percdamp, Real) or percdamp < 0:
        raise PruningError(f"sparsegpt option percdamp = {percdamp!r} must be a number >= 0")
    return float(percdamp)


def compute_masks(
    model: nn.Module,
    method: str,
    sparsity: float | None,
    scope: str = "global",
    *,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    calibration: object = None,
    seed: int = 0,
    **options: object,
) -> dict[str, torch.Tensor]:
    """Masks (True = kept) for the model's prunable tensors; sparsegpt also rewrites the weights.

    Every method but sparsegpt leaves the model unchanged. sparsegpt prunes and reconstructs the
    weights in place (kept weights change too) and returns the masks of what it pruned.
    Sparsity 0 keeps every weight and changes nothing. `nm` takes keep=N, of=M and sparsity None
    (or 1 - N/M); wanda and sparsegpt need `calibration` (see pruning.calibration); `random`
    uses `seed`. `scope` must be one of METHODS[method].
    """
    _check_method_and_scope(method, scope)
    _check_options(method, options)
    if method == "nm":
        keep, of = _check_nm(sparsity, options.get("keep"), options.get("of"))
    else:
        sparsity = _check_sparsity(sparsity)
    if method == "sparsegpt":
        blocksize = _integer("sparsegpt option blocksize", options.get("blocksize", 128), 1)
        percdamp = _check_percdamp(options.get("percdamp", 0.01))
    if method in ("wanda", "sparsegpt") and calibration is None:
        raise PruningError(f"{method} needs calibration data: pass calibration=...")
    params = prunable_parameters(model, include, exclude)
    with torch.no_grad():
        if method == "nm":
            layers = linear_layers(model, list(params))
            return {n: nm_mask(p, layers[n], keep, of) for n, p in params.items()}
        if sparsity == 0:
            return {name: torch.ones_like(p, dtype=torch.bool) for name, p in params.items()}
        if method == "magnitude":
            return magnitude_masks(params, sparsity, scope)
        if method == "random":
            return random_masks(params, sparsity, scope, seed)
        if method == "wanda":
            return wanda_masks(model, params, sparsity, calibration)
        return sparsegpt_masks(model, params, sparsity, calibration, blocksize, percdamp)


def _parameter(model: nn.Module, name: str) -> nn.Parameter:
    try:
        return model.get_parameter(name)
    except AttributeError as error:
        raise PruningError(f"mask {name!r} names no parameter of the model") from error


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Zero the pruned weights of the model in place."""
    with torch.no_grad():
        for name, mask in masks.items():
            param = _parameter(model, name)
            if mask.shape != param.shape:
                raise PruningError(
                    f"mask {name!r} has shape {tuple(mask.shape)}, "
                    f"the parameter {tuple(param.shape)}"
                )
            param.masked_fill_(~mask.to(param.device), 0)


def measure_sparsity(
    model: nn.Module, masks_or_names: dict[str, torch.Tensor] | list[str]
) -> float:
    """The fraction of exact zeros over the named (masked) tensors of the model."""
    params = [_parameter(model, name) for name in masks_or_names]
    zeros = sum(int((p == 0).sum()) for p in params)
    return zeros / sum(p.numel() for p in params)
