import pytest
import torch

from pruning import PruningError, compute_masks, prunable_parameters, quantize_rtn
from pruning.rtn import rtn_dequantized
from tests.models import tiny_model


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in prunable_parameters(model).items()}


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_error_shrinks_as_bits_grow(kind):
    errors = []
    for bits in (2, 3, 4, 8):
        model = tiny_model(kind)
        before = _weights(model)
        quantize_rtn(model, bits)
        after = _weights(model)
        errors.append(sum(float((after[n] - before[n]).square().sum()) for n in before))
    assert errors[0] > errors[1] > errors[2] > errors[3] > 0


def test_each_output_row_takes_at_most_2_to_the_bits_values():
    model = tiny_model("gpt2")  # Conv1D: output channels are the columns of the stored weight
    quantize_rtn(model, 3)
    weight = model.get_parameter("transformer.h.0.mlp.c_fc.weight")
    assert max(len(torch.unique(column)) for column in weight.T) <= 8


def test_zero_stays_zero_and_the_error_is_within_one_step():
    rows = torch.tensor([[-1.0, 0.0, 0.25, 3.0], [0.0, 0.0, 0.0, 0.0]])
    quantized = rtn_dequantized(rows, 2)
    step = (3.0 - -1.0) / 3
    assert (quantized[0] - rows[0]).abs().max() <= step / 2 + 1e-6
    assert quantized[0, 1] == 0 and (quantized[1] == 0).all()


def test_only_prunable_weights_change():
    model = tiny_model("bert")
    before = {n: t.clone() for n, t in model.state_dict().items()}
    quantize_rtn(model, 4)
    prunable = set(prunable_parameters(model))
    assert all(
        torch.equal(before[n], t) for n, t in model.state_dict().items() if n not in prunable
    )


def test_bad_bits_and_rtn_as_a_mask_method_raise():
    with pytest.raises(PruningError, match="bits = 5"):
        quantize_rtn(tiny_model("bert"), 5)
    with pytest.raises(PruningError, match="quantize_rtn"):
        compute_masks(tiny_model("bert"), "rtn", 0.5)


def _reference_group_rtn(w: torch.Tensor, bits: int, group_size: int) -> torch.Tensor:
    """GPTQ's Quantizer (sym=False) applied to each group of input columns, written out."""
    out = w.clone()
    maxq = 2**bits - 1
    for start in range(0, w.shape[1], group_size):
        x = w[:, start : start + group_size]
        xmin = torch.minimum(x.min(1).values, torch.zeros(len(x)))
        xmax = torch.maximum(x.max(1).values, torch.zeros(len(x)))
        both_zero = (xmin == 0) & (xmax == 0)
        xmin[both_zero], xmax[both_zero] = -1, 1
        scale = ((xmax - xmin) / maxq)[:, None]
        zero = torch.round(-xmin / scale[:, 0])[:, None]
        q = torch.clamp(torch.round(x / scale) + zero, 0, maxq)
        out[:, start : start + group_size] = scale * (q - zero)
    return out


@pytest.mark.parametrize("group_size", [8, 24, None])
def test_groups_of_input_weights_match_gptq_s_rtn_and_take_at_most_2_to_the_bits_values(
    group_size,
):
    from pruning.rtn import levels_per_group

    model = tiny_model("bert")
    before = _weights(model)
    names = quantize_rtn(model, 3, group_size)
    after = _weights(model)
    assert names == list(before)
    for name in names:  # 24 does not divide 32 or 64: the last group is shorter
        expected = _reference_group_rtn(before[name], 3, group_size or before[name].shape[1])
        assert torch.allclose(after[name], expected, atol=1e-6), name
    levels = levels_per_group(model, names, group_size)
    assert 2 < levels <= 8
    if group_size:  # finer groups: each group uses more of its own 8 levels than a row does
        per_row = tiny_model("bert")
        quantize_rtn(per_row, 3)
        assert levels_per_group(per_row, names, group_size) < levels
