"""Tiny random-init models built in memory, one per architecture family the invariants must hold on."""

from __future__ import annotations

import pytest
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    GPT2Config,
    GPT2ForSequenceClassification,
    GPT2LMHeadModel,
)

VOCAB = 40


def bert_classifier() -> torch.nn.Module:
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=32, num_labels=2))  # fmt: skip


def gpt2_config() -> GPT2Config:
    return GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=2, n_positions=32,
                      bos_token_id=0, eos_token_id=0, pad_token_id=0, num_labels=2)  # fmt: skip


def gpt2_lm() -> torch.nn.Module:
    """GPT-2's projections are `Conv1D`: the weight is stored transposed (in, out)."""
    torch.manual_seed(0)
    return GPT2LMHeadModel(gpt2_config())


def gpt2_classifier() -> torch.nn.Module:
    torch.manual_seed(0)
    return GPT2ForSequenceClassification(gpt2_config())


def batch_data(lm: bool, n: int = 32, length: int = 12, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random token ids; an LM learns to predict them (labels = input_ids), a classifier 0/1."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, VOCAB, (n, length), generator=g)
    mask = torch.ones(n, length, dtype=torch.long)
    mask[: n // 2, length - 3 :] = 0  # some padding, so batches are trimmed to different widths
    labels = ids.clone() if lm else torch.randint(0, 2, (n,), generator=g)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


MODELS = {"bert": (bert_classifier, False), "gpt2-lm": (gpt2_lm, True),
          "gpt2": (gpt2_classifier, False)}  # fmt: skip


@pytest.fixture(params=["bert", "gpt2-lm"])
def arch(request) -> str:
    """A BERT-like classifier and a GPT-2-like LM (Conv1D weights)."""
    return request.param
