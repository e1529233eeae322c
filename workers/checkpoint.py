"""Per-epoch training checkpoints (`train.checkpoint: epoch`), kept through results.storage.

A checkpoint holds only what training changes: the parameters that train (with `lora`: the
adapters and the head), AdamW's moments, the scheduler, the RNG states and the data order. The
frozen rest is rebuilt exactly by loading and pruning the model again, as every attempt does.
One file per trial, `<sweep>/checkpoints/<trial_key>.pt`, overwritten each epoch, deleted once
the trial's row is written.
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
    """The checkpoint at `where`, or None if there is none."""
    data = storage.read_if_exists(where)
    return None if data is None else torch.load(io.BytesIO(data), weights_only=True)


def delete(where: str) -> None:
    """Remove a checkpoint; no error if there is none."""
    storage.delete(where)
