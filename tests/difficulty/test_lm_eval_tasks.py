"""lm-eval tasks as junkdna tasks: resolution, the extra's one line, data files, human baselines."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from difficulty import TaskError, get_task
from difficulty.axes import check_axis
from difficulty.human_gap import lm_eval_human_baselines
from difficulty.lm_eval_tasks import data_files, lm_eval_name
from difficulty.tasks import LM_EVAL

TINY = Path(__file__).parents[1] / "lm_eval_tasks" / "tiny_mc.yaml"


def test_a_task_yaml_resolves_to_an_lm_eval_task_with_its_data_files_beside_it():
    pytest.importorskip("lm_eval")
    task = get_task({"name": "lm_eval/tiny_mc", "lm_eval_file": str(TINY)})
    assert task.kind == LM_EVAL and task.name == "lm_eval/tiny_mc" and task.human_baseline is None
    assert lm_eval_name({"lm_eval_file": str(TINY)}) == "tiny_mc"
    assert data_files(str(TINY)) == [TINY.parent / "tiny_mc.jsonl"] * 2
    check_axis("shots", task, [0, 1])  # num_fewshot
    with pytest.raises(TaskError, match="num_options does not apply to lm_eval"):
        check_axis("num_options", task, [2])


def test_a_yaml_whose_data_file_is_missing_is_refused(tmp_path):
    pytest.importorskip("lm_eval")
    broken = tmp_path / "t.yaml"
    broken.write_text(TINY.read_text())
    with pytest.raises(TaskError, match="tiny_mc.jsonl .relative to the YAML. does not exist"):
        get_task({"name": "t", "lm_eval_file": str(broken)})


def test_without_lm_eval_installed_one_line_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "lm_eval", None)  # find_spec: not installed
    with pytest.raises(
        TaskError,
        match=r"^lm-eval tasks need lm-evaluation-harness: pip install 'junkdna\[lm-eval\]'$",
    ):
        get_task({"name": "lm_eval/winogrande", "lm_eval": "winogrande"})


def test_human_baselines_are_the_published_accuracies_by_lm_eval_name():
    assert lm_eval_human_baselines() == {
        "winogrande": 0.940, "commonsense_qa": 0.889, "hellaswag": 0.956, "piqa": 0.949, "boolq": 0.890,
    }  # fmt: skip
    text = (
        Path(__file__).parents[2] / "difficulty" / "data" / "lm_eval_human_baselines.csv"
    ).read_text()
    for source in ("Sakaguchi", "Talmor", "Zellers", "Bisk", "Clark et al. (2019)"):
        assert source in text  # each figure names its paper
    assert "ARC" in text  # and why ARC has none
