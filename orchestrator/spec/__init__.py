"""Sweep spec v1: load a YAML file into a validated SweepSpec and expand it into trials.

schema.py   the keys, their defaults and allowed values (pydantic)
loader.py   the file's bytes as data: UTF-8 YAML, bounded in depth and alias expansion
errors.py   a validation error as one line: `file: field = value: what is allowed`
checks.py   what the schema cannot see: tasks, files, calibration, models (offline)
grid.py     SweepSpec.expand(): the trials
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.spec.checks import check_offline, with_fingerprints
from orchestrator.spec.errors import SpecError, one_line
from orchestrator.spec.loader import parse
from orchestrator.spec.schema import (
    FileTask,
    GlueDirTask,
    LmEvalTask,
    Pruning,
    SweepSpec,
    task_ref,
)
from results.storage import read_bytes

__all__ = [
    "FileTask",
    "GlueDirTask",
    "LmEvalTask",
    "Pruning",
    "SpecError",
    "SweepSpec",
    "load_saved_spec",
    "load_spec",
    "task_ref",
    "validate_spec",
]


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep YAML file; raises SpecError with one line naming file and field."""
    path = str(path)
    return validate_spec(_read(path), path)


def load_saved_spec(path: str | Path) -> SweepSpec:
    """A spec that `submit` saved (already checked), read without the files, models and
    calibration it names: its tasks' content hashes are in it, so it reads on any machine."""
    path = str(path)
    # a spec saved before hashes were kept gets them from its files
    return with_fingerprints(_schema(_read(path), path), path, keep=True)


def _read(path: str) -> dict[str, Any]:
    """The YAML mapping at `path`; SpecError with one line if it cannot be read or parsed."""
    try:
        raw = read_bytes(path)
    except OSError as e:
        raise SpecError(f"{path}: cannot read spec: {e.strerror or e}") from None
    data = parse(raw, path)
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a sweep spec is a mapping of keys (name, models, tasks, ...)")
    return data


def validate_spec(data: dict[str, Any], path: str = "<spec>") -> SweepSpec:
    """Validate spec data (already parsed) and everything it names that can be checked offline."""
    spec = check_offline(_schema(data, path), path)
    if not spec.expand():
        raise SpecError(f"{path}: the grid is empty; check models, tasks, transfer and seeds")
    return spec


def _schema(data: dict[str, Any], path: str) -> SweepSpec:
    """The spec's keys checked against the schema; SpecError with one line naming the field."""
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as e:
        raise SpecError(one_line(path, data, e, SweepSpec)) from None
