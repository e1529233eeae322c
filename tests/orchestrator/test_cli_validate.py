"""Bad tasks and levels are refused by `junkdna validate` in one line, exit 2, before any trial."""

from __future__ import annotations

import pytest

from orchestrator.cli import main

HEAD = "name: t\nstorage: {tmp}/store\nmodels: [minilm]\n"
FILES = "{{name: mine, train: {tmp}/train.csv, eval: {tmp}/dev.csv, text: {text}}}"

BAD = {
    "unknown task": ("tasks: [glue/qnlii]\n", "tasks[0] = 'glue/qnlii': unknown task 'glue/qnlii'; registered:"),
    "unknown xnli language": ("tasks: [xnli/xx]\n", "tasks[0] = 'xnli/xx': unknown task"),
    "missing file": ("tasks: [{name: m, train: {tmp}/nope.csv, eval: {tmp}/dev.csv, text: s}]\n",
                     "tasks[0].train = '{tmp}/nope.csv': no such file"),
    "missing column": ("tasks: [" + FILES.format(tmp="{tmp}", text="review") + "]\n",
                       "tasks[0] (mine): {tmp}/train.csv: no column 'review'; columns are s, label"),
    "missing text": ("tasks: [{name: m, train: {tmp}/train.csv, eval: {tmp}/dev.csv}]\n", "tasks[0].text is required"),
    "fraction above 1": ("tasks: [glue/rte]\ndifficulty: {data_fraction: [0.5, 1.5]}\n",
                         "difficulty = {'data_fraction': [0.5, 1.5]}: data_fraction level 1.5 is invalid; allowed: fractions in (0, 1]"),
    "fraction 0": ("tasks: [glue/rte]\ndifficulty: {data_fraction: [0]}\n", "data_fraction level 0"),
    "too few examples": ("tasks: [glue/qnli, glue/wnli]\ndifficulty: {data_fraction: [0.002, 1]}\n",
                         "tasks[1] = 'glue/wnli': data_fraction 0.002 of 635 training examples keeps 1, too few for its 2 labels"),
    "too few in a file": ("tasks: [" + FILES.format(tmp="{tmp}", text="s") + "]\ndifficulty: {data_fraction: [0.5]}\n",
                          "tasks[0] (mine): data_fraction 0.5 of 3 training examples keeps 1, too few for its 2 labels"),
    "noise on a regression": ("tasks: [glue/stsb]\ndifficulty: {label_noise: [0.1]}\n",
                              "tasks[0] = 'glue/stsb': label_noise needs class labels"),
    "noise of 1": ("tasks: [glue/rte]\ndifficulty: {label_noise: [1.0]}\n", "label_noise level 1.0 is invalid"),
    "fractional max_length": ("tasks: [glue/rte]\ndifficulty: {max_length: [64, 12.5]}\n", "max_length level 12.5 is invalid"),
    "human gap with levels": ("tasks: [glue/rte]\ndifficulty: {human_gap: [0.5]}\n", "human_gap takes no levels"),
    "human gap of a local task": ("tasks: [" + FILES.format(tmp="{tmp}", text="s") + "]\ndifficulty: {human_gap: []}\n",
                                  "tasks[0] (mine): human_gap needs a human baseline for accuracy"),
    "glue folder without dev": ("tasks: [{name: glue/rte, dir: {tmp}/RTE}]\n", "tasks[0].dir = '{tmp}/RTE': no dev.tsv in it"),
    "folder of a non-glue task": ("tasks: [{name: mine, dir: {tmp}}]\n", "tasks[0].name = 'mine': a task with `dir`"),
    "folder and files": ("tasks: [{name: glue/rte, dir: {tmp}, text: s}]\n", "tasks[0].text: a task with `dir`"),
    "two axes": ("tasks: [glue/rte]\ndifficulty: {data_fraction: [1], label_noise: [0]}\n", "exactly one axis per sweep"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_task_or_level_is_one_line_exit_2_before_any_trial(case, tmp_path, capsys):
    for split in ("train", "dev"):
        (tmp_path / f"{split}.csv").write_text("s,label\ngood,1\nbad,0\nfine,1\n")
    (tmp_path / "RTE").mkdir()
    (tmp_path / "RTE" / "train.tsv").write_text("index\tsentence1\tsentence2\tlabel\n")
    text, expected = (x.replace("{tmp}", str(tmp_path)) for x in BAD[case])
    path = tmp_path / "sweep.yaml"
    path.write_text(HEAD.replace("{tmp}", str(tmp_path)) + text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert err.startswith(f"junkdna: {path}: ") and expected in err, err
    assert not (tmp_path / "store").exists()


def test_each_axis_validates_and_expands(tmp_path, capsys):
    cases = {
        "data_fraction: [0.1, 1.0]": 2 * 2,
        "label_noise: [0.0, 0.2, 0.4]": 3 * 2,
        "max_length: [16, 64]": 2 * 2,
        "human_gap: []": 1 * 2,  # each task has one level: its human baseline
    }
    for axis, trials in cases.items():
        path = tmp_path / "s.yaml"
        path.write_text(HEAD.replace("{tmp}", str(tmp_path)) + f"tasks: [glue/rte, builtin/polarity-hard]\n"
                        f"difficulty: {{{axis}}}\ntransfer: [dense]\nseeds: [1]\n")  # fmt: skip
        assert main(["validate", str(path)]) == 0
        assert capsys.readouterr().out.strip().endswith(f"\n{trials} trials")
