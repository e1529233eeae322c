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


def test_open_closed_book_spec_is_the_papers(capsys):
    spec = load_spec(EXAMPLES / "triviaqa-open-closed-book.yaml")
    assert (spec.models, spec.tasks) == (["lmsys/vicuna-7b-v1.3"], ["triviaqa/rc"])
    assert spec.difficulty == {"context": [0, 3072]} and spec.train.n_eval == 2000
    assert [p.method for p in spec.pruning] == ["magnitude", "wanda", "sparsegpt"]
    assert spec.pruning[1].options["calibration"] == {"dataset": "allenai/c4", "n": 128,
                                                      "length": 2048}  # fmt: skip
    assert spec.sparsities == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] and spec.transfer == [
        "dense",
        "none",
    ]
    assert len(spec.expand()) == 2 * (1 + 3 * 7)
    assert main(["validate", str(EXAMPLES / "triviaqa-open-closed-book.yaml")]) == 0
    out = capsys.readouterr().out
    assert "44 trials" in out and "1 GPU, 64GB memory -> 44 GPU-trials in all" in out


def test_translation_spec_is_the_papers(capsys):
    spec = load_spec(EXAMPLES / "translation-languages.yaml")
    assert spec.models == ["facebook/mbart-large-50-many-to-many-mmt"] and spec.difficulty == {
        "language": []
    }
    pairs = {t.task_name: t.difficulty_level for t in spec.expand()}
    assert sorted(pairs) == sorted(f"flores/{a}-{b}" for x in ("de", "ru", "vi", "gu", "my")
                                   for a, b in (("en", x), (x, "en")))  # fmt: skip
    assert max(pairs["flores/en-gu"], pairs["flores/en-my"]) < min(
        pairs["flores/en-de"], pairs["flores/en-ru"], pairs["flores/en-vi"]
    )
    assert spec.sparsities == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    assert len(spec.expand()) == 10 * (1 + 8)
    assert main(["validate", str(EXAMPLES / "translation-languages.yaml")]) == 0
    assert "90 trials" in capsys.readouterr().out
