import pytest
import torch

from pruning import apply_masks, compute_masks, measure_sparsity
from tests.models import tiny_model


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.9])
def test_keeps_exactly_the_rule_s_count(scope, sparsity):
    model = tiny_model("bert")
    masks = compute_masks(model, "random", sparsity, scope, seed=3)
    sizes = [m.numel() for m in masks.values()]
    if scope == "global":
        assert sum(int(m.sum()) for m in masks.values()) == int(sum(sizes) * (1 - sparsity))
    else:
        assert all(int(m.sum()) == int(m.numel() * (1 - sparsity)) for m in masks.values())
    apply_masks(model, masks)
    pruned = measure_sparsity(model, masks) * sum(sizes)
    assert sparsity * sum(sizes) <= pruned < sparsity * sum(sizes) + len(sizes)


def test_same_seed_same_masks_other_seed_other_masks():
    model = tiny_model("gpt2")
    first, again, other = (compute_masks(model, "random", 0.5, seed=s) for s in (1, 1, 2))
    assert all(torch.equal(first[n], again[n]) for n in first)
    assert not all(torch.equal(first[n], other[n]) for n in first)


def test_global_draw_spreads_over_tensors_in_proportion():
    model = tiny_model("bert")
    masks = compute_masks(model, "random", 0.5, "global", seed=0)
    kept = torch.cat([m.reshape(-1) for m in masks.values()]).float()
    assert abs(kept.mean().item() - 0.5) < 1e-3
    assert all(0.4 < m.float().mean().item() < 0.6 for m in masks.values())
