"""A saved sweep reads on any machine: status needs the spec and the rows, not the task files."""

from __future__ import annotations

import shutil

import yaml

from orchestrator.cli import main
from orchestrator.driver import save_spec
from orchestrator.spec import validate_spec
from orchestrator.sweeps import stored_spec
from results import store
from tests.results.test_store import row


def _sweep_with_local_task(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for split in ("train", "dev"):
        (data / f"{split}.tsv").write_text("sentence\tlabel\nfine\t1\nbad\t0\n")
    task = {"name": "r", "train": str(data / "train.tsv"), "eval": str(data / "dev.tsv"),
            "text": "sentence"}  # fmt: skip
    spec = validate_spec({"name": "s", "storage": str(tmp_path / "here"), "models": ["minilm"],
                          "tasks": [task], "sparsities": [0.5], "transfer": ["dense", "sparse"],
                          "seeds": [1, 2], "noop": True})  # fmt: skip
    save_spec(spec)
    trials = spec.expand()
    store.write_trial(trials[0].results_dir, row(trials[0].trial_key))
    store.write_trial(trials[0].results_dir, row(trials[1].trial_key, status="failed"))
    return spec, data


def test_status_of_a_moved_sweep_needs_no_task_files(tmp_path, capsys):
    spec, data = _sweep_with_local_task(tmp_path)
    keys = [t.trial_key for t in spec.expand()]
    shutil.rmtree(data)  # another machine: neither the files nor the sweep's first home
    moved = tmp_path / "elsewhere" / "s"
    shutil.move(spec.sweep_dir, moved)
    saved = yaml.safe_load((moved / "spec.yaml").read_text())
    assert saved["tasks"][0]["fingerprint"] == spec.tasks[0].fingerprint
    assert [t.trial_key for t in stored_spec(str(moved)).expand()] == keys
    assert main(["status", str(moved)]) == 1
    assert "4 trials: 1 done, 1 failed, 2 pending" in capsys.readouterr().out


def test_resume_without_the_task_files_is_one_line_naming_the_file(tmp_path, capsys):
    spec, data = _sweep_with_local_task(tmp_path)
    (data / "train.tsv").unlink()
    assert main(["resume", spec.sweep_dir]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert f"tasks[0].train = '{data / 'train.tsv'}': no such file" in err, err


def test_a_spec_saved_without_fingerprints_reads_them_from_its_files(tmp_path):
    spec, _ = _sweep_with_local_task(tmp_path)
    path = tmp_path / "here" / "s" / "spec.yaml"
    saved = yaml.safe_load(path.read_text())
    del saved["tasks"][0]["fingerprint"]  # as an earlier junkdna saved it
    path.write_text(yaml.safe_dump(saved))
    assert stored_spec(spec.sweep_dir) == spec
