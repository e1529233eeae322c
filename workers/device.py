"""Where a trial runs and in which precision: the device Ray gave it, never a silent CPU."""

from __future__ import annotations

import os
import socket

import torch

DTYPES = {
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
}
"""The model dtypes a spec may ask for (`train.dtype`); `auto` picks one per model family."""


class DeviceError(RuntimeError):
    """The trial asked for an accelerator this node does not show it; the message says why."""


def trial_device(gpus: float) -> torch.device:
    """The trial's device: CUDA when it was given GPUs (`resources.gpu` > 0), else the CPU.

    Ray makes a trial's GPUs visible through CUDA_VISIBLE_DEVICES, so `cuda` is the first of
    them. A trial given a GPU that torch cannot see fails here, with the reason, instead of
    running for hours on the CPU; a trial given none never touches a GPU that happens to be
    visible (Ray did not reserve it, other trials may hold it).
    """
    if gpus <= 0:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise DeviceError(
            f"resources.gpu = {gpus:g} but no CUDA device is visible on {socket.gethostname()} "
            f"(torch {torch.__version__} is {build}; CUDA_VISIBLE_DEVICES={visible!r})"
        )
    return torch.device("cuda")


def model_dtype(requested: str, device: torch.device, language_model: bool) -> torch.dtype:
    """The dtype weights are loaded in.

    `auto`: a language model (the QA, multiple-choice and translation settings, 7B and up) in
    bf16 on a GPU that supports it, fp16 on one that does not, fp32 on the CPU; a classifier
    (fine-tuned, roberta-large and smaller) in fp32, trained under bf16 autocast on the GPU —
    the papers' mixed-precision fine-tuning. Anything else is the spec's choice, as named.
    """
    if requested != "auto":
        return DTYPES[requested]
    if not language_model or device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
