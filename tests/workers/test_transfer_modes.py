"""Each transfer mode's record says what its `prepare` entry does: checked on a real model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pruning import compute_masks
from results.transfer_modes import TRANSFER_MODES, get_transfer
from tests.models import MODELS, batch_data
from workers import transfer
from workers.config import TrainConfig
from workers.train import train

CFG = TrainConfig(max_steps=3, lr=1e-2, batch_size=8, weight_decay=0.1, lora_r=2)


def test_every_mode_has_a_record_and_a_prepare_entry():
    assert list(TRANSFER_MODES) == ["dense", "sparse", "dense_freeze", "sparse_to_dense", "lora",
                                    "none"]  # fmt: skip
    assert set(transfer._PREPARE) == set(TRANSFER_MODES)
    assert [m for m, r in TRANSFER_MODES.items() if r.evaluation_only] == ["dense", "none"]
    assert [m for m, r in TRANSFER_MODES.items() if r.same_as_dense_at_zero] == [
        "sparse", "dense_freeze", "sparse_to_dense"
    ]  # fmt: skip
    assert [m for m, r in TRANSFER_MODES.items() if r.adapters] == ["lora"]


def test_an_unknown_mode_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="transfer 'frozen' is unknown; allowed: dense, sparse"):
        get_transfer("frozen")
    with pytest.raises(ValueError, match="allowed: dense"):
        transfer.prepare(MODELS["bert"][0](), {}, "frozen")


@pytest.mark.parametrize("mode", list(TRANSFER_MODES))
def test_prepare_does_what_the_record_says(mode):
    record = TRANSFER_MODES[mode]
    model = MODELS["bert"][0]()
    masks = compute_masks(model, "magnitude", 0.5)
    after_step = transfer.prepare(model, masks if record.prunes else {}, mode, CFG)
    names = transfer.base_names(model, list(masks))
    zeroed = all((model.get_parameter(b)[~masks[n]] == 0).all() for n, b in zip(masks, names))
    # dense keeps every weight; dense_freeze keeps the pretrained values at pruned positions
    assert zeroed == (record.prunes and mode != "dense_freeze")
    prepared = {n: model.get_parameter(b)[~masks[n]].clone() for n, b in zip(masks, names)}
    if record.trains:
        train(model, batch_data(False), CFG, seed=0, after_step=after_step)
    # the pruned positions hold what prepare left there exactly when the mode keeps the mask
    held = all(torch.equal(model.get_parameter(b)[~masks[n]], prepared[n])
               for n, b in zip(masks, names))  # fmt: skip
    assert held == record.keeps_mask


def test_the_records_import_no_torch():
    code = "import sys, results.transfer_modes; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
