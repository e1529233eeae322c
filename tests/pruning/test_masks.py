import pytest
import torch

from pruning import PruningError, apply_masks, compute_masks, measure_sparsity
from tests.models import tiny_model


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: t.clone() for n, t in model.state_dict().items()}


def test_compute_masks_leaves_the_model_unchanged(bert):
    before = _state(bert)
    compute_masks(bert, "magnitude", 0.5)
    assert all(torch.equal(before[n], t) for n, t in bert.state_dict().items())


@pytest.mark.parametrize("kind", ["bert", "gpt2", "t5"])
def test_apply_masks_zeros_exactly_the_pruned_weights_and_nothing_else(kind):
    model = tiny_model(kind)
    before = _state(model)
    masks = compute_masks(model, "magnitude", 0.5)
    apply_masks(model, masks)
    for name, tensor in model.state_dict().items():
        if name in masks:
            assert torch.equal(tensor, before[name] * masks[name])
        else:
            assert torch.equal(tensor, before[name]), name


def test_measure_sparsity_counts_exact_zeros_over_the_named_tensors(bert):
    masks = compute_masks(bert, "magnitude", 0.5)
    apply_masks(bert, masks)
    zeros = sum(int((~m).sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    assert measure_sparsity(bert, masks) == measure_sparsity(bert, list(masks)) == zeros / total


@pytest.mark.parametrize(
    "args, kwargs, named",
    [
        (("pruneall", 0.5), {}, "method = 'pruneall'"),
        (("magnitude", 1.0), {}, r"sparsity = 1\.0"),
        (("magnitude", -0.1), {}, r"sparsity = -0\.1"),
        (("magnitude", 0.5, "everywhere"), {}, "scope = 'everywhere'"),
        (("magnitude", 0.5), {"bits": 4}, "option 'bits'"),
    ],
)
def test_bad_options_raise_pruning_error_naming_the_option(bert, args, kwargs, named):
    with pytest.raises(PruningError, match=named):
        compute_masks(bert, *args, **kwargs)


def test_apply_masks_rejects_unknown_names_and_shapes(bert):
    with pytest.raises(PruningError, match="'nope.weight'"):
        apply_masks(bert, {"nope.weight": torch.ones(2, dtype=torch.bool)})
    name = "bert.encoder.layer.0.output.dense.weight"
    with pytest.raises(PruningError, match="shape"):
        apply_masks(bert, {name: torch.ones(2, dtype=torch.bool)})
