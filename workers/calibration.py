"""Calibration text for Wanda and SparseGPT: `n` windows of `length` tokens, drawn with seed 0.

A source is a hub dataset (the paper, after Wanda: `allenai/c4`, 128 × 2048 tokens from the first
C4 shard) or a local text file. As Wanda's reference code does, each window is cut at a random
offset of a random document that is longer than the window.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import torch
from datasets import load_dataset

C4_SHARD = "en/c4-train.00000-of-01024.json.gz"
DEFAULTS = {"n": 128, "length": 2048}


def source_id(source: dict[str, Any]) -> str:
    """What identifies a calibration set in the mask cache key (a local file by its content)."""
    identity = {**DEFAULTS, **source}
    if "file" in source:
        identity["file"] = hashlib.sha256(Path(source["file"]).read_bytes()).hexdigest()[:16]
    return json.dumps(identity, sort_keys=True)


def documents(source: dict[str, Any]) -> list[str]:
    """The calibration source's documents: a file is one document."""
    if "file" in source:
        return [Path(source["file"]).read_text()]
    files = source.get("data_files", C4_SHARD if source["dataset"] == "allenai/c4" else None)
    data = load_dataset(source["dataset"], data_files=files, split=source.get("split", "train"))
    return data[source.get("text", "text")]


_ids: dict[tuple[str, str], torch.Tensor] = {}


def calibration_ids(tokenizer, source: dict[str, Any]) -> torch.Tensor:
    """(n, length) token ids of random windows of the source's documents, seed 0.

    Read and tokenized once per process and tokenizer; later calls return the same tensor.
    """
    key = (tokenizer.name_or_path, source_id(source))
    if key not in _ids:
        _ids[key] = _windows(tokenizer, source)
    return _ids[key]


def _windows(tokenizer, source: dict[str, Any]) -> torch.Tensor:
    n, length = source.get("n", DEFAULTS["n"]), source.get("length", DEFAULTS["length"])
    docs = documents(source)
    rng = random.Random(0)
    windows, tokenized = [], {}
    for _ in range(1000 * n):
        if len(windows) == n:
            break
        doc = rng.randrange(len(docs))
        if doc not in tokenized:  # (setdefault would tokenize the document on every draw)
            tokenized[doc] = tokenizer(docs[doc]).input_ids
        ids = tokenized[doc]
        if len(ids) > length:
            start = rng.randrange(len(ids) - length)
            windows.append(ids[start : start + length])
    if len(windows) < n:
        where = source.get("file") or source.get("dataset")
        raise ValueError(f"calibration {where}: too few documents longer than {length} tokens")
    return torch.tensor(windows, dtype=torch.long)


def calibration_batches(model: torch.nn.Module, ids: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """One batch per window; an encoder-decoder reads the window on both sides."""
    if model.config.is_encoder_decoder:
        return [{"input_ids": w[None], "decoder_input_ids": w[None]} for w in ids]
    return [{"input_ids": w[None]} for w in ids]
