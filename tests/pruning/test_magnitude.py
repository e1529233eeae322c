import pytest
import torch

from pruning import apply_masks, compute_masks, measure_sparsity, prunable_parameters
from tests.models import tiny_model
from tests.pruning.reference import reference_masks


def _round_to_few_values(model: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():
        for p in model.parameters():
            p.copy_((p * 20).round() / 20)
    return model


@pytest.mark.parametrize("kind", ["bert", "gpt2", "t5"])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.9, 0.97])
def test_masks_equal_the_seed_code_bit_for_bit(kind, tied, scope, sparsity):
    model = tiny_model(kind)
    if tied:
        model = _round_to_few_values(model)
    masks = compute_masks(model, "magnitude", sparsity, scope)
    expected = reference_masks(prunable_parameters(model), sparsity, scope)
    assert masks.keys() == expected.keys()
    assert all(torch.equal(masks[n], expected[n]) for n in masks)


def test_bfloat16_model_is_scored_in_float32():
    model = tiny_model("llama").to(torch.bfloat16)
    masks = compute_masks(model, "magnitude", 0.6)
    expected = reference_masks(prunable_parameters(model), 0.6, "global")
    assert all(torch.equal(masks[n], expected[n]) for n in masks)


def test_sparsity_zero_keeps_everything(bert):
    assert all(m.all() for m in compute_masks(bert, "magnitude", 0.0).values())


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("sparsity", [0.3, 0.5, 0.8])
def test_measured_sparsity_is_the_rule_s_count(bert, scope, sparsity):
    """k = int(n * (1 - sparsity)) per group, one fewer kept (strict >): under 2 weights off."""
    masks = compute_masks(bert, "magnitude", sparsity, scope)
    apply_masks(bert, masks)
    sizes = [m.numel() for m in masks.values()]
    groups = sizes if scope == "layer" else [sum(sizes)]
    pruned = sum(n - int(n * (1 - sparsity)) + 1 for n in groups)
    assert measure_sparsity(bert, masks) == pruned / sum(sizes)
    assert abs(pruned - sparsity * sum(sizes)) < 2 * len(groups)
