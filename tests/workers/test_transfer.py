"""Transfer-mode invariants after real optimizer steps (AdamW with weight decay), bit for bit."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from pruning import compute_masks
from workers import transfer
from workers.config import TrainConfig
from workers.train import train

CFG = TrainConfig(max_steps=6, lr=1e-2, batch_size=8, weight_decay=0.1, warmup_ratio=0.0)


def fit(tiny_bert: str, mode: str):
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert, num_labels=2)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    masks = compute_masks(model, "magnitude", 0.5)
    after_step = transfer.prepare(model, masks, mode)
    data = {"input_ids": torch.randint(5, 40, (32, 12)), "attention_mask": torch.ones(32, 12, dtype=torch.long),
            "labels": torch.randint(0, 2, (32,))}  # fmt: skip
    train(model, data, CFG, seed=0, after_step=after_step)
    return model, before, masks


def params(model) -> dict[str, torch.Tensor]:
    return dict(model.named_parameters())


def test_sparse_keeps_pruned_weights_exactly_zero_and_trains_the_rest(tiny_bert):
    model, before, masks = fit(tiny_bert, "sparse")
    for name, kept in masks.items():
        p = params(model)[name]
        assert torch.equal(p[~kept], torch.zeros_like(p[~kept]))
        assert not torch.equal(p[kept], before[name][kept])


def test_dense_freeze_holds_pretrained_values_bit_for_bit(tiny_bert):
    model, before, masks = fit(tiny_bert, "dense_freeze")
    for name, kept in masks.items():
        p = params(model)[name]
        assert torch.equal(p[~kept], before[name][~kept])
        assert not torch.equal(p[kept], before[name][kept])


def test_sparse_to_dense_lets_pruned_weights_grow_back(tiny_bert):
    model, _, masks = fit(tiny_bert, "sparse_to_dense")
    regrown = sum(int((params(model)[n][~kept] != 0).sum()) for n, kept in masks.items())
    pruned = sum(int((~kept).sum()) for kept in masks.values())
    assert regrown > 0.9 * pruned


def test_dense_changes_every_prunable_weight_tensor(tiny_bert):
    model, before, masks = fit(tiny_bert, "dense")
    assert all(not torch.equal(params(model)[n], before[n]) for n in masks)


@pytest.mark.parametrize("mode", ["lora"])
def test_unimplemented_mode_is_refused(tiny_bert, mode):
    with pytest.raises(ValueError, match="not implemented"):
        fit(tiny_bert, mode)
