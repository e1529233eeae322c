"""A trial runs where Ray put it: a GPU trial without a visible GPU fails with one line."""

import pytest
import torch

from workers.device import DeviceError, model_dtype, trial_device


def test_no_gpu_requested_runs_on_the_cpu_even_if_one_is_visible(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert trial_device(0) == torch.device("cpu")


def test_a_gpu_trial_without_a_visible_gpu_fails_with_one_line(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(DeviceError) as error:
        trial_device(0.25)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("resources.gpu = 0.25 but no CUDA device is visible on ")
    assert "CUDA_VISIBLE_DEVICES=''" in message


def test_a_gpu_trial_gets_the_first_visible_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert trial_device(1) == torch.device("cuda")


@pytest.mark.parametrize(
    ("requested", "device", "lm", "bf16", "expected"),
    [
        ("auto", "cpu", True, True, torch.float32),
        ("auto", "cuda", True, True, torch.bfloat16),
        ("auto", "cuda", True, False, torch.float16),
        ("auto", "cuda", False, True, torch.float32),  # classifiers: fp32 weights, bf16 autocast
        ("bfloat16", "cpu", True, False, torch.bfloat16),
        ("float32", "cuda", True, True, torch.float32),
    ],
)
def test_model_dtype_per_family(monkeypatch, requested, device, lm, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: bf16)
    assert model_dtype(requested, torch.device(device), lm) == expected
