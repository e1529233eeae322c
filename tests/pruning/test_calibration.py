from collections import Counter

import pytest
import torch

from pruning import PruningError, compute_masks
from pruning.calibration import block_statistics, calibration_batches
from pruning.selection import linear_layers, prunable_parameters
from tests.models import VOCAB, llama, tiny_model


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


@pytest.mark.parametrize("method", ["wanda", "sparsegpt"])
def test_calibration_runs_forward_once_then_block_by_block(method):
    """Completed forwards (forward hooks) over 3 batches: the embedding runs once per batch;
    blocks 0-2 twice per batch (statistics, then pruned outputs for the next block), the last
    block once. Calibrating every block from the embeddings ran them 12 and 12, 9, 6, 3 times."""
    model = llama(VOCAB, layers=4)
    counts = Counter()
    modules = {"embedding": model.model.embed_tokens, **dict(enumerate(model.model.layers))}
    for key, module in modules.items():
        module.register_forward_hook(lambda *_, key=key: counts.update([key]))
    scope = "row" if method == "wanda" else "layer"
    compute_masks(model, method, 0.5, scope, calibration=torch.randint(0, VOCAB, (3, 1, 16)))
    assert [counts[key] for key in modules] == [3, 6, 6, 6, 3]


def test_statistics_are_computed_on_the_models_device():
    model = llama(VOCAB)
    device = next(model.parameters()).device
    layers = linear_layers(model, list(prunable_parameters(model)))
    seen = set()

    def accumulate(previous, x):
        seen.add(x.device)
        return _sum(previous, x)

    stats = _statistics(model, layers, torch.randint(0, VOCAB, (2, 8)), accumulate)
    assert seen == {device} and {s.device for s in stats.values()} == {device}
    masks = compute_masks(model, "wanda", 0.5, "row", calibration=torch.randint(0, VOCAB, (2, 8)))
    assert {m.device for m in masks.values()} == {device}
