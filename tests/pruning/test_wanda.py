import torch

from pruning import compute_masks
from pruning.selection import linear_layers, out_by_in
from tests.pruning.conftest import VOCAB, layer_inputs, tiny_model


def test_masks_follow_the_formula_row_by_row():
    model = tiny_model("gpt2")
    ids = torch.randint(0, VOCAB, (4, 16))
    masks = compute_masks(model, "wanda", 0.5, "row", calibration=ids)
    layers = linear_layers(model, list(masks))
    for name, mask in masks.items():
        x = layer_inputs(model, layers[name], ids)
        rows = out_by_in(model.get_parameter(name).detach(), layers[name])
        scores = rows.abs() * x.norm(dim=0)
        kept = out_by_in(mask, layers[name])
        assert ((~kept).sum(dim=1) == rows.shape[1] // 2).all()
        smallest_kept = scores.masked_fill(~kept, float("inf")).min(dim=1).values
        largest_pruned = scores.masked_fill(kept, -1.0).max(dim=1).values
        assert (smallest_kept >= largest_pruned * (1 - 1e-5)).all()


def test_model_is_left_unchanged():
    model = tiny_model("bert")
    before = {n: t.clone() for n, t in model.state_dict().items()}
    compute_masks(model, "wanda", 0.5, "row", calibration=torch.randint(0, VOCAB, (2, 8)))
    assert all(torch.equal(before[n], t) for n, t in model.state_dict().items())
