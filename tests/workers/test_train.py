"""The fine-tuning loop: determinism, step counting, best-epoch keeping, divergence, fp32 on CPU."""

from __future__ import annotations

import json

import pytest
import torch

from orchestrator.spec import validate_spec
from results.store import has_row, read_sweep
from tests.models import MODELS, batch_data
from workers import cache
from workers.config import TrainConfig
from workers.train import TrainingDiverged, _param_groups, autocast, train
from workers.trial import run_trial

CFG = TrainConfig(epochs=2, lr=1e-3, batch_size=8, grad_accum=2, weight_decay=0.1)


def trained(seed: int, cfg: TrainConfig = CFG, **kwargs):
    build, lm = MODELS["bert"]
    model = build()  # dropout 0.1 is on: the loop's seed must fix it
    stats = train(model, batch_data(lm, n=20), cfg, seed=seed, **kwargs)
    return model, stats


def test_same_seed_same_weights_another_seed_other_weights():
    (a, sa), (b, sb), (c, _) = trained(1), trained(1), trained(2)
    assert sa == sb
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_steps_count_accumulated_micro_batches_and_an_epoch_ends_with_a_step():
    # 20 examples in batches of 8: 3 micro-batches an epoch, accumulated by 2: 2 steps an epoch
    assert trained(0)[1].steps == 4
    assert trained(0, TrainConfig(max_steps=3, batch_size=8))[1].steps == 3


def test_biases_and_layernorm_weights_are_never_decayed():
    model = MODELS["bert"][0]()
    decayed, kept = _param_groups(model, 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    assert decayed["weight_decay"] == 0.1 and kept["weight_decay"] == 0.0
    assert all(
        n.endswith("bias") or "LayerNorm" in n for n in map(names.get, map(id, kept["params"]))
    )
    assert not any(
        n.endswith("bias") or "LayerNorm" in n for n in map(names.get, map(id, decayed["params"]))
    )


def test_per_epoch_scores_keep_the_best_epochs_weights():
    scores, snapshots = iter([0.5, float("nan"), 0.9, 0.7]), []

    def score() -> float:
        snapshots.append([p.detach().clone() for p in model.parameters()])
        return next(scores)

    build, lm = MODELS["bert"]
    model = build()
    stats = train(
        model, batch_data(lm, n=16), TrainConfig(epochs=4, lr=1e-3, batch_size=8), 0, score=score
    )
    assert stats.best_epoch == 3
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), snapshots[2]))
    assert not all(torch.equal(p, q) for p, q in zip(model.parameters(), snapshots[3]))


def test_a_nan_loss_raises_training_diverged():
    build, lm = MODELS["bert"]
    model = build()
    with torch.no_grad():
        model.classifier.weight[0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="training diverged: loss is nan at step 0"):
        train(model, batch_data(lm), CFG, seed=0)


def test_a_non_finite_gradient_raises_before_it_reaches_the_weights():
    build, lm = MODELS["bert"]
    model = build()
    model.classifier.weight.register_hook(lambda g: g + float("inf"))
    before = model.classifier.weight.detach().clone()
    with pytest.raises(TrainingDiverged, match="training diverged: gradient norm is inf at step 0"):
        train(model, batch_data(lm), CFG, seed=0)
    assert torch.equal(model.classifier.weight, before)


def test_cpu_stays_fp32():
    with autocast(torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def spec(tmp_path, tiny_bert: str, **train) -> dict:
    return {"name": "t", "storage": str(tmp_path), "models": [tiny_bert], "tasks": ["builtin/polarity-hard"],
            "sparsities": [0.5], "transfer": ["sparse"], "seeds": [3],
            "train": {"epochs": 1, "lr": 1e-3, "batch_size": 16, "max_length": 24, "n_train": 64, "n_eval": 32, **train}}  # fmt: skip


def test_a_trial_run_twice_gives_identical_metrics_and_rows_carry_every_metric(tmp_path, tiny_bert):
    rows = []
    for run in ("a", "b"):
        cache._loaded.cache_clear()  # as on a fresh worker
        (trial,) = validate_spec(spec(tmp_path / run, tiny_bert)).expand()
        rows.append(run_trial(trial.to_dict()))
    assert rows[0]["metric"] == rows[1]["metric"] and rows[0]["metrics"] == rows[1]["metrics"]
    metrics = json.loads(read_sweep(f"{tmp_path}/a/t/results").table["metrics"][0].as_py())
    assert (
        set(metrics) == {"accuracy", "f1", "majority", "matthews"}
        and metrics["accuracy"] == rows[0]["metric"]
    )


def test_a_diverging_trial_fails_with_a_clear_error_and_records_no_result(
    tmp_path, tiny_bert, monkeypatch
):
    pretrained = cache.pretrained

    def poisoned(*args):
        model = pretrained(*args)
        with torch.no_grad():
            model.classifier.weight.fill_(float("inf"))
        return model

    monkeypatch.setattr(cache, "pretrained", poisoned)
    (trial,) = validate_spec(spec(tmp_path, tiny_bert)).expand()
    with pytest.raises(TrainingDiverged, match="training diverged: loss is nan"):
        run_trial(trial.to_dict())
    assert not has_row(trial.results_dir, trial.trial_key)


def test_eval_each_epoch_and_lora_options_leave_other_trials_keys_as_they_were(tmp_path, tiny_bert):
    base = validate_spec(spec(tmp_path, tiny_bert)).expand()[0].trial_key
    assert validate_spec(spec(tmp_path, tiny_bert, lora_r=4)).expand()[0].trial_key == base
    assert (
        validate_spec(spec(tmp_path, tiny_bert, eval_each_epoch=True)).expand()[0].trial_key != base
    )
