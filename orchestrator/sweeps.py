"""Find a sweep by NAME or DIR and report where it stands (done / failed / pending)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc

from orchestrator.spec import SpecError, SweepSpec, load_saved_spec
from results.storage import is_uri
from results.store import read_sweep


def locate(name_or_dir: str, storage: str = "./sweeps") -> str:
    """The sweep directory for `NAME` (under ./sweeps) or `DIR`; SpecError if there is none."""
    for candidate in (name_or_dir, f"{storage}/{name_or_dir}"):
        if is_uri(candidate) or Path(candidate, "spec.yaml").is_file():
            return candidate if is_uri(candidate) else str(Path(candidate).resolve())
    raise SpecError(
        f"{name_or_dir}: no sweep there (a sweep directory holds spec.yaml; "
        f"give its path, or a name under {storage}/)"
    )


def stored_spec(sweep_dir: str) -> SweepSpec:
    """The spec saved beside a sweep's results by its last submit, for reading the sweep (status,
    analyze): it needs none of the files the sweep's tasks name (`resume` checks them all)."""
    return load_saved_spec(f"{sweep_dir}/spec.yaml")


@dataclass
class Status:
    total: int
    done: int
    failed: dict[str, str]  # trial_key -> error
    pending: int
    corrupt: list[tuple[str, str]]
    outside_grid: int  # rows of trials no longer in the spec's grid


def sweep_status(sweep_dir: str) -> Status:
    """Counts against the stored spec's grid; failures with their errors; unreadable fragments."""
    from orchestrator.search_driver import planned

    sweep = read_sweep(f"{sweep_dir}/results")
    stored = set(sweep.table["trial_key"].to_pylist())
    keys = {t.trial_key for t in planned(stored_spec(sweep_dir), stored)}
    table = sweep.table.filter(pc.is_in(sweep.table["trial_key"], value_set=_array(keys)))
    ok = set(table.filter(pc.equal(table["status"], "ok"))["trial_key"].to_pylist())
    bad = table.filter(pc.equal(table["status"], "failed"))
    failed = dict(zip(bad["trial_key"].to_pylist(), bad["error"].to_pylist(), strict=True))
    return Status(
        total=len(keys),
        done=len(ok),
        failed=failed,
        pending=len(keys) - len(ok) - len(failed),
        corrupt=sweep.corrupt,
        outside_grid=sweep.table.num_rows - table.num_rows,
    )


def _array(keys: set[str]):
    import pyarrow as pa

    return pa.array(sorted(keys), pa.string())
