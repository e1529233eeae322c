"""lm-eval tasks in a spec: validation, the extra's one line, transfer, trial keys, the example."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.spec import load_spec, validate_spec

ROOT = Path(__file__).parents[2]
TINY = ROOT / "tests" / "lm_eval_tasks" / "tiny_mc.yaml"


def spec(tmp_path, model: str, task: dict, **extra) -> dict:
    return {"name": "lm", "storage": str(tmp_path), "models": [model], "tasks": [task],
            "difficulty": {"shots": [0, 1]}, "sparsities": [0.5], "transfer": ["dense", "none"],
            "seeds": [1]} | extra  # fmt: skip


def test_a_local_task_yaml_validates_and_expands(tmp_path, tiny_llama_lm):
    pytest.importorskip("lm_eval")
    validated = validate_spec(spec(tmp_path, tiny_llama_lm, {"lm_eval": str(TINY)}))
    trials = validated.expand()
    assert len(trials) == 2 * 2 and {t.task_name for t in trials} == {"lm_eval/tiny_mc"}
    assert trials[0].task == {"name": "lm_eval/tiny_mc", "lm_eval_file": str(TINY)}
    assert trials[0].task_fingerprint.startswith("lm-eval 0.4.")  # lm-eval's version, in the key


def test_the_yaml_content_not_its_place_and_lm_evals_version_make_the_key(tmp_path, tiny_llama_lm):
    pytest.importorskip("lm_eval")
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    for f in ("tiny_mc.yaml", "tiny_mc.jsonl"):
        shutil.copy(TINY.parent / f, copy / f)
    keys = [
        [
            t.trial_key
            for t in validate_spec(spec(tmp_path, tiny_llama_lm, {"lm_eval": str(y)})).expand()
        ]
        for y in (TINY, copy / "tiny_mc.yaml")
    ]
    assert keys[0] == keys[1]  # the same files elsewhere: the same trials
    (copy / "tiny_mc.jsonl").write_text((copy / "tiny_mc.jsonl").read_text().replace("dog", "wolf"))
    changed = validate_spec(spec(tmp_path, tiny_llama_lm, {"lm_eval": str(copy / "tiny_mc.yaml")}))
    assert not set(keys[0]) & {
        t.trial_key for t in changed.expand()
    }  # another question: other trials
    trial = changed.expand()[0]
    newer = type(trial)(
        **{**trial.__dict__, "task_fingerprint": "lm-eval 0.5.0" + trial.task_fingerprint[12:]}
    )
    assert newer.trial_key != trial.trial_key


@pytest.mark.parametrize(("task", "extra", "message"), [
    ({"lm_eval": str(TINY)}, {"transfer": ["dense", "sparse"]}, "is a lm_eval task, evaluated without fine-tuning: transfer must be dense (unpruned) or none, not sparse"),
    ({"lm_eval": "tests/lm_eval_tasks/none.yaml"}, {}, "lm_eval = 'tests/lm_eval_tasks/none.yaml': no such file"),
    ({"lm_eval": str(TINY)}, {"difficulty": {"human_gap": []}}, "human_gap needs a human baseline"),
    ({"lm_eval": str(TINY)}, {"difficulty": {"context": [0, 10]}}, "axis context does not apply to lm_eval tasks"),
])  # fmt: skip
def test_bad_lm_eval_specs_are_one_line_and_exit_2(
    task, extra, message, tmp_path, tiny_llama_lm, capsys
):
    pytest.importorskip("lm_eval")
    path = tmp_path / "s.yaml"
    import yaml

    path.write_text(yaml.safe_dump(spec(tmp_path, tiny_llama_lm, task, **extra)))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_without_lm_eval_validate_names_the_extra_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "lm_eval", None)
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nmodels: [m]\ntasks: [{lm_eval: winogrande}]\ntransfer: [dense, none]\n"
    )
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"junkdna: {path}: tasks[0] (lm_eval/winogrande): lm-eval tasks need lm-evaluation-harness: "
                   "pip install 'junkdna[lm-eval]'")  # fmt: skip


@pytest.mark.ci  # resolving lm-eval's task names indexes every task it ships: 10-30 s
def test_the_lm_eval_human_gap_example_validates_offline_with_the_published_levels():
    pytest.importorskip("lm_eval")
    example = load_spec(ROOT / "examples" / "lm-eval-human-gap.yaml")
    levels = {t.task_name: t.difficulty_level for t in example.expand()}
    assert levels == {"lm_eval/winogrande": 0.94, "lm_eval/commonsense_qa": 0.889, "lm_eval/hellaswag": 0.956,
                      "lm_eval/piqa": 0.949, "lm_eval/boolq": 0.89}  # fmt: skip
    assert example.resources.gpu == 1 and example.models == ["lmsys/vicuna-7b-v1.3"]
    assert len(example.expand()) == 5 * (1 + 2 * 7)
    with pytest.raises(Exception, match="lm-eval knows no task or group 'winogrand'"):
        validate_spec(
            {
                "name": "x",
                "models": ["m"],
                "tasks": [{"lm_eval": "winogrand"}],
                "transfer": ["dense", "none"],
            }
        )
