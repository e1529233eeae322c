"""Round-to-nearest (RTN) weight quantization, the quantization baseline beside pruning.

Asymmetric min-max per group, as the RTN baseline of GPTQ (its `Quantizer`, sym=False, with
`groupsize`): each output row of a weight (out, in) is cut along the input dimension into groups
of `group_size` consecutive weights (the last one shorter if `in` is not a multiple; None: the
whole row is one group); each group gets scale = (max - min) / (2^bits - 1) over
[min(group, 0), max(group, 0)] and an integer zero point; weights are rounded to that grid and
stored back dequantized, in place. RTN makes no mask, so `compute_masks` does not offer it: a
sweep's `quantization:` entries call `quantize_rtn` on the model instead.
"""

import torch
from torch import nn

from pruning.errors import PruningError
from pruning.methods import RTN_BITS as BITS
from pruning.selection import linear_layers, out_by_in, prunable_parameters


def rtn_dequantized(rows: torch.Tensor, bits: int) -> torch.Tensor:
    """Rows of a (out, in) weight rounded to their per-row asymmetric grid of 2^bits levels."""
    rows = rows.float()
    low = rows.min(dim=1, keepdim=True).values.clamp(max=0)
    high = rows.max(dim=1, keepdim=True).values.clamp(min=0)
    levels = 2**bits - 1
    scale = ((high - low) / levels).masked_fill_(high == low, 1.0)
    zero = torch.round(-low / scale)
    return scale * (torch.clamp(torch.round(rows / scale) + zero, 0, levels) - zero)


def groups(rows: torch.Tensor, group_size: int | None) -> list[torch.Tensor]:
    """The (out, in) weight's groups along the input dimension, as views (out, group_size)."""
    if group_size is None or group_size >= rows.shape[1]:
        return [rows]
    return list(rows.split(group_size, dim=1))


def check_bits(bits: object) -> int:
    """The bit width, if RTN supports it; PruningError listing the allowed ones otherwise."""
    if bits not in BITS:
        raise PruningError(
            f"bits = {bits!r} is not supported; allowed: {', '.join(map(str, BITS))}"
        )
    return bits  # type: ignore[return-value]


def quantize_rtn(
    model: nn.Module,
    bits: int,
    group_size: int | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> list[str]:
    """Quantize the model's prunable weights in place to `bits` bits, round to nearest, per group
    of `group_size` input weights (None: per output row); returns the quantized tensors' names."""
    check_bits(bits)
    if group_size is not None and group_size < 1:
        raise PruningError(f"group_size = {group_size!r} must be a whole number >= 1 or None")
    names = list(prunable_parameters(model, include, exclude))
    with torch.no_grad():
        for group in _weight_groups(model, names, group_size):
            group.copy_(rtn_dequantized(group, bits))
    return names


def levels_per_group(model: nn.Module, names: list[str], group_size: int | None) -> float:
    """The mean number of distinct values per group over the named weights (<= 2^bits after RTN)."""
    counts = []
    with torch.no_grad():
        for group in _weight_groups(model, names, group_size):
            ordered = group.sort(dim=1).values
            counts.append((ordered.diff(dim=1) != 0).sum(dim=1) + 1)
    return float(torch.cat(counts).float().mean())


def _weight_groups(model: nn.Module, names: list[str], group_size: int | None):
    """Views (out rows × group) of the named linear weights, group by group, in place."""
    for name, layer in linear_layers(model, names).items():
        yield from groups(out_by_in(model.get_parameter(name), layer), group_size)
