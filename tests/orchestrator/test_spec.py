"""Spec validation (one clear line per bad input) and trial keys (stable, content-addressed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.spec import SpecError, load_spec, validate_spec

BASE = "name: t\nstorage: {storage}\nmodels: [minilm]\ntasks: [builtin/polarity-easy]\n"

BAD = {
    "missing file": (None, "cannot read spec"),
    "yaml syntax": ("name: t\nmodels: [a\n", "YAML syntax error at line"),
    "unknown key": (BASE + "sparsity: [0.5]\n", "unknown key 'sparsity'; allowed:"),
    "nested unknown key": (BASE + "train: {lr: 1e-5, epoch: 2}\n", "unknown key 'train.epoch'"),
    "wrong type": (BASE + "seeds: [1, two]\n", "seeds[1] = 'two'"),
    "sparsity range": (BASE + "sparsities: [0.5, 1.0]\n", "sparsities[1] = 1.0: 1.0 is outside [0, 1)"),
    "negative sparsity": (BASE + "sparsities: [-0.1]\n", "sparsities[0] = -0.1"),
    "empty grid": (BASE + "seeds: []\n", "seeds = []"),
    "unknown transfer": (BASE + "transfer: [sparse, frozen]\n", "transfer[1] = 'frozen': allowed:"),
    "bad lora rank": (BASE + "transfer: [sparse, lora]\ntrain: {lora_r: 0}\n", "train.lora_r = 0: Input should be greater than 0"),
    "unknown task": ("name: t\nmodels: [m]\ntasks: [glue/qnlii]\n", "tasks[0] = 'glue/qnlii': unknown task"),
    "rtn is not a trial": (BASE + "pruning: [{method: rtn, bits: 4}]\n", "pruning[0].method = 'rtn': rtn (round-to-nearest"),
    "rtn under a training mode": (BASE + "quantization: [{method: rtn, bits: [4]}]\ntransfer: [dense, sparse]\n", "transfer[1] = 'sparse': rtn quantization runs only where the quantized weights stay on their grid; allowed: lora, none"),
    "rtn's own transfer": (BASE + "quantization: [{method: rtn, bits: [4], transfer: [none, dense_freeze]}]\n", "quantization[0].transfer[1] = 'dense_freeze'"),
    "rtn bits": (BASE + "quantization: [{method: rtn, bits: [8, 5]}]\ntransfer: [none]\n", "quantization[0].bits[1] = 5"),
    "wrong scope": (BASE + "pruning: [{method: wanda, scope: global}]\n", "wanda takes scope row, not 'global'"),
    "nm without keep": (BASE + "pruning: [{method: nm, of: 4}]\n", "nm needs whole numbers keep < of"),
    "unknown method": (BASE + "pruning: [{method: magnitud}]\n", "pruning[0].method = 'magnitud'"),
    "missing models": ("name: t\ntasks: [glue/qnli]\n", "models is required"),
    "bad fraction": (BASE + "difficulty: {data_fraction: [0.5, 1.5]}\n", "data_fraction level 1.5"),
    "missing data file": ("name: t\nmodels: [m]\ntasks: [{name: r, train: nope.tsv, eval: nope.tsv, "
                          "text: s}]\n", "tasks[0].train = 'nope.tsv': no such file"),
    "not a mapping": ("- a\n- b\n", "a sweep spec is a mapping"),
    "infinite cpu": (BASE + "resources: {cpu: .inf}\n", "resources.cpu = inf: Input should be a finite number"),
    "cpu below ray's share": (BASE + "resources: {cpu: 0.00001}\n", "resources.cpu = 1e-05: 1e-05 is below Ray's smallest share, 0.0001"),
    "unknown tracker": (BASE + "trackers: [mlflow, tensorbored]\n", "trackers[1] = 'tensorbored': allowed: 'mlflow', 'wandb' or 'tensorboard'"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_spec_is_one_clear_line_exit_2_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text, expected = BAD[case]
    storage = tmp_path / "store"
    path = tmp_path / "sweep.yaml"
    if text is not None:
        path.write_text(text.replace("{storage}", str(storage)))
    for verb in ("validate", "submit"):
        assert main([verb, str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err
        assert f"{path}:" in err and expected in err, err
    assert not storage.exists() and not (tmp_path / "sweeps").exists()


def test_grid_counts_dense_once_per_model_task_level_seed(tmp_path):
    spec = load_spec(_write(tmp_path, BASE + "difficulty: {data_fraction: [0.5, 1.0]}\n"
                            "sparsities: [0.1, 0.5, 0.9]\ntransfer: [dense, sparse, dense_freeze]\n"
                            "seeds: [1, 2]\n"))  # fmt: skip
    trials = spec.expand()
    dense = [t for t in trials if t.transfer == "dense"]
    assert len(dense) == 2 * 2  # levels × seeds
    assert len(trials) == 4 + 2 * 2 * 3 * 2  # + levels × seeds × sparsities × pruned transfers
    assert {t.sparsity for t in dense} == {0.0} and {t.method for t in dense} == {"none"}
    assert len({t.trial_key for t in trials}) == len(trials)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text.replace("{storage}", str(tmp_path / "store")))
    return path


def _keys(data: dict) -> list[str]:
    return [t.trial_key for t in validate_spec(data).expand()]


SPEC = {"name": "a", "storage": "/tmp/x", "models": ["roberta-base"], "tasks": ["glue/qnli"],
        "sparsities": [0.5], "transfer": ["sparse"], "seeds": [42]}  # fmt: skip


def test_trial_key_is_stable_across_runs_and_machines():
    # a golden value: the key depends only on the config, never on the process, host or path
    assert _keys(SPEC) == _keys(dict(SPEC))
    assert _keys(SPEC) == ["045201da7c2d2bccecbec21b"]
    code = f"from orchestrator.spec import validate_spec; print(validate_spec({SPEC!r}).expand()[0].trial_key)"
    other = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": "7", "PYTHONPATH": str(Path(__file__).parents[2])},
                           capture_output=True, text=True, check=True, cwd="/")  # fmt: skip
    assert other.stdout.strip() == "045201da7c2d2bccecbec21b"


def test_trial_keys_survive_saving_and_reloading_the_spec(tmp_path):
    from orchestrator.driver import save_spec
    from orchestrator.sweeps import stored_spec

    lora = {"transfer": ["lora"], "train": {"lora_targets": ["query"], "epochs": 2}}
    for spec in (validate_spec({**SPEC, "storage": str(tmp_path)}),  # defaults: epochs 3, cpu 1
                 validate_spec({**SPEC, **lora, "storage": str(tmp_path / "lora")})):  # fmt: skip
        save_spec(spec)
        assert [t.trial_key for t in stored_spec(spec.sweep_dir).expand()] == [
            t.trial_key for t in spec.expand()
        ]


def test_train_is_one_frozen_config_passed_to_the_trial_unchanged():
    spec = validate_spec({**SPEC, "train": {"lora_targets": ["query"], "epochs": 2}})
    (trial,) = spec.expand()
    assert trial.train is spec.train and trial.train.lora_targets == ("query",)
    assert type(trial).from_dict(trial.to_dict()) == trial
    with pytest.raises(ValueError, match="frozen"):
        spec.train.lr = 1.0


def test_trial_key_ignores_where_but_not_what():
    assert _keys({**SPEC, "name": "b", "storage": "/elsewhere", "resources": {"cpu": 4}}) == _keys(
        SPEC
    )
    assert _keys({**SPEC, "retries": 5}) == _keys(SPEC)
    for change in ({"train": {"lr": 3e-5}}, {"seeds": [43]}, {"sparsities": [0.6]},
                   {"models": ["roberta-large"]}, {"pruning": [{"method": "magnitude", "scope": "layer"}]},
                   {"pruning": [{"method": "nm", "keep": 2, "of": 4}]},
                   {"difficulty": {"data_fraction": [0.5]}}, {"transfer": ["dense_freeze"]}):  # fmt: skip
        assert _keys({**SPEC, **change}) != _keys(SPEC), change


def test_number_written_like_2e_5_is_a_float(tmp_path):
    spec = load_spec(_write(tmp_path, BASE + "train: {lr: 2e-5}\n"))
    assert spec.train.lr == 2e-5


def test_local_file_task_key_follows_content_not_path(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for split in ("train", "dev"):
            (tmp_path / name / f"{split}.tsv").write_text("sentence\tlabel\nfine\t1\nbad\t0\n")

    def keys(folder: str) -> list[str]:
        task = {"name": "r", "train": str(tmp_path / folder / "train.tsv"),
                "eval": str(tmp_path / folder / "dev.tsv"), "text": "sentence"}  # fmt: skip
        return _keys({**SPEC, "tasks": [task]})

    assert keys("a") == keys("b")
    (tmp_path / "b" / "train.tsv").write_text("sentence\tlabel\nfine\t1\nbad\t0\nok\t1\n")
    assert keys("a") != keys("b")


def test_spec_error_names_file_and_field():
    with pytest.raises(SpecError, match=r"^x.yaml: sparsities\[0\] = 2.0"):
        validate_spec({**SPEC, "sparsities": [2.0]}, "x.yaml")


def test_spec_reads_the_pruning_registry_and_imports_no_torch():
    from pruning.methods import METHODS, Method, Option, register_method

    register_method(Method("toy", ("row", "layer"), print, options={"width": Option(int, 1, 3)}))
    try:
        (pruning,) = validate_spec({**SPEC, "pruning": [{"method": "toy", "width": 2}]}).pruning
        assert (pruning.scope, pruning.options) == ("row", {"width": 2})
        with pytest.raises(SpecError, match="toy option width = 0 must be an integer >= 1"):
            validate_spec({**SPEC, "pruning": [{"method": "toy", "width": 0}]})
    finally:
        del METHODS["toy"]
    code = "import sys, orchestrator.spec; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_each_method_gets_its_natural_scope_and_nm_its_own_sparsity():
    spec = validate_spec({**SPEC, "sparsities": [0.3, 0.6], "pruning": [
        {"method": "magnitude"}, {"method": "wanda", "calibration": {"dataset": "allenai/c4", "length": 128}},
        {"method": "nm", "keep": 2, "of": 4}]})  # fmt: skip
    got = sorted({(t.method, t.scope, t.sparsity) for t in spec.expand()})
    assert got == [("magnitude", "global", 0.3), ("magnitude", "global", 0.6), ("nm", "row", 0.5),
                   ("wanda", "row", 0.3), ("wanda", "row", 0.6)]  # fmt: skip


def test_a_mode_at_sparsity_0_is_the_dense_trial_and_runs_once_other_keys_unchanged(tmp_path):
    from orchestrator.spec import grid

    text = (BASE + "difficulty: {data_fraction: [0.5, 1.0]}\nsparsities: [0.0, 0.5]\n"
            "transfer: [dense, sparse, dense_freeze, sparse_to_dense, lora]\nseeds: [1, 2]\n")  # fmt: skip
    spec = load_spec(_write(tmp_path, text))
    every = list(grid.grid(*spec._grid_of()))
    trials = spec.expand()
    merged = {t.trial_key for t, _ in spec.equivalents()}
    assert len(merged) == 2 * 2 * 3  # levels × seeds × (sparse, dense_freeze, sparse_to_dense)
    assert len(trials) == len(every) - len(merged)
    assert [t.trial_key for t in trials] == [
        t.trial_key for t in every if t.trial_key not in merged
    ]
    dense = {t.trial_key for t in trials if t.transfer == "dense"}
    assert {same.trial_key for _, same in spec.equivalents()} == dense
    assert {(t.transfer, t.sparsity) for t in trials if t.transfer == "lora"} == {
        ("lora", 0.0), ("lora", 0.5)}  # fmt: skip  # lora at 0 is not dense: adapters train


def test_without_dense_listed_sparsity_0_still_runs_once_as_the_dense_trial():
    spec = validate_spec(
        {**SPEC, "sparsities": [0.0, 0.5], "transfer": ["sparse", "sparse_to_dense"]}
    )
    assert [(t.transfer, t.sparsity) for t in spec.expand()] == [
        ("dense", 0.0), ("sparse", 0.5), ("sparse_to_dense", 0.5)]  # fmt: skip


def test_the_demo_runs_30_trials_for_its_36_points(capsys):
    from importlib.resources import files

    import yaml

    data = yaml.safe_load(files("orchestrator").joinpath("demo.yaml").read_text())
    spec = validate_spec({**data, "storage": "/tmp/x"})
    assert len(spec.expand()) == 30 and len(spec.equivalents()) == 6


def test_quantization_trials_one_per_bit_width_and_mode_keys_apart_from_pruning():
    spec = validate_spec({**SPEC, "transfer": ["dense", "sparse"], "quantization": [
        {"method": "rtn", "bits": [8, 4, 2], "group_size": 64, "transfer": ["none", "lora"]}]})  # fmt: skip
    quantized = [t for t in spec.expand() if t.bits is not None]
    assert [(t.transfer, t.bits) for t in quantized] == [
        ("none", 8), ("none", 4), ("none", 2), ("lora", 8), ("lora", 4), ("lora", 2)]  # fmt: skip
    assert {(t.method, t.scope, t.sparsity) for t in quantized} == {("rtn", "group", 0.0)}
    assert quantized[0].pruning_options == {"group_size": 64}
    assert len({t.trial_key for t in spec.expand()}) == len(spec.expand())
    assert _keys(SPEC) == ["045201da7c2d2bccecbec21b"]  # pruning keys do not see `bits`
    per_row = validate_spec({**SPEC, "transfer": ["none"], "pruning": [], "quantization": [
        {"method": "rtn", "bits": [4], "group_size": None}]})  # fmt: skip
    assert [(t.scope, t.pruning_options) for t in per_row.expand()] == [("row", {})]


def test_the_pruning_vs_quantization_example_runs_each_trial_once():
    spec = load_spec(Path(__file__).parents[2] / "examples" / "pruning-vs-quantization.yaml")
    trials = spec.expand()
    quantized = [t for t in trials if t.bits is not None]
    assert len(quantized) == 2 * 2 * 4 and {t.transfer for t in quantized} == {"lora"}
    assert len(trials) == 2 * 2 * (1 + 3 + 4) and len(spec.equivalents()) == 4


@pytest.mark.parametrize(
    "written, expected",
    [("8GiB", 8 * 2**30), ("8G", 8 * 10**9), ("8GB", 8 * 10**9), ("8 GB", 8 * 10**9),
     ("8589934592", 8 * 2**30), (8589934592, 8 * 2**30), ("8gib", 8 * 2**30), ("1.5GB", 1_500_000_000),
     ("16Gi", 16 * 2**30), ("512MiB", 2**29)],
)  # fmt: skip
def test_memory_is_read_in_every_unit_people_write_and_reaches_ray_as_bytes(written, expected):
    spec = validate_spec({"name": "m", "models": ["minilm"], "tasks": ["builtin/polarity-easy"],
                          "resources": {"memory": written}})  # fmt: skip
    assert spec.resources.memory == expected
    # the saved spec holds bytes, and reads back the same
    saved = spec.model_dump(mode="json")["resources"]["memory"]
    assert (
        saved == expected
        and validate_spec(spec.model_dump(mode="json")).resources == spec.resources
    )


@pytest.mark.parametrize(
    "written, expected",
    [("8 parsecs", "resources.memory = '8 parsecs': could not interpret byte unit: parsecs"),
     ("-1GB", "resources.memory = '-1GB': could not parse value and unit from byte string"),
     ("lots", "resources.memory = 'lots': could not parse value and unit from byte string"),
     ("8", "resources.memory = 8: is 8 bytes; write a unit, e.g. 8GB or 8GiB"),
     ("true", "resources.memory = True: is a number of bytes with a unit, e.g. 8GB or 8GiB")],
)  # fmt: skip
def test_bad_memory_is_one_line_exit_2_before_anything_is_written(
    written, expected, tmp_path, capsys
):
    storage = tmp_path / "store"
    path = tmp_path / "sweep.yaml"
    path.write_text(BASE.replace("{storage}", str(storage)) + f"resources: {{memory: {written}}}\n")
    for verb in ("validate", "submit"):
        assert main([verb, str(path)]) == 2
        assert capsys.readouterr().err.strip() == f"junkdna: {path}: {expected}"
    assert not storage.exists()


def test_validate_prints_memory_in_the_unit_family_it_was_written_in(tmp_path, capsys):
    for written, shown in (("64GB", "64GB"), ("8GiB", "8GiB"), ("1.5GB", "1.5GB")):
        path = tmp_path / "sweep.yaml"
        path.write_text(
            BASE.replace("{storage}", str(tmp_path)) + f"resources: {{memory: {written}}}\n"
        )
        assert main(["validate", str(path)]) == 0
        assert f"1 CPU, 0 GPU, {shown} memory" in capsys.readouterr().out
