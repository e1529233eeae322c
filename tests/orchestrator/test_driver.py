"""One small sweep end to end through real Ray Tune: rows, resume, failures, status, query."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.driver import bundles, pending_limit, run_sweep
from orchestrator.spec import validate_spec
from results.store import read_sweep, write_trial
from workers.config import TrialConfig


@pytest.fixture(scope="module")
def ray_local():
    import ray

    from orchestrator.driver import WORKER_ENV

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": WORKER_ENV})  # fmt: skip
    yield
    ray.shutdown()


def spec_text(model: str, storage, seeds="[1]", transfer="[dense, sparse, dense_freeze]") -> str:
    return (
        f"name: tiny\nstorage: {storage}\nmodels: [{model}]\n"
        f"tasks: [builtin/polarity-easy]\nsparsities: [0.3, 0.6]\ntransfer: {transfer}\n"
        f"seeds: {seeds}\nretries: 0\n"
        "train: {epochs: 1, lr: 1e-3, batch_size: 16, max_length: 16, n_train: 64, n_eval: 32}\n"
    )


def rows(sweep_dir) -> list[dict]:
    return read_sweep(f"{sweep_dir}/results").table.to_pylist()


def test_sweep_writes_one_row_per_trial_and_a_second_submit_runs_nothing(
    ray_local, tiny_bert, tmp_path, capsys
):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(spec_text(tiny_bert, tmp_path / "sweeps"))
    assert main(["submit", str(spec)]) == 0
    sweep = tmp_path / "sweeps" / "tiny"
    got = rows(sweep)
    assert len(got) == 1 + 2 * 2  # dense once, sparse and dense_freeze at two sparsities
    assert {r["status"] for r in got} == {"ok"}
    for r in got:
        if r["transfer"] == "sparse":  # pruned weights stayed exactly zero through fine-tuning
            assert abs(r["actual_sparsity"] - r["sparsity"]) < 1e-3
        else:
            assert r["actual_sparsity"] < 0.01
        assert r["n_train"] == 64 and r["n_eval"] == 32 and 0 <= r["metric"] <= 1
    files = {p.name: p.stat().st_mtime_ns for p in (sweep / "results").glob("*.parquet")}
    capsys.readouterr()

    assert main(["submit", str(spec)]) == 0
    assert "5 already done, 0 ran" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in (sweep / "results").glob("*.parquet")} == files

    assert main(["results", "query", str(sweep), "select transfer, count(*) as n from trials group by 1 order by 1",
                 "--format", "json"]) == 0  # fmt: skip
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines == [
        {"transfer": "dense", "n": 1},
        {"transfer": "dense_freeze", "n": 2},
        {"transfer": "sparse", "n": 2},
    ]

    # the spec grows by one seed: resume runs exactly the new trials
    spec.write_text(spec_text(tiny_bert, tmp_path / "sweeps", seeds="[1, 2]"))
    assert main(["submit", str(spec)]) == 0
    assert "10 trials, 5 already done, 5 ran, 0 failed" in capsys.readouterr().out
    assert len(rows(sweep)) == 10
    # masks are computed once per sparsity and shared by transfer modes, seeds and workers
    assert len(list((sweep / "masks").glob("*.safetensors"))) == 2
    assert main(["status", "tiny"]) == 2  # not under ./sweeps of this cwd: a clear error
    assert main(["status", str(sweep)]) == 0
    assert "10 trials: 10 done, 0 failed, 0 pending" in capsys.readouterr().out


def test_failing_trials_are_recorded_and_resume_runs_them_again(ray_local, tmp_path, capsys):
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    spec = tmp_path / "broken.yaml"
    spec.write_text(spec_text(str(broken), tmp_path / "sweeps", seeds="[1, 2]", transfer="[dense]"))
    assert main(["submit", str(spec)]) == 1
    out = capsys.readouterr().out
    assert "2 trials, 0 already done, 0 ran, 2 failed" in out
    got = rows(tmp_path / "sweeps" / "tiny")
    assert len(got) == 2 and {r["status"] for r in got} == {"failed"}
    assert all("not-a-model" in r["error"] for r in got), got[0]["error"]

    assert main(["status", str(tmp_path / "sweeps" / "tiny")]) == 1
    assert "2 trials: 0 done, 2 failed, 0 pending" in capsys.readouterr().out
    assert main(["resume", str(tmp_path / "sweeps" / "tiny")]) == 1  # failed rows are not done rows
    assert "0 already done, 0 ran, 2 failed" in capsys.readouterr().out
    assert len(rows(tmp_path / "sweeps" / "tiny")) == 2


def llm_spec(name: str, storage, model: str, task: dict, difficulty: str, pruning: str) -> str:
    return (
        f"name: {name}\nstorage: {storage}\nmodels: [{model}]\ntasks: [{json.dumps(task)}]\n"
        f"difficulty: {difficulty}\npruning: {pruning}\nsparsities: [0.5]\n"
        "transfer: [dense, none]\nseeds: [1]\nretries: 0\n"
        "train: {n_eval: 3, eval_batch_size: 2, max_new_tokens: 4, num_beams: 2}\n"
    )


def test_llm_and_translation_sweeps_prune_and_evaluate_without_fine_tuning(
    ray_local, tiny_gpt2_lm, tiny_mbart, tmp_path, capsys
):
    from tests.data import pair_rows, qa_rows, write_jsonl

    calibration = tmp_path / "calibration.txt"
    calibration.write_text("the sky is blue on a clear day and paris is the capital of france " * 8)
    qa = {"name": "my-qa", "kind": "qa", "train": write_jsonl(tmp_path / "qa.jsonl", qa_rows()),
          "eval": write_jsonl(tmp_path / "qa-eval.jsonl", qa_rows())}  # fmt: skip
    wanda = f"{{method: wanda, calibration: {{file: {calibration}, n: 2, length: 16}}}}"
    spec = tmp_path / "qa.yaml"
    spec.write_text(llm_spec("qa", tmp_path / "sweeps", tiny_gpt2_lm, qa, "{context: [0, 40]}",
                             f"[{{method: magnitude}}, {wanda}]"))  # fmt: skip
    assert main(["submit", str(spec)]) == 0
    got = rows(tmp_path / "sweeps" / "qa")
    assert len(got) == 2 * (1 + 2)  # two context levels × (dense + magnitude and wanda at 0.5)
    assert {r["status"] for r in got} == {"ok"} and {r["transfer"] for r in got} == {
        "dense",
        "none",
    }
    for r in got:
        assert r["metric_name"] == "match" and r["difficulty_axis"] == "context"
        assert set(json.loads(r["metrics"])) == {"match", "exact_match", "f1"}
        assert r["prompt"] == "paper"  # the template the answers were asked in
        assert r["n_train"] == 0 and r["n_eval"] == 3 and r["train_s"] == 0
        pruned = r["transfer"] == "none"
        assert abs(r["actual_sparsity"] - (0.5 if pruned else 0.0)) < 0.01, r
    assert {r["method"] for r in got if r["transfer"] == "none"} == {"magnitude", "wanda"}
    # one mask set per method, shared by the levels; wanda's key includes its calibration text
    assert len(list((tmp_path / "sweeps" / "qa" / "masks").glob("*.safetensors"))) == 2

    task = {"name": "my-en-de", "kind": "translation", "languages": ["en", "de"], "resource": 7,
            "train": write_jsonl(tmp_path / "pairs.jsonl", pair_rows()),
            "eval": write_jsonl(tmp_path / "pairs-eval.jsonl", pair_rows())}  # fmt: skip
    spec = tmp_path / "mt.yaml"
    spec.write_text(llm_spec("mt", tmp_path / "sweeps", tiny_mbart, task, "{language: []}",
                             "[{method: magnitude}]"))  # fmt: skip
    assert main(["submit", str(spec)]) == 0
    got = rows(tmp_path / "sweeps" / "mt")
    assert sorted(r["transfer"] for r in got) == ["dense", "none"]
    for r in got:
        assert r["status"] == "ok" and r["metric_name"] == "bleu" and r["difficulty_level"] == 7
        assert set(json.loads(r["metrics"])) == {"bleu", "chrf"} and 0 <= r["metric"] <= 100
    assert abs(max(r["actual_sparsity"] for r in got) - 0.5) < 0.01
    capsys.readouterr()
    assert main(["results", "table", str(tmp_path / "sweeps" / "mt")]) == 0
    assert "my-en-de" in capsys.readouterr().out
    assert (
        main(["analyze", str(tmp_path / "sweeps" / "qa"), "--out", str(tmp_path / "report")]) == 0
    )
    assert "context" in (tmp_path / "report" / "report.md").read_text()


def test_the_pending_limit_is_the_trial_slots_the_autoscaler_can_reach():
    cluster = yaml.safe_load(Path(__file__).parents[2].joinpath("cluster.yaml").read_text())
    gpu_node = {"CPU": 8.0, "GPU": 1.0, "memory": 3e10}  # a g5.2xlarge as Ray detects it
    # the shipped cluster.yaml: 16 GPU workers, sized like the live one (`resources: {}`)
    assert pending_limit({"CPU": 1, "GPU": 0.25}, [{"CPU": 0.0}, gpu_node], cluster) == 16 * 4
    assert pending_limit({"CPU": 1, "GPU": 1}, [{"CPU": 0.0}, gpu_node], cluster) == 16
    declared = {"max_workers": 10, "available_node_types": {
        "head": {"resources": {"CPU": 0}},
        "a": {"max_workers": 8, "resources": {"CPU": 32, "GPU": 8}},
        "b": {"max_workers": 8, "resources": {"CPU": 8, "GPU": 1}}}}  # fmt: skip
    # nothing live yet: declared sizes decide; the top-level max_workers keeps the biggest nodes
    assert pending_limit({"CPU": 2, "GPU": 1}, [{"CPU": 0.0}], declared) == 8 * 8 + 2 * 1
    assert pending_limit({"CPU": 1, "GPU": 0}, [{"CPU": 2.0}]) == 2  # a laptop: what is live
    assert pending_limit({"CPU": 1, "GPU": 1}, [{"CPU": 0.0}]) == 1  # never 0


def test_the_driver_hands_tune_its_pending_limit(ray_local, tmp_path, monkeypatch):
    from ray import tune

    seen = []
    monkeypatch.setattr(tune.Tuner, "fit", lambda self: seen.append(
        os.environ.get("TUNE_MAX_PENDING_TRIALS_PG")))  # fmt: skip
    monkeypatch.setenv("JUNKDNA_CLUSTER_CONFIG", str(tmp_path / "cluster.yaml"))
    (tmp_path / "cluster.yaml").write_text(
        "max_workers: 4\navailable_node_types:\n  gpu: {max_workers: 4, resources: {CPU: 4}}\n"
    )
    spec = validate_spec({"name": "p", "storage": str(tmp_path), "models": ["minilm"],
                          "tasks": ["builtin/polarity-easy"], "noop": True})  # fmt: skip
    run_sweep(spec, quiet=True)
    assert seen == ["16"] and "TUNE_MAX_PENDING_TRIALS_PG" not in os.environ  # 4 nodes × 4 CPUs


def test_bundles_hold_whole_mask_sets_in_reuse_order():
    spec = validate_spec({"name": "b", "storage": "/tmp/unused", "models": ["minilm"],
                          "tasks": ["builtin/polarity-easy"], "sparsities": [0.1, 0.3, 0.5, 0.7, 0.9],
                          "transfer": ["dense", "sparse", "dense_freeze"], "seeds": [1, 2, 3]})  # fmt: skip
    trials = spec.expand()
    work = bundles(trials, slots=2)
    keys = sorted(TrialConfig.from_dict(c).trial_key for bundle in work for c in bundle)
    assert keys == sorted(t.trial_key for t in trials)
    sets = [{(c["method"], c["sparsity"]) for c in bundle} for bundle in work]
    assert all(len(s) == 1 for s in sets) and len(sets) == 1 + 5  # dense, then one per sparsity
    # fewer mask sets than slots: a set is split so that every slot has a bundle
    assert len(bundles([t for t in trials if t.sparsity == 0.5], slots=3)) == 3


def test_a_running_sweep_is_compacted_every_compact_at_rows(tmp_path, monkeypatch):
    from orchestrator import driver
    from tests.results.test_store import row

    monkeypatch.setattr(driver, "COMPACT_AT", 4)
    results_dir = str(tmp_path / "results")
    compactor = driver.Compactor(results_dir)
    for i in range(10):
        write_trial(results_dir, row(f"k{i}"))
        compactor.row_written()
        if compactor.thread:
            compactor.thread.join()  # here, so that the test sees each compaction finish
    assert compactor.started == 2  # at rows 4 and 8: fragments then are at most COMPACT_AT
    assert len(list(tmp_path.joinpath("results").glob("k*.parquet"))) == 2
    compactor.finish()  # the tail is merged too: one file for status and queries
    assert [p.name[:10] for p in tmp_path.joinpath("results").iterdir()] == ["compacted-"]
    assert read_sweep(results_dir).table.num_rows == 10
    small = driver.Compactor(str(tmp_path / "small"))
    small.row_written()
    small.finish()
    assert small.started == 0  # a small sweep keeps one fragment per trial


def test_a_quantization_sweep_runs_through_tune_each_trial_once(ray_local, tmp_path, capsys):
    spec = tmp_path / "q.yaml"
    spec.write_text(
        spec_text("minilm", tmp_path / "sweeps", transfer="[dense, sparse]").replace(
            "sparsities: [0.3, 0.6]", "sparsities: [0.0, 0.6]"
        )
        + "quantization: [{method: rtn, bits: [4, 2], transfer: [none]}]\nnoop: true\n"
    )
    assert main(["validate", str(spec)]) == 0
    assert "run once    at sparsity 0, the dense trial stands for 1 more" in capsys.readouterr().out
    assert main(["submit", str(spec)]) == 0
    got = rows(tmp_path / "sweeps" / "tiny")
    assert sorted((r["transfer"], r["sparsity"], r["bits"]) for r in got) == [
        ("dense", 0.0, None), ("none", 0.0, 2), ("none", 0.0, 4), ("sparse", 0.6, None)]  # fmt: skip


def dying_bundle(bundle: int, reported: int, marker: Path, then=None):
    """A stand-in for driver._run_bundle whose worker dies once, in bundle `bundle`, after it
    reported `reported` trials and ran `then(config)` (pickled by value with the trainable)."""
    from orchestrator.driver import _run_bundle

    def run(config, bundles, retries):
        if config["bundle"] == bundle and not marker.exists():
            marker.touch()
            _run_bundle(config, [b[:reported] for b in bundles], retries)
            if then:
                then(config, bundles)
            os._exit(1)  # the worker dies as a lost node's would
        _run_bundle(config, bundles, retries)

    return run


def test_a_bundle_retried_after_a_compaction_runs_no_trial_twice(ray_local, tmp_path, monkeypatch):
    from orchestrator import driver
    from results.store import compact

    spec = validate_spec({"name": "retried", "storage": str(tmp_path), "models": ["minilm"],
                          "tasks": ["builtin/polarity-easy"], "sparsities": [0.5],
                          "transfer": ["sparse"], "seeds": [1, 2, 3, 4, 5], "noop": True,
                          "retries": 1})  # fmt: skip
    monkeypatch.setenv("TUNE_MAX_PENDING_TRIALS_PG", "1")  # one slot: one bundle of 5 trials
    results = tmp_path / "retried" / "results"

    def compacted(config, bundles):  # mid-sweep, between the worker's 3rd report and its death
        compact(bundles[config["bundle"]][0]["results_dir"])

    monkeypatch.setattr(driver, "_run_bundle", dying_bundle(0, 3, tmp_path / "died", compacted))
    outcome = run_sweep(spec, quiet=True)
    (bundle,) = bundles(spec.expand(), noop=True, slots=1)
    first = [TrialConfig.from_dict(c).trial_key for c in bundle[:3]]
    assert (tmp_path / "died").exists()  # the worker did die, after a compaction
    assert [p.name[:10] for p in results.glob("compacted-*")] == ["compacted-"]
    # the retry ran the two trials the dead worker had not reported, and no other
    assert (outcome.ran, outcome.total, outcome.failed) == (5, 5, {})
    assert not [k for k in first if (results / f"{k}.parquet").exists()]  # none wrote again
    assert len(list(results.glob("*.parquet"))) == 1 + 2
    table = read_sweep(str(results)).table
    assert table.num_rows == 5 and set(table["status"].to_pylist()) == {"ok"}


def test_ray_client_addresses_are_refused_in_one_line_before_anything_starts(
    tmp_path, capsys, monkeypatch
):
    from orchestrator import driver

    monkeypatch.setattr(driver, "_connect", lambda address: pytest.fail("Ray was started"))
    spec = tmp_path / "tiny.yaml"
    spec.write_text(spec_text("minilm", tmp_path / "sweeps"))
    assert main(["submit", str(spec), "--address", "ray://head.example:10001"]) == 2
    assert capsys.readouterr().err.strip() == (
        "junkdna: --address ray://head.example:10001: Ray Client (ray://) cannot drive a sweep; "
        "use --address head.example:6379 from a machine that reaches the head node, or run it "
        "there: ray job submit --address http://head.example:8265 --working-dir . -- "
        f"python -m orchestrator.cli submit {spec}"
    )
    monkeypatch.setenv("RAY_ADDRESS", "ray://10.0.0.5:10001")
    assert main(["resume", str(tmp_path / "sweeps" / "tiny")]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .startswith(
            "junkdna: RAY_ADDRESS ray://10.0.0.5:10001: Ray Client (ray://) cannot drive a sweep; "
            "use --address 10.0.0.5:6379"
        )
    )
    assert not (tmp_path / "sweeps").exists()
