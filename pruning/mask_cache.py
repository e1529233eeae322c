"""Masks on disk: bit-packed, one safetensors file per mask set, written atomically.

Each mask is flattened and packed 8 to a byte (numpy.packbits); the shapes travel in the
file's metadata. `mask_cache_key` names a mask set by everything that determines it;
`model_fingerprint` identifies a model's weights cheaply (names, shapes, dtypes and a strided
sample of up to 1024 values of every parameter: it tells checkpoints apart, but would miss an
edit to a single weight outside the sample).
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from pruning.errors import PruningError

FINGERPRINT_SAMPLE = 1024


def save_masks(masks: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Write the masks to `path`, bit-packed, replacing any file there atomically."""
    path = Path(path)
    packed = {
        n: torch.from_numpy(np.packbits(m.cpu().numpy().reshape(-1))) for n, m in masks.items()
    }
    shapes = json.dumps({name: list(mask.shape) for name, mask in masks.items()})
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        save_file(packed, temporary, metadata={"shapes": shapes})
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load_masks(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> dict[str, torch.Tensor]:
    """Read masks written by `save_masks`, as bool tensors on `device`."""
    with safe_open(str(path), framework="pt") as file:
        shapes = json.loads(file.metadata()["shapes"])
        masks = {}
        for name, shape in shapes.items():
            bits = np.unpackbits(file.get_tensor(name).numpy(), count=int(np.prod(shape)))
            masks[name] = torch.from_numpy(bits.view(np.bool_)).view(shape).to(device)
    return masks


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
