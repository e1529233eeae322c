"""Local versus remote storage is decided in one file: results/storage.py."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("orchestrator", "workers", "pruning", "difficulty", "results")


def test_only_results_storage_looks_for_a_uri_scheme():
    markers = [quote + "://" + quote for quote in "\"'"]  # in pieces: not a literal here
    holders = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if any(marker in path.read_text() for marker in markers)
    )
    assert holders == ["results/storage.py"]
