"""Per-epoch training checkpoints (`train.checkpoint: epoch`), kept through results.storage.

A checkpoint holds only what training changes: the parameters that train (with `lora`: the
adapters and the head), AdamW's moments, the scheduler, the RNG states and the data order. The
frozen rest is rebuilt exactly by loading and pruning the model again, as every attempt does.
One file per trial, `<sweep>/checkpoints/<trial_key>.pt`, overwritten each epoch, deleted once
the trial's row is written.

A trial trains on one device (Ray makes its GPU `cuda`, whatever the node has), so a checkpoint
keeps that device's RNG state, not every visible GPU's: it resumes on a node with any number of
GPUs, and it is read onto the CPU first (`map_location`), then moved where the model is. Resuming
on another kind of device (saved training on `cuda`, now on the CPU) is refused in one line:
dropout would draw from another generator, and the trial's numbers would be neither device's.
"""

from __future__ import annotations

import io
from typing import Any

import torch

from results import storage
from workers.config import TrialConfig


def location(trial: TrialConfig) -> str:
    """Where the trial's checkpoint lives: beside its sweep's results, locally or on S3."""
    return f"{trial.sweep_dir}/checkpoints/{trial.trial_key}.pt"


class CheckpointError(RuntimeError):
    """A checkpoint this attempt cannot resume from; the message says why and what to do."""


def rng_state(device: torch.device) -> dict[str, Any]:
    """The RNG states dropout draws from: the CPU's and, on CUDA, the trial's own device's."""
    cuda = device.type == "cuda"
    return {
        "cpu": torch.get_rng_state(),
        "device": device.type,
        "gpus": torch.cuda.device_count() if cuda else 0,  # visible when saved: for messages
        "cuda": torch.cuda.get_rng_state(device) if cuda else None,
    }


def restore_rng(rng: dict[str, Any], device: torch.device, where: str) -> None:
    """Set the RNG states of `rng_state` for a trial that now trains on `device`.

    A checkpoint written before the device was recorded holds every visible GPU's state (a
    list, the trial's own first) and trained on CUDA exactly when this attempt does.
    """
    saved = rng.get("device", device.type)
    if saved != device.type:
        gpus = f" ({rng['gpus']} GPUs visible)" if rng.get("gpus") else ""
        raise CheckpointError(
            f"checkpoint {where} was saved training on {saved}{gpus} and this attempt trains on "
            f"{device.type}: one trial's epochs would come from two kinds of device; give the "
            "trial the resources.gpu it had, or delete the checkpoint to train it from the start"
        )
    torch.set_rng_state(rng["cpu"])
    cuda = rng["cuda"][0] if isinstance(rng["cuda"], list) and rng["cuda"] else rng["cuda"]
    if device.type == "cuda" and cuda is not None:
        torch.cuda.set_rng_state(cuda, device)


def trainable(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The parameters that train, by name, copied to the CPU."""
    params = model.named_parameters()
    return {n: p.detach().to("cpu", copy=True) for n, p in params if p.requires_grad}


def save(where: str, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically (a killed save leaves the previous epoch's in place)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    storage.write_bytes(where, buffer.getbuffer())  # no second copy of a GB-sized state


def load(where: str) -> dict[str, Any] | None:
    """The checkpoint at `where`, on the CPU whatever device saved it, or None if there is none."""
    data = storage.read_if_exists(where)
    if data is None:
        return None
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def delete(where: str) -> None:
    """Remove a checkpoint; no error if there is none."""
    storage.delete(where)
