"""Calibrated methods must reconstruct a layer's output better than magnitude does."""

import copy

import torch

from pruning import compute_masks
from tests.models import VOCAB, tiny_model
from tests.pruning.reference import layer_inputs

LAYERS = ["model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj"]


def _model_with_outlier_features() -> torch.nn.Module:
    model = tiny_model("llama")
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.copy_(torch.exp(2 * torch.randn_like(param)))
    return model


def _output_error(x: torch.Tensor, weight: torch.Tensor, pruned: torch.Tensor) -> float:
    return float((x @ (weight - pruned).T).square().sum())


def test_wanda_and_sparsegpt_beat_magnitude_on_the_calibration_data():
    model = _model_with_outlier_features()
    ids = torch.randint(0, VOCAB, (8, 32))
    magnitude = compute_masks(model, "magnitude", 0.5, "layer")
    wanda = compute_masks(model, "wanda", 0.5, "row", calibration=ids)
    pruned = copy.deepcopy(model)
    compute_masks(pruned, "sparsegpt", 0.5, "layer", calibration=ids)
    for layer in LAYERS:
        x = layer_inputs(
            model, model.get_submodule(layer), ids
        )  # block 0: the same input for every method
        name = layer + ".weight"
        weight = model.get_parameter(name).detach()
        by_magnitude = _output_error(x, weight, weight * magnitude[name])
        assert _output_error(x, weight, weight * wanda[name]) < 0.8 * by_magnitude
        assert _output_error(x, weight, pruned.get_parameter(name).detach()) < 0.8 * by_magnitude
