import copy

import pytest
import torch

from pruning import compute_masks
from pruning.selection import linear_layers, out_by_in
from tests.models import VOCAB, llama, opt, tiny_model
from tests.pruning.reference import layer_inputs


def test_first_block_follows_the_formula_row_by_row():
    model = tiny_model("gpt2")
    ids = torch.randint(0, VOCAB, (4, 16))
    masks = compute_masks(model, "wanda", 0.5, "row", calibration=ids)
    layers = linear_layers(model, [n for n in masks if n.startswith("transformer.h.0.")])
    for name, layer in layers.items():  # block 0 sees the dense model's activations
        x = layer_inputs(model, layer, ids)
        rows = out_by_in(model.get_parameter(name).detach(), layer)
        scores = rows.abs() * x.norm(dim=0)
        kept = out_by_in(masks[name], layer)
        assert ((~kept).sum(dim=1) == rows.shape[1] // 2).all()
        smallest_kept = scores.masked_fill(~kept, float("inf")).min(dim=1).values
        largest_pruned = scores.masked_fill(kept, -1.0).max(dim=1).values
        assert (smallest_kept >= largest_pruned * (1 - 1e-5)).all()


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama"])
def test_model_is_left_unchanged(kind):
    model = tiny_model(kind)
    before = {n: t.clone() for n, t in model.state_dict().items()}
    compute_masks(model, "wanda", 0.5, "row", calibration=torch.randint(0, VOCAB, (2, 8)))
    assert all(torch.equal(before[n], t) for n, t in model.state_dict().items())


class _RunningNorm:
    """The reference's per-layer statistic: mean over samples of each input feature's ||x||^2."""

    def __init__(self, columns: int):
        self.scaler_row, self.nsamples = torch.zeros(columns), 0

    def add_batch(self, module, inp, out) -> None:
        x = inp[0].reshape(-1, inp[0].shape[-1]).t().float()
        tmp = inp[0].shape[0]
        self.scaler_row *= self.nsamples / (self.nsamples + tmp)
        self.nsamples += tmp
        self.scaler_row += torch.norm(x, p=2, dim=1) ** 2 / self.nsamples


def _reference_wanda(model, samples, sparsity):
    """locuslab/wanda `prune_wanda` as its paper and code describe it, written out plainly.

    Catch the inputs of layer 0; then per layer: hook every nn.Linear, run the layer on each
    sample to fold ||X_j||^2 into a running mean over samples, prune each row's lowest
    |W| * sqrt(mean), and run the pruned layer again to make the next layer's inputs.
    """
    model.config.use_cache = False
    prefix = "model.layers" if hasattr(model.model, "layers") else "model.decoder.layers"
    stack = model.get_submodule(prefix)
    inputs = []

    class Caught(Exception):
        pass

    def catch(module, args, kwargs):
        inputs.append((args[0], kwargs))
        raise Caught

    handle = stack[0].register_forward_pre_hook(catch, with_kwargs=True)
    with torch.no_grad():
        for sample in samples:
            try:
                model(input_ids=sample)
            except Caught:
                pass
    handle.remove()
    masks = {}
    with torch.no_grad():
        for i, layer in enumerate(stack):
            linears = {n: m for n, m in layer.named_modules() if isinstance(m, torch.nn.Linear)}
            norms = {n: _RunningNorm(m.in_features) for n, m in linears.items()}
            handles = [m.register_forward_hook(norms[n].add_batch) for n, m in linears.items()]
            for hidden, kwargs in inputs:
                layer(hidden, **kwargs)
            for h in handles:
                h.remove()
            for name, module in linears.items():
                metric = module.weight.abs() * torch.sqrt(norms[name].scaler_row.reshape(1, -1))
                order = torch.sort(metric, dim=-1, stable=True)[1]
                pruned = torch.zeros_like(metric, dtype=torch.bool)
                pruned.scatter_(1, order[:, : int(metric.shape[1] * sparsity)], True)
                module.weight[pruned] = 0
                masks[f"{prefix}.{i}.{name}.weight"] = ~pruned
            outputs = []
            for hidden, kwargs in inputs:
                out = layer(hidden, **kwargs)
                outputs.append((out[0] if isinstance(out, tuple) else out, kwargs))
            inputs = outputs
    return masks


@pytest.mark.parametrize(("kind", "layers"), [("llama", 4), ("opt", 3), ("llama", 2)])
@pytest.mark.parametrize("sparsity", [0.5, 0.7])
def test_masks_equal_the_reference_procedure_in_every_layer(kind, layers, sparsity):
    model = {"llama": llama, "opt": opt}[kind](VOCAB, layers, hidden=64, heads=4)
    samples = torch.randint(0, VOCAB, (6, 1, 24))  # as the reference: one sequence per batch
    expected = _reference_wanda(copy.deepcopy(model), samples, sparsity)
    masks = compute_masks(model, "wanda", sparsity, "row", calibration=samples)
    assert masks.keys() == expected.keys()
    assert len(masks) == 7 * layers if kind == "llama" else 6 * layers
    mismatched = sum(int((masks[n] != expected[n]).sum()) for n in masks)
    assert mismatched == 0
