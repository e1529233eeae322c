"""Compute, apply and measure pruning masks: the package's entry points.

A mask is a bool tensor of the weight's shape and device, True where the weight is kept.
"""

from numbers import Real

import torch
from torch import nn

from pruning.errors import PruningError
from pruning.magnitude import magnitude_masks
from pruning.selection import prunable_parameters

METHODS: dict[str, tuple[str, ...]] = {
    "magnitude": ("global", "layer"),
}
"""The pruning methods and, for each, the scopes it accepts (the first is its natural one)."""


def _check_sparsity(sparsity: object) -> float:
    if isinstance(sparsity, bool) or not isinstance(sparsity, Real) or not 0 <= sparsity < 1:
        raise PruningError(f"sparsity = {sparsity!r} is outside [0, 1)")
    return float(sparsity)


def _check_method_and_scope(method: str, scope: str) -> None:
    if method not in METHODS:
        raise PruningError(f"method = {method!r} is unknown; allowed: {', '.join(METHODS)}")
    if scope not in METHODS[method]:
        allowed = ", ".join(METHODS[method])
        raise PruningError(f"scope = {scope!r} is not allowed for {method}; allowed: {allowed}")


def _check_no_options(method: str, options: dict) -> None:
    if options:
        raise PruningError(f"option {next(iter(options))!r} is unknown for method {method}")


def compute_masks(
    model: nn.Module,
    method: str,
    sparsity: float,
    scope: str = "global",
    *,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    calibration: object = None,
    seed: int = 0,
    **options: object,
) -> dict[str, torch.Tensor]:
    """Masks (True = kept) for the model's prunable tensors; the model is left unchanged."""
    _check_method_and_scope(method, scope)
    sparsity = _check_sparsity(sparsity)
    params = prunable_parameters(model, include, exclude)
    _check_no_options(method, options)
    with torch.no_grad():
        return magnitude_masks(params, sparsity, scope)


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
