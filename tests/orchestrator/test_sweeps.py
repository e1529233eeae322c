"""Finding a sweep by name, directory or URI, and counting where its trials stand."""

from __future__ import annotations

import pytest

from orchestrator.spec import SpecError
from orchestrator.sweeps import locate, stored_spec, sweep_status
from results.store import write_trial
from workers.config import TrialConfig
from workers.record import failed_row, identity, measured

SPEC = (
    "name: tiny\nstorage: {storage}\nmodels: [minilm]\ntasks: [builtin/polarity-easy]\n"
    "sparsities: [0.3, 0.6]\ntransfer: [dense, sparse]\nseeds: [1]\n"
)


@pytest.fixture
def sweep_dir(tmp_path) -> str:
    path = tmp_path / "sweeps" / "tiny"
    path.mkdir(parents=True)
    (path / "spec.yaml").write_text(SPEC.format(storage=tmp_path / "sweeps"))
    return str(path)


def test_a_sweep_is_found_by_name_under_storage_by_its_dir_and_by_uri(
    sweep_dir, tmp_path, monkeypatch
):
    storage = str(tmp_path / "sweeps")
    assert locate("tiny", storage) == sweep_dir
    assert locate(sweep_dir) == sweep_dir
    monkeypatch.chdir(tmp_path)  # a relative directory comes back absolute
    assert locate("sweeps/tiny") == sweep_dir
    assert locate("tiny") == sweep_dir  # ./sweeps is the default storage
    assert locate("s3://bucket/sweeps/tiny") == "s3://bucket/sweeps/tiny"  # not looked at


def test_a_missing_sweep_is_one_line_naming_what_was_looked_for(tmp_path):
    (tmp_path / "empty").mkdir()  # a directory without spec.yaml is not a sweep
    for name in ("nope", str(tmp_path / "empty")):
        with pytest.raises(SpecError) as error:
            locate(name, str(tmp_path / "sweeps"))
        message = str(error.value)
        assert "\n" not in message
        assert message.startswith(f"{name}: no sweep there") and f"{tmp_path}/sweeps/" in message


def test_status_counts_done_failed_pending_and_rows_outside_the_grid(sweep_dir):
    trials = stored_spec(sweep_dir).expand()
    assert len(trials) == 1 + 2  # dense once, sparse at two sparsities
    results = f"{sweep_dir}/results"
    dense, low, high = trials
    write_trial(results, {**identity(dense), **measured(metric=0.9)})
    write_trial(results, failed_row(low.to_dict(), "RuntimeError: boom"))
    write_trial(results, {**identity(high), **measured(metric=0.5)})
    outside = TrialConfig.from_dict({**high.to_dict(), "sparsity": 0.9})
    write_trial(results, {**identity(outside), **measured(metric=0.1)})
    with open(f"{results}/broken.parquet", "wb") as f:
        f.write(b"not parquet")

    status = sweep_status(sweep_dir)
    assert (status.total, status.done, status.pending) == (3, 2, 0)
    assert status.failed == {low.trial_key: "RuntimeError: boom"}
    assert status.outside_grid == 1
    assert [path.rsplit("/", 1)[-1] for path, _ in status.corrupt] == ["broken.parquet"]


def test_status_of_a_sweep_without_results_is_all_pending(sweep_dir):
    status = sweep_status(sweep_dir)
    assert (status.total, status.done, status.failed, status.pending) == (3, 0, {}, 3)
