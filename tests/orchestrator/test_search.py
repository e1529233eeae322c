"""Adaptive sparsity search: few probes, brackets that contain the truth, robust to contradictions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from orchestrator.search import (
    DENSE,
    CurveSearch,
    Probe,
    Scheduler,
    SearchSpace,
    plan_round,
    trial_counts,
)

SEEDS = (41, 42, 43)
SPACE = SearchSpace(drops=(0.01, 0.05), resolution=0.025, range=(0.0, 0.95))


def logistic(top: float, mid: float, steep: float):
    return lambda s: 0.5 + (top - 0.5) / (1 + math.exp(steep * (s - mid)))


def run(search: CurveSearch, metric, rng: np.random.Generator | None = None) -> list[Probe]:
    """Drive a search to the end on a noiseless metric(sparsity); the probes it issued.

    Without rng, in rounds (every issued probe finishes, then the next ones are asked for);
    with rng, as a Tune searcher sees it: one probe finishes at a time, in random order.
    """
    issued, running = [], []
    while True:
        new = search.next_probes()
        issued += new
        running += new
        if not running:
            return issued
        finished = [running.pop(rng.integers(len(running)))] if rng else running
        running = running if rng else []
        for p in finished:
            search.observe(p.sparsity, {seed: metric(p.sparsity) for seed in p.seeds})


def true_bracket(metric, drop: float, space: SearchSpace = SPACE):
    """(last passing, first failing) grid points of a monotone noiseless metric."""
    threshold = (1 - drop) * metric(0.0)
    fails = [s for s in space.grid if metric(s) < threshold]
    hi = fails[0] if fails else None
    passing = [s for s in space.grid if hi is None or s < hi]
    return (passing[-1] if passing else None), hi


def test_grid_spans_the_range_at_the_resolution():
    assert len(SPACE.grid) == 39
    assert SPACE.grid[:3] == (0.0, 0.025, 0.05) and SPACE.grid[-1] == 0.95
    assert SearchSpace(range=(0.1, 0.5), resolution=0.1).grid == (0.1, 0.2, 0.3, 0.4, 0.5)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["rounds", "asynchronous"])
def test_monotone_curves_need_at_most_13_probes_and_brackets_hold_the_truth(asynchronous):
    rng = np.random.default_rng(0)
    curves = [
        logistic(top, mid, steep)
        for top, mid, steep in zip(
            rng.uniform(0.85, 0.93, 300), rng.uniform(0.0, 1.2, 300), rng.uniform(3, 80, 300)
        )
    ]
    probes = []
    for metric in curves:
        search = CurveSearch(SPACE, SEEDS, dense_metric=metric(0.0))
        run(search, metric, np.random.default_rng(1) if asynchronous else None)
        assert search.done and not search.non_monotone
        probes.append(search.n_probes)
        for drop, (lo, hi) in search.brackets().items():
            assert (lo, hi) == true_bracket(metric, drop)
            assert hi is None or hi - lo == pytest.approx(SPACE.resolution)
    assert max(probes) <= 13
    assert np.mean(probes) < 39 / 3


def test_every_monotone_placement_of_both_breaking_points_needs_at_most_12_probes():
    """Exhaustive: each pair first-fail-1% <= first-fail-5% on the grid (or never)."""
    n = len(SPACE.grid)
    for b1, b5 in itertools.combinations_with_replacement(range(1, n + 1), 2):

        def metric(s, b1=b1, b5=b5):
            i = SPACE.grid.index(s)
            return 1.0 if i < b1 else 0.97 if i < b5 else 0.9

        search = CurveSearch(SPACE, SEEDS, dense_metric=1.0)
        run(search, metric)
        assert search.n_probes <= 12
        expect = {0.01: b1, 0.05: b5}
        for drop, (lo, hi) in search.brackets().items():
            b = expect[drop]
            assert (lo, hi) == (SPACE.grid[b - 1], SPACE.grid[b] if b < n else None)


def test_sparsity_zero_is_the_dense_reference_never_a_probe():
    metric = logistic(0.9, 0.5, 20)
    search = CurveSearch(SPACE, SEEDS)  # dense unknown: requested first, alone
    assert search.next_probes() == [Probe(DENSE, SEEDS)]
    assert search.next_probes() == []  # waits for it
    search.observe(0.0, {seed: metric(0.0) for seed in SEEDS})
    assert search.dense_metric == pytest.approx(metric(0.0))
    assert all(p.sparsity != DENSE for p in run(search, metric))
    given = CurveSearch(SPACE, SEEDS, dense_metric=metric(0.0))
    assert all(p.sparsity != DENSE for p in run(given, metric))
    assert given.brackets() == search.brackets()


def test_curve_that_never_fails_in_range_is_reported_not_reached():
    search = CurveSearch(SPACE, SEEDS, dense_metric=0.9)
    run(search, lambda s: 0.9)
    assert search.brackets() == {0.01: (0.95, None), 0.05: (0.95, None)}
    assert search.n_probes == 6  # one bisection, shared by both thresholds


def test_curve_that_fails_at_the_first_grid_point():
    search = CurveSearch(SPACE, SEEDS, dense_metric=0.9)
    run(search, lambda s: 0.9 if s == 0.0 else 0.5)
    assert search.brackets() == {0.01: (0.0, 0.025), 0.05: (0.0, 0.025)}
    above = SearchSpace(range=(0.1, 0.95))  # range starts above 0: first point fails -> no pass
    search = CurveSearch(above, SEEDS, dense_metric=0.9)
    run(search, lambda s: 0.9 if s == 0.0 else 0.5)
    assert search.brackets() == {0.01: (None, 0.1), 0.05: (None, 0.1)}


def test_contradiction_is_flagged_and_the_lowest_failing_bracket_kept():
    # a 1% dip at the first probe (0.475), recovering above it: the 5% search probes above and
    # passes 1% there, contradicting the earlier fail
    def metric(s):
        if s == 0.475:
            return 0.97
        return 1.0 if s < 0.8 else 0.5

    search = CurveSearch(SPACE, SEEDS, dense_metric=1.0)
    run(search, metric)
    assert search.non_monotone
    assert (0.01, 0.725, 0.475) in search.contradictions()
    assert search.brackets()[0.01] == (0.45, 0.475)  # the lowest failing bracket
    assert search.brackets()[0.05] == (0.775, 0.8)


def test_replay_of_a_grid_with_a_dip_flags_non_monotone():
    rows = [{"sparsity": s, "seed": x, "metric": 0.9} for s in SPACE.grid for x in SEEDS]
    rows = [r | {"metric": 0.5} if r["sparsity"] in (0.3, 0.6) else r for r in rows]
    search = CurveSearch.replay(SPACE, SEEDS, rows)
    assert search.done and search.non_monotone
    assert search.brackets()[0.01] == (0.275, 0.3)


@pytest.mark.parametrize("stop_after", [0, 1, 2, 4])
def test_replay_from_rows_probes_nothing_twice(stop_after):
    metric = logistic(0.9, 0.55, 15)
    whole = CurveSearch(SPACE, SEEDS)
    run(whole, metric)

    first = CurveSearch(SPACE, SEEDS)
    rows, rounds = [], 0
    while rounds < stop_after and (probes := first.next_probes()):
        rounds += 1
        for p in probes:
            rows += [
                {"sparsity": p.sparsity, "seed": x, "metric": metric(p.sparsity)} for x in p.seeds
            ]
            first.observe(p.sparsity, {x: metric(p.sparsity) for x in p.seeds})
    first.next_probes()  # issued, then the search is killed before they finish

    resumed = CurveSearch.replay(SPACE, SEEDS, rows)
    done = {(r["sparsity"], r["seed"]) for r in rows}
    again = [(p.sparsity, x) for p in run(resumed, metric) for x in p.seeds]
    assert not done & set(again) and len(again) == len(set(again))
    assert resumed.brackets() == whole.brackets()
    assert resumed.n_probes == whole.n_probes


def test_replay_of_a_half_finished_probe_runs_only_its_missing_seeds():
    rows = [{"sparsity": 0.0, "seed": x, "metric": 0.9} for x in SEEDS]
    rows += [
        {"sparsity": 0.475, "seed": 41, "metric": 0.9},
        {"sparsity": 0.475, "seed": 42, "metric": 0.9},
    ]
    search = CurveSearch.replay(SPACE, SEEDS, rows)
    assert search.next_probes() == [Probe(0.475, (43,))]


def test_failed_trials_count_as_finished_and_min_seeds_voids_a_probe():
    rows = [{"sparsity": 0.0, "seed": x, "metric": 0.9} for x in SEEDS]
    rows += [{"sparsity": 0.475, "seed": 41, "metric": 0.9}]
    rows += [{"sparsity": 0.475, "seed": x, "metric": None, "status": "failed"} for x in (42, 43)]
    lenient = CurveSearch.replay(SPACE, SEEDS, rows)
    assert lenient.next_probes() == [Probe(0.725, SEEDS)]  # 0.475 decided on its one seed

    strict = CurveSearch.replay(SearchSpace(min_seeds=2), SEEDS, rows)
    probes = strict.next_probes()
    assert [p.sparsity for p in probes] == [0.5]  # void: bisection steps around it
    strict.observe(0.5, {x: 0.5 for x in SEEDS})
    run(strict, lambda s: 0.9 if s < 0.46 else 0.5)
    assert strict.brackets()[0.01] == (0.45, 0.5)  # wider than the resolution around the void


def test_confirmation_seeds_rerun_both_ends_and_a_flip_reopens_the_bracket():
    space = SearchSpace(drops=(0.05,), confirm_seeds=2)
    search = CurveSearch(space, SEEDS, dense_metric=1.0)
    run(search, lambda s: 1.0 if s < 0.5 else 0.5)
    assert search.brackets() == {0.05: (0.475, 0.5)}
    confirmed = {s: sorted(r) for s, r in search._results.items() if 44 in r}
    assert confirmed == {0.475: [41, 42, 43, 44, 45], 0.5: [41, 42, 43, 44, 45]}

    search = CurveSearch(space, SEEDS, dense_metric=1.0)
    noisy = {0.5: 0.94}  # a spurious fail at 0.5 on the first seeds
    while probes := search.next_probes():
        for p in probes:
            for x in p.seeds:
                m = noisy.get(p.sparsity, 1.0) if x in SEEDS else 1.0
                search.observe(p.sparsity, {x: m if p.sparsity < 0.6 else 0.5})
    # 0.5 re-run with seeds 44, 45 at 1.0: mean (3·0.94 + 2·1.0)/5 = 0.964 passes
    assert search.brackets() == {0.05: (0.575, 0.6)}
    assert not search.non_monotone


def test_plan_round_issues_the_next_probes_of_every_curve_at_once():
    curves = {
        ("minilm", f"task-{i}", 1.0, "magnitude", "sparse"): logistic(0.9, 0.2 + 0.1 * i, 20)
        for i in range(6)
    }
    searches = {key: CurveSearch(SPACE, SEEDS) for key in curves}
    rounds = 0
    while issued := plan_round(searches):
        rounds += 1
        if rounds <= 2:  # every curve has work in the first rounds
            assert {key for key, _ in issued} == set(curves)
        assert plan_round(searches) == []  # nothing is issued twice while it runs
        for key, p in issued:
            searches[key].observe(p.sparsity, {x: curves[key](p.sparsity) for x in p.seeds})
    assert all(s.done for s in searches.values())
    assert rounds <= 1 + 12  # the dense round, then at most one round per probe


def test_disjoint_brackets_are_probed_in_parallel():
    search = CurveSearch(SPACE, SEEDS, dense_metric=1.0)
    metric = lambda s: 1.0 if s < 0.2 else 0.97 if s < 0.8 else 0.5  # noqa: E731
    (first,) = search.next_probes()
    search.observe(first.sparsity, {x: metric(first.sparsity) for x in first.seeds})
    assert len(search.next_probes()) == 2  # 1% below 0.475, 5% above: one probe each


def test_trial_counts_compare_search_with_the_grid():
    counts = trial_counts(SPACE, curves=10, seeds=3)
    assert counts.grid == 10 * 3 * 39
    assert counts.search_worst <= 10 * 3 * (1 + 12)  # dense + 12 probes per curve
    assert 10 * 3 < counts.search_expected < counts.search_worst < counts.grid / 3
    confirmed = trial_counts(SearchSpace(confirm_seeds=2), curves=10, seeds=3)
    assert confirmed.search_worst <= counts.search_worst + 10 * 2 * 4  # 2 ends × 2 drops


@pytest.mark.parametrize(
    "kwargs",
    [
        {"drops": ()},
        {"drops": (1.2,)},
        {"range": (0.5, 0.4)},
        {"range": (0.0, 1.0)},
        {"resolution": 0.0},
        {"min_seeds": 0},
    ],
)
def test_bad_search_space_is_an_error(kwargs):
    with pytest.raises(ValueError, match="search"):
        SearchSpace(**kwargs)


def test_more_min_seeds_than_seeds_is_an_error():
    with pytest.raises(ValueError, match="min_seeds = 4 exceeds the 3 seeds"):
        CurveSearch(SearchSpace(min_seeds=4), SEEDS)


def test_observation_off_the_grid_is_an_error():
    with pytest.raises(ValueError, match="not on the search grid"):
        CurveSearch(SPACE, SEEDS).observe(0.0125, {41: 0.9})


def test_a_reference_whose_trials_all_failed_ends_the_search_without_brackets():
    rows = [{"sparsity": 0.0, "seed": x, "metric": float("nan"), "status": "failed"} for x in SEEDS]
    search = CurveSearch.replay(SPACE, SEEDS, rows)
    assert search.done and search.next_probes() == [] and search.brackets() == {}


def test_spare_probes_split_a_bracket_into_equal_parts():
    search = CurveSearch(SPACE, SEEDS, dense_metric=1.0)
    probes = search.next_probes(spare=2)  # bisection's midpoint and two more: quarters
    assert [p.sparsity for p in probes] == [0.475, 0.225, 0.725]
    search = CurveSearch(SPACE, SEEDS, dense_metric=1.0)
    assert len(search.next_probes(spare=100)) == 38  # never more than the unprobed points
    assert search.next_probes(spare=5) == [] and search.gaps() == []


def test_before_the_dense_is_known_spare_probes_split_the_whole_grid():
    search = CurveSearch(SPACE, SEEDS)
    probes = search.next_probes(spare=3)
    assert probes[0] == Probe(DENSE, SEEDS)
    assert [p.sparsity for p in probes[1:]] == [0.25, 0.475, 0.725]


def step_metric(b1: int, b5: int):
    return lambda s: 1.0 if SPACE.grid.index(s) < b1 else 0.97 if SPACE.grid.index(s) < b5 else 0.9


@pytest.mark.parametrize("free", [3, 9, 30])
def test_k_section_brackets_equal_bisections_and_need_fewer_steps(free):
    """Driven by the Scheduler with `free` slots each step: the same brackets, and the number of
    sequential steps falls from about log2 to about log_(k+1) of the grid points."""
    rng = np.random.default_rng(0)
    for b1, b5 in rng.integers(1, len(SPACE.grid) + 1, size=(60, 2)):
        b1, b5 = sorted((int(b1), int(b5)))
        metric = step_metric(b1, b5)
        searches = {"c": CurveSearch(SPACE, SEEDS, dense_metric=1.0)}
        scheduler, steps = Scheduler(searches), 0
        while issued := scheduler.next(free):
            steps += 1
            for key, p in issued:
                scheduler.observe(key, p.sparsity, {x: metric(p.sparsity) for x in p.seeds})
        bisection = CurveSearch(SPACE, SEEDS, dense_metric=1.0)
        run(bisection, metric)
        assert searches["c"].brackets() == bisection.brackets()
        k = free // len(SEEDS)
        assert steps <= 2 * math.ceil(math.log(len(SPACE.grid), k + 1)) + 1


def test_the_scheduler_never_holds_back_bisection_and_fills_only_free_slots():
    searches = {i: CurveSearch(SPACE, SEEDS, dense_metric=1.0) for i in range(4)}
    scheduler = Scheduler(searches)
    assert len(scheduler.next(0)) == 4  # every curve's first probe, though no slot is free
    assert scheduler.next(0) == []
    extra = scheduler.next(6)  # two probes more for six free slots, at the widest gaps
    assert len(extra) == 2 and all(len(p.seeds) == 3 for _, p in extra)
    bisection = Scheduler(
        {i: CurveSearch(SPACE, SEEDS, dense_metric=1.0) for i in range(4)}, k_section=False
    )
    assert len(bisection.next(100)) == 4 and bisection.next(100) == []


def test_a_contradiction_within_noise_is_not_a_non_monotone_curve():
    rows = [{"sparsity": 0.0, "seed": x, "metric": m} for x, m in zip(SEEDS, (0.9, 0.91, 0.89))]
    noisy = {0.3: (0.893, 0.883, 0.885), 0.35: (0.892, 0.9, 0.893)}  # 0.3 fails 1%, 0.35 passes
    rows += [{"sparsity": s, "seed": x, "metric": m} for s, ms in noisy.items()
             for x, m in zip(SEEDS, ms)]  # fmt: skip
    search = CurveSearch.replay(SearchSpace(drops=(0.01,)), SEEDS, rows)
    (size,) = search.contradiction_sizes().values()
    assert search.contradictions() == [(0.01, 0.35, 0.3)] and 0 < size < 3
    assert not search.non_monotone
    dip = [r | {"metric": r["metric"] - 0.05} if r["sparsity"] == 0.3 else r for r in rows]
    search = CurveSearch.replay(SearchSpace(drops=(0.01,)), SEEDS, dip)
    assert search.non_monotone and search.contradiction_sizes()[0.01, 0.35, 0.3] > 3
    one = [
        {"sparsity": s, "seed": 41, "metric": m} for s, m in ((0, 0.9), (0.3, 0.88), (0.35, 0.9))
    ]
    one_seed = CurveSearch.replay(SearchSpace(drops=(0.01,)), (41,), one)
    assert one_seed.non_monotone  # one seed: the noise cannot be measured, so it is flagged
    assert math.isnan(next(iter(one_seed.contradiction_sizes().values())))
