"""The transfer modes: one `TransferMode` record each, what happens to pruned weights (no torch).

Spec validation, grid expansion, the trial and the analysis read these facts (a row's
`transfer` names one, so the record lives with the rows: results/ imports no workers/);
`workers.transfer.prepare` applies a mode to a model, from a table checked against this one at
import.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TransferMode:
    """Everything about one transfer mode except the code that applies it (workers.transfer)."""

    name: str
    trains: bool  # fine-tunes the model (classification) before it is evaluated
    prunes: bool  # the trial computes masks (dense: the unpruned reference, none)
    keeps_mask: bool  # the sparsity of the pruned base holds after training
    same_as_dense_at_zero: bool  # at sparsity 0 the trial is exactly the dense one
    evaluation_only: bool  # serves the evaluation-only task kinds (qa, multiple choice, ...)
    adapters: bool = False  # trains LoRA adapters: train.lora_* apply
    # a quantized base stays on its quantization grid: nothing trains it (none), or it is frozen
    # under adapters (lora, as QLoRA); the modes that train the base weights would leave the grid
    keeps_quantization: bool = False


TRANSFER_MODES: dict[str, TransferMode] = {
    mode.name: mode
    for mode in (
        TransferMode("dense", True, False, False, False, evaluation_only=True),
        TransferMode("sparse", True, True, True, True, evaluation_only=False),
        TransferMode("dense_freeze", True, True, True, True, evaluation_only=False),
        TransferMode("sparse_to_dense", True, True, False, True, evaluation_only=False),
        TransferMode(
            "lora", True, True, True, False, False, adapters=True, keeps_quantization=True
        ),
        TransferMode("none", False, True, True, False, True, keeps_quantization=True),
    )
}
"""The transfer modes by name, as specs and result rows spell them."""


def get_transfer(name: str) -> TransferMode:
    """The transfer mode; ValueError listing the known ones otherwise."""
    if name not in TRANSFER_MODES:
        raise ValueError(f"transfer {name!r} is unknown; allowed: {', '.join(TRANSFER_MODES)}")
    return TRANSFER_MODES[name]
