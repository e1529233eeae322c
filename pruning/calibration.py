"""Calibration: run sample inputs through the model and sum statistics of each layer's inputs.

`calibration` is a tensor of input_ids (one batch if 2-d, a batch per first index if 3-d), a
dict of model inputs (one batch), or a list of such tensors and dicts.
"""

from collections.abc import Callable

import torch
from torch import nn

from pruning.errors import PruningError


class _Stop(Exception):
    """Raised by a hook to end a calibration forward pass early."""


def calibration_batches(calibration: object) -> list[dict[str, torch.Tensor]]:
    """The calibration data as a list of keyword-argument dicts for the model's forward."""
    if isinstance(calibration, torch.Tensor):
        calibration = [calibration] if calibration.dim() <= 2 else list(calibration)
    elif isinstance(calibration, dict):
        calibration = [calibration]
    if not isinstance(calibration, list) or not calibration:
        raise PruningError(
            "calibration must be input_ids (a tensor), model inputs (a dict) or a non-empty list "
            f"of them, not {type(calibration).__name__}"
        )
    return [batch if isinstance(batch, dict) else {"input_ids": batch} for batch in calibration]


def input_statistics(
    model: nn.Module,
    layers: dict[str, nn.Module],
    batches: list[dict[str, torch.Tensor]],
    statistic: Callable[[torch.Tensor], torch.Tensor],
    stop_after: nn.Module | None = None,
) -> dict[str, torch.Tensor]:
    """Sum over all calibration tokens of `statistic(x)`, x the (tokens, in) float32 inputs."""
    sums: dict[str, torch.Tensor] = {}

    def accumulate(name: str):
        def hook(module: nn.Module, args: tuple) -> None:
            x = args[0].detach().reshape(-1, args[0].shape[-1]).float()
            sums[name] = sums[name] + statistic(x) if name in sums else statistic(x)

        return hook

    def stop(*_: object) -> None:
        raise _Stop

    handles = [layer.register_forward_pre_hook(accumulate(n)) for n, layer in layers.items()]
    if stop_after is not None:
        handles.append(stop_after.register_forward_hook(stop))
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            for batch in batches:
                try:
                    model(**{key: value.to(device) for key, value in batch.items()})
                except _Stop:
                    pass
    finally:
        for handle in handles:
            handle.remove()
    missing = [name for name in layers if name not in sums]
    if missing:
        raise PruningError(f"calibration: the forward pass never reached {missing[0]!r}")
    return sums
