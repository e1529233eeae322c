"""Calibration text: tokenized once per process; masks computed where the model runs."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from workers import calibration, trial


class CountingTokenizer:
    name_or_path = "counting"

    def __init__(self):
        self.calls = 0

    def __call__(self, text: str):
        self.calls += 1
        return SimpleNamespace(input_ids=[len(word) for word in text.split()])


def test_calibration_text_is_tokenized_once_per_process(tmp_path):
    text = tmp_path / "c.txt"
    text.write_text("paris is the capital of france and the sky is blue " * 4)
    tokenizer = CountingTokenizer()
    source = {"file": str(text), "n": 3, "length": 8}
    first = calibration.calibration_ids(tokenizer, source)
    again = calibration.calibration_ids(tokenizer, dict(source))
    assert tokenizer.calls == 1 and again is first and first.shape == (3, 8)
    text.write_text("a spider has eight legs and no wings hamlet was written by shakespeare " * 4)
    changed = calibration.calibration_ids(tokenizer, source)  # new content, new calibration set
    assert tokenizer.calls == 2 and not torch.equal(changed, first)


def test_the_model_is_on_the_trials_device_before_masks_are_computed(monkeypatch):
    model = torch.nn.Linear(2, 2)
    order = []
    monkeypatch.setattr(model, "to", lambda device: order.append(("to", device)) or model)
    monkeypatch.setattr(trial.cache, "masks", lambda m, t: order.append(("masks",)) or {})
    monkeypatch.setattr(trial.transfer, "prepare", lambda *args: None)
    config = SimpleNamespace(transfer="sparse", train=None, bits=None)
    trial.prune(model, config, torch.device("cpu"))
    assert order == [("to", torch.device("cpu")), ("masks",)]
