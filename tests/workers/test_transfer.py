"""Transfer-mode invariants after real optimizer steps, bit for bit.

AdamW with weight decay 0.1, warmup and decay, gradient accumulation and clipping are all on; the
same checks run without the constraint (and fail there), so they can catch a broken mode.
"""

from __future__ import annotations

import pytest
import torch

from pruning import compute_masks
from tests.models import MODELS, batch_data
from workers import transfer
from workers.config import TrainConfig
from workers.train import train

CFG = TrainConfig(max_steps=6, lr=1e-2, batch_size=8, grad_accum=2, weight_decay=0.1,
                  warmup_ratio=0.3, max_grad_norm=0.5)  # fmt: skip


def fit(arch: str, mode: str, constraint: bool = True, cfg: TrainConfig = CFG):
    """Prune at 50 %, apply `mode`, train; returns (model, weights before training, masks)."""
    build, lm = MODELS[arch]
    model = build()
    masks = compute_masks(model, "magnitude", 0.5)
    pretrained = {n: p.detach().clone() for n, p in model.named_parameters()}
    after_step = transfer.prepare(model, masks, mode, cfg)
    train(model, batch_data(lm), cfg, seed=0, after_step=after_step if constraint else lambda: None)
    return model, pretrained, masks


def weights(model) -> dict[str, torch.Tensor]:
    return dict(model.named_parameters())


def sparse_holds(model, pretrained, masks) -> bool:
    return all(
        torch.equal(weights(model)[n][~k], torch.zeros(int((~k).sum()))) for n, k in masks.items()
    )


def freeze_holds(model, pretrained, masks) -> bool:
    return all(torch.equal(weights(model)[n][~k], pretrained[n][~k]) for n, k in masks.items())


def kept_all_trained(model, pretrained, masks) -> bool:
    return all(not torch.equal(weights(model)[n][k], pretrained[n][k]) for n, k in masks.items())


def test_sparse_keeps_pruned_weights_exactly_zero_and_trains_the_rest(arch):
    model, pretrained, masks = fit(arch, "sparse")
    assert sparse_holds(model, pretrained, masks)
    assert kept_all_trained(model, pretrained, masks)


def test_dense_freeze_holds_pretrained_values_bit_for_bit_and_trains_the_rest(arch):
    model, pretrained, masks = fit(arch, "dense_freeze")
    assert freeze_holds(model, pretrained, masks)
    assert kept_all_trained(model, pretrained, masks)


def test_the_checks_fail_without_the_constraints(arch):
    """The same runs with no mask kept: pruned weights move, so the invariant checks can fail."""
    assert not sparse_holds(*fit(arch, "sparse_to_dense"))
    assert not freeze_holds(*fit(arch, "dense"))


def test_weight_decay_alone_moves_frozen_weights_so_the_after_step_restore_is_needed(arch):
    """Gradients of pruned positions are zeroed, yet decoupled decay shrinks any nonzero weight."""
    assert not freeze_holds(*fit(arch, "dense_freeze", constraint=False))


@pytest.mark.parametrize("mode", ["sparse", "dense_freeze"])
def test_pruned_positions_get_no_gradient_so_they_neither_clip_nor_enter_adam(mode):
    build, lm = MODELS["bert"]
    model = build()
    masks = compute_masks(model, "magnitude", 0.5)
    transfer.prepare(model, masks, mode)
    for _ in range(2):  # the hook acts on the accumulated gradient too
        model(**batch_data(lm, n=4)).loss.backward()
    for name, kept in masks.items():
        grad = weights(model)[name].grad
        assert torch.equal(grad[~kept], torch.zeros(int((~kept).sum())))
        assert grad[kept].abs().sum() > 0


def test_sparse_to_dense_starts_at_zero_and_lets_pruned_weights_grow_back(arch):
    build, _ = MODELS[arch]
    model = build()
    masks = compute_masks(model, "magnitude", 0.5)
    transfer.prepare(model, masks, "sparse_to_dense")
    assert sparse_holds(model, None, masks)
    model, _, masks = fit(arch, "sparse_to_dense")
    regrown = sum(int((weights(model)[n][~kept] != 0).sum()) for n, kept in masks.items())
    assert regrown > 0.9 * sum(int((~kept).sum()) for kept in masks.values())


def test_dense_changes_every_prunable_weight_tensor(arch):
    model, pretrained, masks = fit(arch, "dense")
    assert all(not torch.equal(weights(model)[n], pretrained[n]) for n in masks)


def test_none_is_the_pruned_model_as_it_is():
    model = MODELS["bert"][0]()
    masks = compute_masks(model, "magnitude", 0.5)
    transfer.prepare(model, masks, "none")
    assert sparse_holds(model, None, masks)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="transfer 'frozen' is unknown; allowed: dense, sparse"):
        transfer.prepare(MODELS["bert"][0](), {}, "frozen")


LORA = TrainConfig(max_steps=6, lr=1e-2, batch_size=8, weight_decay=0.1, lora_r=4)


@pytest.mark.parametrize("arch", ["bert", "gpt2", "gpt2-lm"])
def test_lora_trains_adapters_and_head_while_the_pruned_base_stays_bit_for_bit(arch):
    model, pretrained, masks = fit(arch, "lora", cfg=LORA)
    params = weights(model)
    base = transfer.base_names(model, list(masks))
    for name, base_name in zip(masks, base):
        pruned_pretrained = pretrained[name].masked_fill(~masks[name], 0.0)
        assert torch.equal(params[base_name], pruned_pretrained)  # zeros and kept values alike
    trainable = [n for n, p in params.items() if p.requires_grad]
    adapters = [n for n in trainable if ".lora_" in n]
    head = [n for n in trainable if "modules_to_save" in n]
    assert adapters and all(not torch.equal(params[n], torch.zeros_like(params[n]))
                            for n in adapters if ".lora_B." in n)  # fmt: skip
    assert set(trainable) == set(adapters) | set(head)
    assert bool(head) == (arch != "gpt2-lm")  # an LM's head is tied to its embeddings: frozen


def test_lora_default_targets_follow_the_architecture():
    for arch, expected in [("bert", {"query", "value"}), ("gpt2", {"c_attn"})]:
        model = MODELS[arch][0]()
        transfer.prepare(model, {}, "lora")
        targets = {n.split(".")[-4] for n, _ in model.named_parameters() if ".lora_A." in n}
        assert targets == expected


def test_lora_targets_and_rank_come_from_the_config_and_a_bad_target_is_a_clear_error():
    model = MODELS["bert"][0]()
    transfer.prepare(model, {}, "lora", TrainConfig(lora_r=3, lora_targets=("key", "dense")))
    shapes = {n.split(".")[-4]: p.shape for n, p in model.named_parameters() if ".lora_A." in n}
    assert set(shapes) == {"key", "dense"} and all(s[0] == 3 for s in shapes.values())
    with pytest.raises(
        ValueError,
        match="lora on bert: No modules were targeted.*; set train.lora_targets to some of: classifier, dense, key, query, value",
    ):
        transfer.prepare(MODELS["bert"][0](), {}, "lora", TrainConfig(lora_targets=("nope",)))


@pytest.fixture
def fresh_worker_cache():
    """Empties the worker caches afterwards: other tests time a cold first load of MiniLM."""
    from workers import cache

    yield
    for cached in (cache._loaded, cache._tokenized, cache.tokenizer):
        cached.cache_clear()
    cache._masks.clear()


@pytest.mark.slow
def test_lora_on_minilm_learns_a_builtin_task_and_keeps_the_base_sparse(
    tmp_path, fresh_worker_cache
):
    from orchestrator.spec import validate_spec
    from workers.trial import run_trial

    spec = validate_spec({
        "name": "t", "storage": str(tmp_path), "models": ["minilm"], "tasks": ["builtin/polarity-easy"],
        "sparsities": [0.5], "transfer": ["lora"], "seeds": [1],
        "train": {"epochs": 2, "lr": 2e-3, "batch_size": 16, "max_length": 24, "n_train": 256, "n_eval": 200},
    })  # fmt: skip
    (trial,) = spec.expand()
    row = run_trial(trial.to_dict())
    assert row["metric"] > 0.8  # chance is 0.5
    assert abs(row["actual_sparsity"] - 0.5) < 1e-4
