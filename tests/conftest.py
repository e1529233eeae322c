"""Tiny random-init models saved where `from_pretrained` finds them, once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer BERT classifier (hidden 32) and a word-level vocabulary for the built-in tasks."""
    from tests.models import save_bert

    return save_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_gpt2_lm(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer GPT-2 causal LM (hidden 32, 128 positions), saved with a word-level tokenizer."""
    from tests.models import save_gpt2_lm

    return save_gpt2_lm(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="session")
def tiny_llama_lm(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer LLaMA causal LM (hidden 32), saved with a word-level tokenizer."""
    from tests.models import save_llama_lm

    return save_llama_lm(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_mbart(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 1+1-layer mBART-50 (d_model 32) with an mBART-50 tokenizer; decoding starts with </s>."""
    from tests.models import save_mbart

    return save_mbart(tmp_path_factory.mktemp("tiny-mbart"))
