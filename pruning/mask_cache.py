"""Masks as bytes: bit-packed, one safetensors blob per mask set (the caller stores it).

Each mask is flattened and packed 8 to a byte (numpy.packbits); the shapes travel in the
blob's metadata. `mask_cache_key` names a mask set by everything that determines it;
`model_fingerprint` identifies a model's weights cheaply (names, shapes, dtypes and a strided
sample of up to 1024 values of every parameter: it tells checkpoints apart, but would miss an
edit to a single weight outside the sample).
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load, save
from torch import nn

from pruning.errors import PruningError

FINGERPRINT_SAMPLE = 1024


def masks_to_bytes(masks: dict[str, torch.Tensor]) -> bytes:
    """The masks as a safetensors blob, bit-packed."""
    packed = {
        n: torch.from_numpy(np.packbits(m.cpu().numpy().reshape(-1))) for n, m in masks.items()
    }
    shapes = json.dumps({name: list(mask.shape) for name, mask in masks.items()})
    return save(packed, metadata={"shapes": shapes})


def _metadata(data: bytes) -> dict[str, str]:
    # a safetensors blob starts with the length of its JSON header (8 bytes, little-endian)
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size])["__metadata__"]


def masks_from_bytes(data: bytes, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Masks from a blob written by `masks_to_bytes`, as bool tensors on `device`."""
    shapes = json.loads(_metadata(data)["shapes"])
    packed = load(data)
    masks = {}
    for name, shape in shapes.items():
        bits = np.unpackbits(packed[name].numpy(), count=int(np.prod(shape)))
        masks[name] = torch.from_numpy(bits.view(np.bool_)).view(shape).to(device)
    return masks


def save_masks(masks: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Write the masks to a local file (not atomically: a sweep's masks go through its storage)."""
    Path(path).write_bytes(masks_to_bytes(masks))


def load_masks(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> dict[str, torch.Tensor]:
    """Read masks written by `save_masks`, as bool tensors on `device`."""
    return masks_from_bytes(Path(path).read_bytes(), device)


def mask_cache_key(
    model_fingerprint: str,
    method: str,
    sparsity: float | None,
    scope: str,
    options: dict,
    calibration_id: str | None,
) -> str:
    """sha256 hex of the canonical JSON of all that determines a mask set.

    `options` must hold every other argument that changes the masks: include, exclude, seed
    and the method's own options.
    """
    fields = {
        "model": model_fingerprint,
        "method": method,
        "sparsity": sparsity,
        "scope": scope,
        "options": options,
        "calibration": calibration_id,
    }
    try:
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise PruningError(
            f"mask cache key: options must be plain JSON values ({error})"
        ) from error
    return hashlib.sha256(canonical.encode()).hexdigest()


def model_fingerprint(model: nn.Module) -> str:
    """sha256 hex of the parameters' names, shapes, dtypes and a strided sample of their values."""
    digest = hashlib.sha256()
    for name, param in model.named_parameters():
        flat = param.detach().reshape(-1)
        sample = flat[:: max(1, flat.numel() // FINGERPRINT_SAMPLE)].contiguous().cpu()
        digest.update(f"{name}:{tuple(param.shape)}:{param.dtype};".encode())
        digest.update(sample.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
