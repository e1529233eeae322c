import pytest
import torch

from pruning import PruningError, compute_masks
from pruning.calibration import block_statistics, calibration_batches
from pruning.selection import linear_layers, prunable_parameters
from tests.pruning.conftest import VOCAB, tiny_model


def _statistics(model, layers, calibration, accumulate) -> dict:
    batches = calibration_batches(calibration)
    return {
        n: s
        for stats in block_statistics(model, layers, batches, accumulate)
        for n, s in stats.items()
    }


def _sum(previous, x):
    return x.sum((0, 1)) if previous is None else previous + x.sum((0, 1))


def _count(previous, x):
    return (previous or 0) + x.numel()


def test_tensor_dict_and_list_forms_give_the_same_statistics():
    model = tiny_model("bert")
    ids = torch.randint(0, VOCAB, (2, 3, 8))
    layers = linear_layers(model, list(prunable_parameters(model)))
    forms = [ids, list(ids), [{"input_ids": batch} for batch in ids]]
    sums = [_statistics(model, layers, f, _sum) for f in forms]
    assert all(torch.equal(s[n], sums[0][n]) for s in sums[1:] for n in layers)
    one = _statistics(model, layers, {"input_ids": ids[0]}, _count)
    assert all(one[n] == 3 * 8 * layers[n].weight.shape[1] for n in layers)


def test_bad_calibration_is_named():
    with pytest.raises(PruningError, match="calibration must be"):
        calibration_batches("some text")
    with pytest.raises(PruningError, match="wanda needs calibration"):
        compute_masks(tiny_model("bert"), "wanda", 0.5, "row")


def test_encoder_decoder_calibration_reaches_both_stacks():
    model = tiny_model("t5")
    ids = torch.randint(0, VOCAB, (2, 8))
    calibration = {"input_ids": ids, "decoder_input_ids": ids}
    masks = compute_masks(model, "wanda", 0.5, "row", calibration=calibration)
    assert any(n.startswith("decoder.") and "EncDecAttention" in n for n in masks)
    assert all((~m).sum(dim=1).eq(int(m.shape[1] * 0.5)).all() for m in masks.values())
