"""A pretrained model that stays loaded on its device across trials: between trials only the
tensors a trial may change (the prunable weights) go back to their pretrained values.

Deep-copying a 7B model per trial costs ~14 GB of host memory and a host-to-device copy each
time. Instead one clean copy of the prunable tensors is kept: on the accelerator when it fits
beside the model, else in pinned host memory; on a CPU-only node, memory-mapped from a local
file (page cache, shared and reclaimable, not the worker's own memory).
"""

from __future__ import annotations

import os
import tempfile

import torch
from torch import nn

DEVICE_HEADROOM = 12 * 2**30  # accelerator bytes left free for evaluation beside model + copy


def _placement(model_device: torch.device, size: int) -> str:
    if model_device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(model_device)
        return "device" if free - size > DEVICE_HEADROOM else "pinned"
    return "mapped"


class CleanCopy:
    """The pretrained values of `names` in `model`; `restore(model)` writes them back in place."""

    def __init__(self, model: nn.Module, names: list[str]):
        params = {name: model.get_parameter(name) for name in names}
        self.names = list(params)
        device = next(iter(params.values())).device if params else torch.device("cpu")
        size = sum(p.numel() * p.element_size() for p in params.values())
        self.placement = _placement(device, size)
        self.copies = self._store(params)

    def _store(self, params: dict[str, nn.Parameter]) -> dict[str, torch.Tensor]:
        if self.placement == "device":
            return {n: p.detach().clone() for n, p in params.items()}
        if self.placement == "pinned":
            return {n: p.detach().to("cpu").pin_memory() for n, p in params.items()}
        return _mapped({n: p.detach() for n, p in params.items()})

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.copies.values())

    @torch.no_grad()
    def restore(self, model: nn.Module) -> None:
        """Put every copied tensor back, bit for bit (asynchronously from pinned memory)."""
        for name, clean in self.copies.items():
            model.get_parameter(name).copy_(clean, non_blocking=self.placement == "pinned")
        if self.placement == "pinned":
            torch.cuda.synchronize()


def _mapped(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors written to an unlinked temporary file and mapped back read-only (shared)."""
    by_dtype: dict[torch.dtype, list[str]] = {}
    for name, tensor in tensors.items():
        by_dtype.setdefault(tensor.dtype, []).append(name)
    views = {}
    for dtype, names in by_dtype.items():
        with tempfile.NamedTemporaryFile(prefix="junkdna-clean-", delete=False) as file:
            for name in names:
                file.write(tensors[name].contiguous().view(torch.uint8).numpy().tobytes())
            path = file.name
        total = sum(tensors[n].numel() for n in names)
        flat = torch.from_file(path, shared=True, size=total, dtype=dtype)
        os.unlink(path)  # the mapping keeps the data; nothing is left behind on disk
        offset = 0
        for name in names:
            n = tensors[name].numel()
            views[name] = flat[offset : offset + n].view(tensors[name].shape)
            offset += n
    return views
