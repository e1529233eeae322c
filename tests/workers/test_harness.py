"""lm-eval evaluates the pruned model object in memory, with the trial's seed and axes' knobs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from difficulty.prompts import MULTIPLE_CHOICE, question
from pruning import apply_masks, compute_masks
from workers.harness import evaluate_harness, sample_indices
from workers.scoring import loglikelihoods

pytest.importorskip("lm_eval")

TINY = {
    "name": "lm_eval/tiny_mc",
    "lm_eval_file": str(Path(__file__).parents[1] / "lm_eval_tasks" / "tiny_mc.yaml"),
}


@pytest.fixture(scope="module")
def pruned(tiny_llama_lm):
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_lm).eval()
    apply_masks(model, compute_masks(model, "magnitude", 0.5, "global"))
    return model, AutoTokenizer.from_pretrained(tiny_llama_lm)


def run(model, tok, **kwargs):
    settings = dict(shots=None, n_eval=None, seed=1, batch_size=4, max_length=128) | kwargs
    return evaluate_harness(model, tok, TINY, **settings)


def test_lm_eval_scores_the_pruned_model_object_as_junkdna_scores_it(pruned):
    model, tok = pruned
    result = run(model, tok)
    assert result.metric_name == "acc_norm" and result.n_eval == 8
    assert set(result.metrics) == {"acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "chance"}
    assert result.metrics["chance"] == 0.25  # four options each
    for sample in result.samples["tiny_mc"]:
        doc = sample["doc"]
        ours = loglikelihoods(
            model,
            tok,
            [(question(MULTIPLE_CHOICE, doc["question"]), f" {c}") for c in doc["choices"]],
            8,
            128,
        )
        theirs = [r[0] for r in sample["filtered_resps"]]
        # the same numbers: lm-eval ran the pruned weights in memory, not a copy of the dense ones
        assert theirs == pytest.approx(ours, abs=1e-4)
    with torch.no_grad():
        model.model.layers[0].mlp.down_proj.weight.zero_()  # a change to the object...
    assert (
        run(model, tok).samples["tiny_mc"][0]["filtered_resps"]
        != result.samples["tiny_mc"][0]["filtered_resps"]
    )


def test_n_eval_is_one_fixed_sample_not_the_first_documents(pruned):
    model, tok = pruned
    assert sample_indices(8, 3) == sample_indices(8, 3) != [0, 1, 2]
    assert sample_indices(8, 8) is None and sample_indices(8, None) is None
    for seed in (1, 2):  # the same questions whatever the trial's seed
        result = run(model, tok, n_eval=3, seed=seed)
        assert sorted(s["doc_id"] for s in result.samples["tiny_mc"]) == sample_indices(8, 3)
        assert result.n_eval == 3


def test_shots_are_lm_eval_num_fewshot_drawn_with_the_trial_seed(pruned):
    model, tok = pruned

    def contexts(seed):
        return [
            s["arguments"][0][0] for s in run(model, tok, shots=1, seed=seed).samples["tiny_mc"]
        ]

    first = contexts(1)
    assert all(
        c.count("Question:") == 2 and c.endswith("\nAnswer:") for c in first
    )  # one demonstration
    assert first[0].startswith("Question: ") and "\n\nQuestion: " in first[0]
    assert contexts(1) == first  # the same seed draws the same demonstrations
    assert any(a != b for a, b in zip(contexts(7), first))  # another seed, others


def test_lm_evals_metric_keys_become_row_names_whose_stderrs_end_in_stderr():
    from workers.harness import _metric_name

    assert [_metric_name(k) for k in ("acc,none", "acc_stderr,none", "exact_match,strict-match", "exact_match_stderr,strict-match")] == [
        "acc", "acc_stderr", "exact_match,strict-match", "exact_match,strict-match_stderr"]  # fmt: skip
