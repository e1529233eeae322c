import pytest
import torch

from pruning import PruningError, apply_masks, compute_masks, measure_sparsity
from pruning.selection import linear_layers, out_by_in
from tests.models import tiny_model


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama", "t5"])
@pytest.mark.parametrize("keep, of", [(2, 4), (1, 8)])
def test_every_group_of_m_inputs_keeps_its_n_largest(kind, keep, of):
    model = tiny_model(kind)
    masks = compute_masks(model, "nm", None, "row", keep=keep, of=of)
    layers = linear_layers(model, list(masks))
    for name, mask in masks.items():
        rows = out_by_in(model.get_parameter(name).detach(), layers[name]).abs()
        kept = out_by_in(mask, layers[name])
        groups, scores = kept.reshape(kept.shape[0], -1, of), rows.reshape(rows.shape[0], -1, of)
        assert (groups.sum(dim=2) == keep).all()
        smallest_kept = scores.masked_fill(~groups, float("inf")).min(dim=2).values
        largest_pruned = scores.masked_fill(groups, -1.0).max(dim=2).values
        assert (smallest_kept >= largest_pruned).all()
    apply_masks(model, masks)
    assert measure_sparsity(model, masks) == 1 - keep / of


def test_conv1d_groups_run_along_the_stored_input_dimension():
    model = tiny_model("gpt2")
    name = "transformer.h.0.mlp.c_proj.weight"  # Conv1D stored (in=128, out=32)
    mask = compute_masks(model, "nm", 0.5, "row", keep=2, of=4)[name]
    assert mask.shape == (128, 32)
    assert (mask.reshape(32, 4, 32).sum(dim=1) == 2).all()


@pytest.mark.parametrize(
    "sparsity, options, named",
    [
        (None, {"keep": 4, "of": 4}, "keep = 4 must be smaller than of = 4"),
        (None, {"keep": 2}, "keep and of"),
        (0.3, {"keep": 2, "of": 4}, r"sparsity = 0\.3 disagrees with nm 2:4"),
        (None, {"keep": 1, "of": 3}, "not divisible by of = 3"),
    ],
)
def test_bad_nm_options_raise(sparsity, options, named):
    with pytest.raises(PruningError, match=named):
        compute_masks(tiny_model("bert"), "nm", sparsity, "row", **options)


def test_nm_needs_its_scope():
    with pytest.raises(PruningError, match="scope = 'global' is not allowed for nm; allowed: row"):
        compute_masks(tiny_model("bert"), "nm", None, keep=2, of=4)


def test_nm_leaves_the_model_unchanged():
    model = tiny_model("bert")
    before = {n: t.clone() for n, t in model.state_dict().items()}
    compute_masks(model, "nm", None, "row", keep=2, of=4)
    assert all(torch.equal(before[n], t) for n, t in model.state_dict().items())
