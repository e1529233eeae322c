import pytest
import torch

from pruning import threshold


def _tensors(tied: bool) -> list[torch.Tensor]:
    torch.manual_seed(1)
    tensors = [torch.randn(300, 70), torch.randn(5000), torch.randn(64, 64) * 3]
    return [t.round() if tied else t for t in tensors]


def _reference_kth(tensors: list[torch.Tensor], k: int) -> torch.Tensor:
    return torch.topk(torch.cat([t.abs().reshape(-1) for t in tensors]), k)[0][-1]


@pytest.mark.parametrize("tied", [False, True])
def test_kth_largest_abs_is_bit_identical_to_topk(tied):
    tensors = _tensors(tied)
    total = sum(t.numel() for t in tensors)
    for k in [1, 2, 777, total // 2, total - 1, total]:
        got = threshold.kth_largest_abs(tensors, k)
        assert got.view(torch.int32) == _reference_kth(tensors, k).view(torch.int32)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("budget", [threshold.CANDIDATE_BUDGET, 0.0])
def test_masks_equal_the_reference_on_the_fast_and_the_fallback_path(tied, budget, monkeypatch):
    monkeypatch.setattr(threshold, "CANDIDATE_BUDGET", budget)
    tensors = _tensors(tied)
    total = sum(t.numel() for t in tensors)
    for k in [1, 777, total // 3, total // 2, total - 1, total]:
        kth = _reference_kth(tensors, k)
        masks = threshold.keep_above_kth_largest(tensors, k)
        assert all(torch.equal(m, t.abs() > kth) for m, t in zip(masks, tensors))


def test_tiny_tensors():
    torch.manual_seed(2)
    for numel in range(1, 6):
        tensors = [torch.randn(numel)]
        for k in range(1, numel + 1):
            masks = threshold.keep_above_kth_largest(tensors, k)
            assert torch.equal(masks[0], tensors[0].abs() > _reference_kth(tensors, k))


def test_scores_are_float32_for_half_precision_weights():
    tensors = [t.bfloat16() for t in _tensors(tied=False)]
    k = 4321
    kth = _reference_kth([t.float() for t in tensors], k)
    masks = threshold.keep_above_kth_largest(tensors, k)
    assert all(torch.equal(m, t.float().abs() > kth) for m, t in zip(masks, tensors))


def test_keeping_none():
    masks = threshold.keep_above_kth_largest(_tensors(tied=False), 0)
    assert not any(m.any() for m in masks)
