"""Round-to-nearest (RTN) weight quantization, the quantization baseline beside pruning.

Asymmetric min-max per output channel, as the RTN baseline of GPTQ: each output row of a weight
(out, in) gets scale = (max - min) / (2^bits - 1) over [min(row, 0), max(row, 0)] and an integer
zero point; weights are rounded to that grid and stored back dequantized, in place. RTN makes no
mask, so `compute_masks` does not offer it: call `quantize_rtn` on the model instead.
"""

import torch
from torch import nn

from pruning.errors import PruningError
from pruning.selection import linear_layers, out_by_in, prunable_parameters

BITS = (8, 4, 3, 2)


def rtn_dequantized(rows: torch.Tensor, bits: int) -> torch.Tensor:
    """Rows of a (out, in) weight rounded to their per-row asymmetric grid of 2^bits levels."""
    rows = rows.float()
    low = rows.min(dim=1, keepdim=True).values.clamp(max=0)
    high = rows.max(dim=1, keepdim=True).values.clamp(min=0)
    levels = 2**bits - 1
    scale = ((high - low) / levels).masked_fill_(high == low, 1.0)
    zero = torch.round(-low / scale)
    return scale * (torch.clamp(torch.round(rows / scale) + zero, 0, levels) - zero)


def quantize_rtn(
    model: nn.Module,
    bits: int,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> None:
    """Quantize the model's prunable weights in place to `bits` bits, round to nearest."""
    if bits not in BITS:
        raise PruningError(
            f"bits = {bits!r} is not supported; allowed: {', '.join(map(str, BITS))}"
        )
    params = prunable_parameters(model, include, exclude)
    with torch.no_grad():
        for name, layer in linear_layers(model, list(params)).items():
            rows = out_by_in(params[name], layer)
            rows.copy_(rtn_dequantized(rows, bits))
