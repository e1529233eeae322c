"""A method whose algorithm changed gets new trial and mask keys; the others keep theirs."""

import dataclasses

import pytest

from pruning.methods import METHODS
from workers.config import TrainConfig, TrialConfig


def _trial(method: str) -> TrialConfig:
    return TrialConfig(sweep="s", results_dir="/tmp/r", model="m", task={"name": "glue/qnli"},
                       difficulty_axis="data_fraction", difficulty_level=1.0, method=method,
                       scope="row", pruning_options={}, sparsity=0.5, transfer="sparse", seed=1,
                       train=TrainConfig())  # fmt: skip


@pytest.fixture
def wanda_revision_1(monkeypatch):
    """The registry as it was before Wanda became sequential."""
    monkeypatch.setitem(METHODS, "wanda", dataclasses.replace(METHODS["wanda"], revision=1))


def test_sequential_wanda_is_a_new_revision():
    assert METHODS["wanda"].revision == 2
    assert all(m.revision == 1 for name, m in METHODS.items() if name != "wanda")


def test_a_revision_changes_the_trial_key(wanda_revision_1):
    before = _trial("wanda").trial_key
    METHODS["wanda"] = dataclasses.replace(METHODS["wanda"], revision=2)  # monkeypatch restores
    assert _trial("wanda").trial_key != before


def test_a_revision_changes_the_stored_mask_key(tmp_path, monkeypatch):
    """Masks of the earlier algorithm on the sweep's storage are not loaded for the new one."""
    import torch

    from workers import cache

    computed = []
    monkeypatch.setattr(
        cache,
        "_compute_masks",
        lambda *a: computed.append(1) or {"w": torch.ones(2, dtype=torch.bool)},
    )
    monkeypatch.setattr(cache, "model_fingerprint", lambda body: "body")
    model = torch.nn.Module()
    model.base_model = model
    trial = dataclasses.replace(_trial("wanda"), results_dir=str(tmp_path / "results"))
    cache._masks.clear()
    monkeypatch.setitem(METHODS, "wanda", dataclasses.replace(METHODS["wanda"], revision=1))
    cache.masks(model, trial)
    cache._masks.clear()
    monkeypatch.setitem(METHODS, "wanda", dataclasses.replace(METHODS["wanda"], revision=2))
    cache.masks(model, trial)
    assert len(computed) == 2  # the revision-1 file on storage was not reused
    assert len(list((tmp_path / "masks").iterdir())) == 2
    cache._masks.clear()
