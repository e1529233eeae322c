"""The cluster simulation: its probes are decided by the driver's own Scheduler, and on the quick
cases the event-driven k-section search keeps the slots busy, ends before the grid and runs a
fraction of its trials."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import bench_cluster
from orchestrator import search, search_driver
from orchestrator.search import CurveSearch, Scheduler, SearchSpace
from tests.orchestrator.test_search_driver import FakeDriver, spec


def spy(monkeypatch) -> set:
    """Every (curve, sparsity, seed) that Scheduler.next hands out, from now on."""
    issued: set = set()
    real = Scheduler.next

    def next_(self, free):
        out = real(self, free)
        issued.update((key, p.sparsity, x) for key, p in out for x in p.seeds)
        return out

    monkeypatch.setattr(Scheduler, "next", next_)
    return issued


def test_the_simulation_and_the_driver_decide_probes_with_the_same_scheduler(tmp_path, monkeypatch):
    assert bench_cluster.Scheduler is search.Scheduler is search_driver.Scheduler
    issued = spy(monkeypatch)
    space = SearchSpace()
    rng = np.random.default_rng(0)
    curves = bench_cluster.random_curves(5, rng)
    trials = bench_cluster.Trials(curves, space, rng)
    searches = {i: CurveSearch(space, range(3)) for i in range(5)}
    ran = []
    metric = trials.metric
    trials.metric = lambda key, s: ran.append(key) or metric(key, s)
    run = bench_cluster.event_driven(trials, searches, slots=8, k_section=True)
    assert run.trials == len(ran) == len(issued)  # every trial it ran, the Scheduler chose

    issued.clear()
    fake = FakeDriver()
    monkeypatch.setattr(search_driver, "run_searcher", fake)
    s = spec(tmp_path)
    search_driver.run_search(s)
    chosen = {
        c.trials[(sparsity, x)].trial_key
        for c in s.curves()
        for key, sparsity, x in issued
        if key == c.key
    }
    fixed = {t.trial_key for t in s.expand()}  # the dense references, known before the search
    assert set(fake.ran) - fixed == chosen - fixed and chosen - fixed


@pytest.mark.parametrize("slots, curves", [(8, 10), (64, 100)])
def test_quick_cases_meet_the_goals(slots, curves):
    runs = bench_cluster.simulate(slots, curves, seed=0)
    grid, k = runs["grid"], runs["k-section"]
    assert k.utilization >= 0.9
    assert k.makespan <= grid.makespan
    assert k.trials <= 0.4 * grid.trials
    assert runs["rounds"].makespan > runs["event-driven"].makespan  # the barrier costs time


def test_quick_mode_prints_the_table(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["bench_cluster.py", "--quick"])
    bench_cluster.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("| S | C | grid util | rounds:") and len(lines) == 1 + 2 + 4 + 1
