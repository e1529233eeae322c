"""Exact `|w| > k-th largest |w|` masks over many tensors, fast and without a concatenated copy.

The reference concatenates all |w| and calls `torch.topk(k)`: exact but slow and memory-hungry.
Here a strided sample of |w| brackets the k-th largest value between `lo` and `hi`; one chunked
pass writes `|w| > lo` into the masks and collects the few weights in `(lo, hi]` with their
indices; the exact k-th largest value is then found among those, and the masks are corrected at
those indices only. If the bracket misses (e.g. many tied values) or holds too many weights, an
exact radix select on the float32 bit patterns (non-negative floats order like their int32 bits)
finds the value instead, and a second pass writes the masks. Scores are |w| in float32.
"""

import math

import numpy as np
import torch

CHUNK = 1 << 21
SAMPLE = 1 << 20
SAMPLE_SIGMAS = 6.0
CANDIDATE_BUDGET = 0.02


class _Scratch:
    """Chunk-sized work buffers, one pair per device, reused for every tensor of a call."""

    def __init__(self) -> None:
        self._buffers: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    def floats_and_flags(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if device not in self._buffers:
            floats = torch.empty(CHUNK, dtype=torch.float32, device=device)
            self._buffers[device] = floats, torch.zeros(CHUNK, dtype=torch.bool, device=device)
        return self._buffers[device]


def _flat(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().reshape(-1)


def _abs_chunks(flat: torch.Tensor, scratch: _Scratch):
    """(start, |w| in float32) for each chunk of a flat tensor, computed into a scratch buffer."""
    floats, _ = scratch.floats_and_flags(flat.device)
    for start in range(0, flat.numel(), CHUNK):
        chunk = flat[start : start + CHUNK]
        out = floats[: chunk.numel()]
        if chunk.dtype == torch.float32:
            yield start, torch.abs(chunk, out=out)
        else:
            yield start, out.copy_(chunk).abs_()


def _histogram(tensors: list[torch.Tensor], digits, bins: int) -> torch.Tensor:
    counts, scratch = torch.zeros(bins, dtype=torch.int64), _Scratch()
    for tensor in tensors:
        for _, a in _abs_chunks(_flat(tensor), scratch):
            counts += torch.bincount(digits(a.view(torch.int32)), minlength=bins).cpu()
    return counts


def _digit_of_kth_largest(counts: torch.Tensor, k: int) -> tuple[int, int]:
    at_or_above = counts.flip(0).cumsum(0).flip(0)
    digit = int(torch.nonzero(at_or_above >= k).max())
    return digit, k - int(at_or_above[digit] - counts[digit])


def kth_largest_abs(tensors: list[torch.Tensor], k: int) -> torch.Tensor:
    """The exact k-th largest |w| (float32, counting ties) over all tensors, by radix select."""
    high, k = _digit_of_kth_largest(_histogram(tensors, lambda bits: bits >> 16, 1 << 15), k)
    low_counts = _histogram(tensors, lambda bits: bits[(bits >> 16) == high] & 0xFFFF, 1 << 16)
    low, _ = _digit_of_kth_largest(low_counts, k)
    return torch.tensor(high << 16 | low, dtype=torch.int32).view(torch.float32)


def _bracket(tensors: list[torch.Tensor], k: int, total: int) -> tuple[float, float]:
    stride = max(1, total // SAMPLE)
    sample = torch.cat([_flat(t)[::stride].float().abs().cpu() for t in tensors]).numpy()
    n, q = sample.size, k / total
    spread = SAMPLE_SIGMAS * math.sqrt(n * q * (1 - q)) + 1
    hi_rank, lo_rank = int(q * n - spread), int(q * n + spread)  # ranks from the largest, 0-based
    ascending = {r: n - 1 - r for r in (hi_rank, lo_rank) if 0 <= r < n}
    ordered = np.partition(sample, list(ascending.values())) if ascending else sample
    hi = float(ordered[ascending[hi_rank]]) if hi_rank in ascending else math.inf
    lo = float(ordered[ascending[lo_rank]]) if lo_rank in ascending else -1.0
    return lo, hi


def _true_indices(flags: torch.Tensor) -> torch.Tensor:
    """Indices of the True entries of a mostly False bool tensor whose size is a multiple of 8."""
    # Scanning 8-byte words first reads 8 times fewer elements than torch.nonzero on the bools.
    words = flags.view(torch.int64).nonzero().squeeze(1)
    within = flags.view(-1, 8)[words].nonzero()
    return words[within[:, 0]] * 8 + within[:, 1]


def _masks_above(tensors: list[torch.Tensor], lo: float, hi: float, budget: float):
    """Masks `|w| > lo`, the count of True, and the weights in (lo, hi]; None past the budget."""
    masks, inside, above, n_inside, scratch = [], [], 0, 0, _Scratch()
    for i, tensor in enumerate(tensors):
        flat = _flat(tensor)
        mask = torch.empty(flat.shape, dtype=torch.bool, device=flat.device)
        _, flags = scratch.floats_and_flags(flat.device)
        for start, a in _abs_chunks(flat, scratch):
            kept = torch.gt(a, lo, out=mask[start : start + a.numel()])
            if lo < hi:
                torch.le(a, hi, out=flags[: a.numel()]).logical_and_(kept)
                flags[a.numel() :] = False
                index = _true_indices(flags[: -(-a.numel() // 8) * 8])
                n_inside += index.numel()
                if n_inside > budget:
                    return None
                inside.append((i, index + start, a[index]))
        above += int(mask.count_nonzero())
        masks.append(mask)
    return masks, above, inside


def keep_above_kth_largest(tensors: list[torch.Tensor], k: int) -> list[torch.Tensor]:
    """Bool masks `|w| > t`, t the exact k-th largest |w| over all tensors (all False if k is 0)."""
    if k == 0:
        return [torch.zeros_like(t, dtype=torch.bool) for t in tensors]
    total = sum(t.numel() for t in tensors)
    lo, hi = _bracket(tensors, k, total)
    first = _masks_above(tensors, lo, hi, CANDIDATE_BUDGET * total)
    if first is not None:
        masks, above, inside = first
        n_inside = sum(index.numel() for _, index, _ in inside)
        if above - n_inside < k <= above:
            values = torch.cat([v.cpu() for _, _, v in inside]).numpy()
            rank = n_inside - (k - (above - n_inside))  # from the smallest, 0-based
            kth = float(np.partition(values, rank)[rank])
            for i, index, v in inside:
                masks[i][index[v <= kth]] = False
            return [mask.view(tensor.shape) for mask, tensor in zip(masks, tensors)]
    kth = float(kth_largest_abs(tensors, k))
    masks, _, _ = _masks_above(tensors, kth, kth, math.inf)
    return [mask.view(tensor.shape) for mask, tensor in zip(masks, tensors)]
