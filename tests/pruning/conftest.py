"""Fixtures of the pruning tests (models: tests/models.py; references: tests/pruning/reference.py)."""

import pytest
import torch

from tests.models import tiny_model


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from threads, and a shared machine makes them costly."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def bert() -> torch.nn.Module:
    return tiny_model("bert")
