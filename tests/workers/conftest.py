"""The architecture families the workers' invariants must hold on (models: tests/models.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["bert", "gpt2-lm"])
def arch(request) -> str:
    """A BERT-like classifier and a GPT-2-like LM (Conv1D weights)."""
    return request.param
