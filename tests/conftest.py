"""Shared fixtures: a tiny random-init BERT with a real tokenizer, saved where `from_pretrained` finds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from difficulty.builtin import NEGATIVE, NOUNS, POSITIVE

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "was", "not", ",", ".",
         "although", "even", "though", "while", "but", *POSITIVE, *NEGATIVE,
         *{w for n in NOUNS for w in n.split()}]  # fmt: skip


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer BERT classifier (hidden 32) and a word-level vocabulary for the built-in tasks."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    path = tmp_path_factory.mktemp("tiny-bert")
    (path / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(path)
    return str(path)


def write_spec(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
