"""One analysis per table: each fact is computed once, whoever reads it (issue 24)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from results import compression, monotonicity, reference
from results.analysis import analyze
from results.report import verdicts, write_report
from results.tables import format_pivot, pivot
from tests.results.golden import tables

RESULTS = Path(reference.__file__).parent
# the builders of the facts an Analysis holds: each is called by results/analysis.py only
BUILDERS = {
    "reference": ["dense_reference", "dense_levels", "drops", "collapse", "drop_ci", "relative_ci"],
    "monotonicity": [
        "monotonicity",
        "compared_drops",
        "difficulty_order",
        "difficulty_summary",
        "threshold_sparsity",
        "irreversibility",
    ],
}


@pytest.fixture
def calls(monkeypatch) -> Counter:
    """How often each builder ran."""
    counted: Counter = Counter()
    for module in (reference, monotonicity):
        for name in BUILDERS[module.__name__.rsplit(".", 1)[1]]:
            original = getattr(module, name)

            def counting(*args, _name=name, _original=original, **kwargs):
                counted[_name] += 1
                return _original(*args, **kwargs)

            monkeypatch.setattr(module, name, counting)
    return counted


def test_a_report_with_its_terminal_lines_table_and_plots_computes_each_fact_once(calls, tmp_path):
    analysis = analyze(tables()["report"])
    write_report(analysis, tmp_path, expected=None, max_plots=1)
    verdicts(analysis)
    format_pivot(pivot(analysis.levels, analysis.drops))
    assert calls["drops"] == 1
    assert all(n == 1 for n in calls.values()), calls
    assert set(calls) == {n for names in BUILDERS.values() for n in names}


def test_pruning_vs_quantization_analyses_each_of_its_two_tables_once(calls):
    compression.compare(tables()["quantized"])
    assert calls["drops"] == 2  # pruning and quantization on the points both ran
    assert all(n == 2 for n in calls.values()), calls


def _called(path: Path) -> set[str]:
    """The names a module calls (f(...) or module.f(...))."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            f = node.func
            names.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
    return names


def test_only_the_analysis_calls_the_builders():
    builders = {n for names in BUILDERS.values() for n in names}
    for path in sorted(RESULTS.glob("*.py")):
        if path.name == "analysis.py":
            continue
        again = _called(path) & builders
        assert not again, f"results/{path.name} computes {sorted(again)} again: read an Analysis"


@pytest.fixture
def toy_loss():
    """A metric where smaller is better, with its chance level recorded beside it."""
    from difficulty.metrics import METRICS, Metric, register_metric

    for name, better in (("toy_loss", False), ("toy_chance", False)):
        register_metric(Metric(name=name, output="classify", compute=lambda p, r: 0.0,
                               higher_is_better=better, chance=lambda p, r: 0.69,
                               recorded_chance="toy_chance", bounds=(0.0, 10.0)))  # fmt: skip
    yield
    for name in ("toy_loss", "toy_chance"):
        del METRICS["classify"][name]


def test_a_metric_where_smaller_is_better_drops_upwards_and_collapses_above_chance(toy_loss):
    from tests.results.test_monotonicity import curve, table

    rows = curve({0.5: 0.5, 0.9: 0.8}, dense=0.2, metric_name="toy_loss", noise=0.01)
    rows = [r | {"metrics": '{"toy_loss": 0, "toy_chance": 0.69}'} for r in rows]
    a = analyze(table(rows))
    drops = a.drops.groupby("sparsity")["drop"].mean()
    assert drops.to_dict() == pytest.approx({0.5: 0.3, 0.9: 0.6})  # a loss that grows is a drop
    assert not a.levels["at_chance"].any() and a.levels["chance"].tolist() == [0.69]
    assert a.collapse["collapsed_at"].tolist() == [0.9]  # past chance, from below
