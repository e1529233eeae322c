"""Masks of language models: calibration text in the cache key; SparseGPT's rewrite on every trial."""

from __future__ import annotations

import dataclasses

import torch

from workers import cache
from workers.config import TrainConfig, TrialConfig


def trial(model: str, tmp_path, method: str, calibration: str, **train) -> TrialConfig:
    return TrialConfig(
        sweep="s", results_dir=str(tmp_path / "s" / "results"), model=model,
        task={"name": "triviaqa/rc"}, difficulty_axis="context", difficulty_level=0.0,
        method=method, scope="row" if method == "wanda" else "layer",
        pruning_options={"calibration": {"file": calibration, "n": 2, "length": 8}},
        sparsity=0.5, transfer="none", seed=1, train=TrainConfig(**train),
    )  # fmt: skip


def test_calibration_text_is_part_of_the_mask_key(tiny_gpt2_lm, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("paris is the capital of france and the sky is blue " * 4)
    b.write_text("a spider has eight legs and no wings hamlet was written by shakespeare " * 4)
    model = cache.language_model(tiny_gpt2_lm, "qa")
    first = cache.masks(model, trial(tiny_gpt2_lm, tmp_path, "wanda", str(a)))
    second = cache.masks(model, trial(tiny_gpt2_lm, tmp_path, "wanda", str(b)))
    assert len(list((tmp_path / "s" / "masks").glob("*.safetensors"))) == 2
    assert any(not torch.equal(first[n], second[n]) for n in first)


def test_sparsegpt_rewrites_the_weights_of_every_trial(tiny_gpt2_lm, tmp_path):
    text = tmp_path / "c.txt"
    text.write_text("paris is the capital of france and the sky is blue " * 4)
    config = trial(tiny_gpt2_lm, tmp_path, "sparsegpt", str(text))
    pretrained = {
        k: v.clone() for k, v in cache.language_model(tiny_gpt2_lm, "qa").state_dict().items()
    }
    rewritten = []
    before = dict(cache.MASK_SOURCES)
    # the second trial of the set (another level or seed) gets the same rewritten weights from
    # memory; after another set, the first is computed again: both equal the first computation
    other = dataclasses.replace(config, sparsity=0.3)
    for t in (config, config, other, config):
        model = cache.language_model(tiny_gpt2_lm, "qa")
        masks = cache.masks(model, t)
        name = next(iter(masks))
        rewritten.append(model.state_dict()[name].clone())
    kept = masks[name]
    assert not torch.equal(rewritten[0][kept], pretrained[name][kept])  # kept weights moved
    assert torch.equal(rewritten[0], rewritten[1]) and torch.equal(rewritten[0], rewritten[3])
    assert not torch.equal(rewritten[0], rewritten[2])
    assert cache.MASK_SOURCES["computed"] - before.get("computed", 0) == 3
    assert cache.MASK_SOURCES["memory"] - before.get("memory", 0) == 1


def test_generation_options_enter_the_key_only_when_set(tiny_gpt2_lm, tmp_path):
    base = trial(tiny_gpt2_lm, tmp_path, "wanda", "c.txt")
    same = dataclasses.replace(base, train=TrainConfig(max_new_tokens=None))
    assert same.trial_key == base.trial_key
    assert (
        dataclasses.replace(base, train=TrainConfig(max_new_tokens=8)).trial_key != base.trial_key
    )
    assert dataclasses.replace(base, train=TrainConfig(num_beams=2)).trial_key != base.trial_key


def test_the_language_model_stays_loaded_and_comes_back_pretrained(tiny_gpt2_lm, tmp_path):
    """No copy per trial: the same object, its pruned weights restored bit for bit."""
    from pruning import apply_masks, compute_masks

    model = cache.language_model(tiny_gpt2_lm, "qa")
    pretrained = {k: v.clone() for k, v in model.state_dict().items()}
    apply_masks(model, compute_masks(model, "magnitude", 0.7, "global"))
    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(0)  # `targets: all` prunes embeddings too
    apply_masks(model, compute_masks(model, "magnitude", 0.5, "layer", include=["*ln_1.weight"]))
    again = cache.language_model(tiny_gpt2_lm, "qa")
    assert again is model
    for key, value in again.state_dict().items():
        assert torch.equal(value, pretrained[key]), key
