import pytest
import torch

from pruning import compute_masks, prunable_parameters
from pruning.sparsegpt import sparsegpt_prune
from tests.models import VOCAB, tiny_model


def _reference_fasterprune(W, H, sparsity, blocksize, percdamp):
    """SparseGPT's published fasterprune (unstructured), trimmed of its loss bookkeeping."""
    W, H = W.clone().float(), H.clone()
    columns = W.shape[1]
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    damp = percdamp * torch.mean(torch.diag(H))
    diag = torch.arange(columns)
    H[diag, diag] += damp
    H = torch.linalg.cholesky(H)
    H = torch.cholesky_inverse(H)
    Hinv = torch.linalg.cholesky(H, upper=True)
    masks = []
    for i1 in range(0, columns, blocksize):
        i2 = min(i1 + blocksize, columns)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        tmp = W1**2 / (torch.diag(Hinv1).reshape((1, -1))) ** 2
        thresh = torch.sort(tmp.flatten())[0][int(tmp.numel() * sparsity)]
        mask1 = tmp <= thresh
        for i in range(count):
            w = W1[:, i]
            d = Hinv1[i, i]
            q = w.clone()
            q[mask1[:, i]] = 0
            Q1[:, i] = q
            err1 = (w - q) / d
            W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
            Err1[:, i] = err1
        W[:, i1:i2] = Q1
        W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
        masks.append(mask1)
    return W, ~torch.cat(masks, dim=1)


def test_prune_matches_the_published_algorithm():
    torch.manual_seed(0)
    x = torch.randn(200, 40) * torch.rand(40) * 3
    x[:, 7] = 0  # a dead input feature
    W, H = torch.randn(24, 40), x.T @ x
    weight, kept = sparsegpt_prune(W, H, 0.6, 16, 0.01)
    ref_weight, ref_kept = _reference_fasterprune(W, H, 0.6, 16, 0.01)
    assert torch.equal(kept, ref_kept)
    assert torch.allclose(weight, ref_weight, atol=1e-5)
    assert (weight[~kept] == 0).all() and (weight[:, 7] == 0).all()


@pytest.mark.parametrize("kind", ["bert", "gpt2", "llama", "opt"])
def test_prunes_in_place_and_touches_nothing_else(kind):
    model = tiny_model(kind)
    before = {n: t.clone() for n, t in model.state_dict().items()}
    ids = torch.randint(0, VOCAB, (8, 16))
    masks = compute_masks(model, "sparsegpt", 0.5, "layer", calibration=ids)
    prunable = prunable_parameters(model)
    assert masks.keys() == prunable.keys()
    for name, param in model.state_dict().items():
        if name in masks:
            assert (param[~masks[name]] == 0).all()
            assert not torch.equal(param[masks[name]], before[name][masks[name]])
            assert abs((~masks[name]).float().mean().item() - 0.5) < 0.05
        else:
            assert torch.equal(param, before[name]), name


def test_sparsity_zero_changes_nothing():
    model = tiny_model("bert")
    before = {n: t.clone() for n, t in model.state_dict().items()}
    masks = compute_masks(model, "sparsegpt", 0.0, "layer", calibration=torch.randint(0, 9, (2, 8)))
    assert all(m.all() for m in masks.values())
    assert all(torch.equal(before[n], t) for n, t in model.state_dict().items())
