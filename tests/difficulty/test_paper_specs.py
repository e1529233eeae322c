"""The example specs that reproduce the paper's experiments validate, with the paper's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.spec import load_spec

EXAMPLES = Path(__file__).parents[2] / "examples"
SPARSITIES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
MODES = ["dense", "sparse", "dense_freeze", "sparse_to_dense"]


def test_data_adequacy_spec_is_the_papers():
    spec = load_spec(EXAMPLES / "qnli-data-adequacy.yaml")
    assert (spec.models, spec.tasks) == (["roberta-base"], ["glue/qnli"])
    assert spec.difficulty == {"data_fraction": [0.1, 0.25, 0.5, 0.75, 1.0]}
    assert (spec.train.max_length, spec.train.batch_size, spec.train.lr, spec.train.epochs) == (
        128,
        32,
        2e-5,
        3,
    )
    assert spec.sparsities == SPARSITIES and spec.transfer == MODES and len(spec.seeds) == 3
    assert len(spec.expand()) == 5 * 3 * (1 + 3 * 9)


def test_cross_task_spec_is_the_papers():
    spec = load_spec(EXAMPLES / "glue-human-gap.yaml")
    assert spec.models == ["roberta-large"] and spec.difficulty == {"human_gap": []}
    assert all(t.startswith("glue/") for t in spec.tasks) and len(spec.tasks) == 8
    assert (spec.train.max_length, spec.train.batch_size) == (512, 16)
    levels = {t.task_name: t.difficulty_level for t in spec.expand()}
    assert levels["glue/rte"] == 0.936 and levels["glue/cola"] == 0.664
    assert len(spec.expand()) == 8 * 3 * (1 + 3 * 9)


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_validates_and_prints_its_trial_count(example, capsys):
    assert main(["validate", str(EXAMPLES / example)]) == 0
    out = capsys.readouterr().out
    count = len(load_spec(EXAMPLES / example).expand())
    assert out.strip().endswith(f"\n{count} trials")
