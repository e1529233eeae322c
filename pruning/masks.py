"""Compute, apply and measure pruning masks: the package's entry points.

A mask is a bool tensor of the weight's shape and device, True where the weight is kept.
"""

import torch
from torch import nn

from pruning.errors import PruningError
from pruning.methods import get_method
from pruning.selection import prunable_parameters


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
    Sparsity 0 keeps every weight and changes nothing. What each method takes (its scopes and
    options, calibration, seed, a sparsity of its own) is its record in pruning.methods: `nm`
    takes keep=N, of=M and sparsity None (or 1 - N/M); wanda and sparsegpt need `calibration`
    (see pruning.calibration); `random` uses `seed`.
    """
    record = get_method(method)
    record.check_scope(scope)
    resolved = record.resolve_options({**options, "include": include, "exclude": exclude})
    sparsity = record.sparsity(sparsity, resolved)
    if record.needs_calibration and calibration is None:
        raise PruningError(f"{method} needs calibration data: pass calibration=...")
    params = prunable_parameters(
        model, resolved.pop("include"), resolved.pop("exclude"), resolved.pop("targets")
    )
    with torch.no_grad():
        if sparsity == 0 and record.sets_sparsity is None:
            return {name: torch.ones_like(p, dtype=torch.bool) for name, p in params.items()}
        return record.run(
            model=model,
            params=params,
            sparsity=sparsity,
            scope=scope,
            calibration=calibration,
            seed=seed,
            **resolved,
        )


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
