"""The event-driven search over the driver: probes counted, resume after a kill probes nothing
twice, the pending-trial limit and mask-set bundles hold, analyze reports the brackets; and one
real small search through Ray on MiniLM."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest

from orchestrator import search_driver
from orchestrator.cli import main
from orchestrator.driver import Outcome, mask_set
from orchestrator.search import CurveSearch, Scheduler
from orchestrator.spec import validate_spec
from results.store import read_sweep, write_trial
from workers.record import identity, measured

BREAK = {0.5: 0.3, 1.0: 0.6}  # data_fraction -> first sparsity below 95 % of dense: harder first


def spec(storage, k_section=True, **search):
    return validate_spec({
        "name": "s", "storage": str(storage), "models": ["minilm"],
        "tasks": ["builtin/polarity-easy"], "difficulty": {"data_fraction": [0.5, 1.0]},
        "transfer": ["sparse", "sparse_to_dense"], "seeds": [1, 2, 3],
        "search": {"drops": [0.01, 0.05], "resolution": 0.05, "range": [0.0, 0.9],
                   "k_section": k_section, **search},
    })  # fmt: skip


def metric(trial) -> float:
    """A step curve per level, a little seed noise: 0.9 dense, -3 % from 0.15 below the break."""
    base = 0.9 + 0.001 * (trial.seed - 2)
    if trial.sparsity >= BREAK[trial.difficulty_level]:
        return base - 0.1
    return base - (0.03 if trial.sparsity >= BREAK[trial.difficulty_level] - 0.15 else 0.0)


class FakeDriver:
    """driver.run_searcher without Ray: takes the feed's bundles while slots are free, finishes
    one trial at a time from a random running bundle (writing its row with `metric` and
    reporting it), and dies after `kill_after` trials on request."""

    def __init__(self, kill_after: int | None = None, metric=metric, slots: int = 4, seed=0):
        self.ran: list[str] = []
        self.bundles: list[list] = []
        self.kill_after = kill_after
        self.metric = metric
        self.slots = slots
        self.rng = random.Random(seed)

    def __call__(self, spec, feed, address=None, quiet=False, compactor=None, loggers=None):
        feed.slots = self.slots
        running: list[tuple[str, list]] = []
        ran = 0
        while True:
            while bundle := feed.next_bundle(f"b{len(self.bundles)}"):
                running.append((f"b{len(self.bundles)}", list(bundle)))
                self.bundles.append(bundle)
                assert feed.in_flight <= self.slots  # the pending-trial limit holds
            if not running:
                assert feed.finished
                return Outcome(total=0, already_done=0, ran=ran)
            i = self.rng.randrange(len(running))
            bundle_id, trials = running[i]
            if len(self.ran) == self.kill_after:
                raise KeyboardInterrupt  # killed while these trials run
            t = trials.pop(0)
            self.ran.append(t.trial_key)
            ran += 1
            row = measured(status="ok", metric_name="accuracy", metric=self.metric(t))
            write_trial(t.results_dir, {**identity(t), **row})
            feed.result(t.trial_key, "ok", row["metric"])
            if not trials:
                running.pop(i)
                feed.bundle_done(bundle_id)


@pytest.mark.parametrize("k_section", [False, True])
def test_curves_are_probed_as_results_arrive_and_share_the_dense_trials(
    tmp_path, monkeypatch, k_section
):
    fake = FakeDriver()
    monkeypatch.setattr(search_driver, "run_searcher", fake)
    s = spec(tmp_path, k_section=k_section)
    outcome = search_driver.run_search(s)
    runs = Counter(fake.ran)
    assert set(runs.values()) == {1}  # no trial ran twice
    rows = read_sweep(f"{s.sweep_dir}/results").table.to_pylist()
    dense = [r for r in rows if r["transfer"] == "dense"]
    assert len(dense) == 2 * 3  # one per level × seed, shared by both transfers' curves
    assert outcome.curves == 4 and outcome.probes <= 4 * (12 if not k_section else 18)
    assert outcome.ran == len(rows) == outcome.total and outcome.already_done == 0
    points = search_driver.breaking_points(s, rows)
    for _, r in points.iterrows():
        b = BREAK[r["difficulty_level"]]
        first = b if r["drop"] == 0.05 else b - 0.15
        assert r["first_failing"] == pytest.approx(first) and r["width"] == pytest.approx(0.05)
        assert not r["non_monotone"]
    grid = 4 * 3 * 18 + 2 * 3  # every non-zero grid sparsity of every curve, and the dense
    assert len(rows) < grid / 2
    assert all(len({mask_set(t) for t in bundle}) == 1 for bundle in fake.bundles)


@pytest.mark.parametrize("k_section", [False, True])
@pytest.mark.parametrize("kill_after", [4, 25])  # of about 60 trials: in the dense, mid-search
def test_resume_after_a_kill_probes_nothing_twice(tmp_path, monkeypatch, kill_after, k_section):
    whole = FakeDriver()
    monkeypatch.setattr(search_driver, "run_searcher", whole)
    search_driver.run_search(spec(tmp_path / "whole", k_section))

    killed = FakeDriver(kill_after)
    monkeypatch.setattr(search_driver, "run_searcher", killed)
    s = spec(tmp_path / "killed", k_section)
    with pytest.raises(KeyboardInterrupt):
        search_driver.run_search(s)
    resumed = FakeDriver(seed=1)
    monkeypatch.setattr(search_driver, "run_searcher", resumed)
    outcome = search_driver.run_search(s)
    assert not set(killed.ran) & set(resumed.ran) and len(set(resumed.ran)) == len(resumed.ran)
    if not k_section:  # bisection's probes follow from the results alone, not their order
        assert sorted(killed.ran + resumed.ran) == sorted(whole.ran)  # the same probes in all
    assert outcome.already_done == len(killed.ran)
    rows = lambda d: read_sweep(f"{d}/results").table.to_pylist()  # noqa: E731
    brackets = lambda d, sp: search_driver.breaking_points(sp, rows(d))[  # noqa: E731
        ["difficulty_level", "transfer", "drop", "last_passing", "first_failing"]
    ].to_dict("records")
    assert brackets(s.sweep_dir, s) == brackets(tmp_path / "whole" / "s", s)
    assert search_driver.run_search(s).ran == 0  # finished: a third call runs nothing


def test_a_bundle_keeps_the_mask_set_of_the_bundle_that_just_finished(tmp_path):
    s = spec(tmp_path)
    feed = search_driver.ProbeFeed(s, [])
    feed.slots = 2
    curves = list(feed.curves.values())
    at = lambda sparsity: [c.trials[(sparsity, x)] for c in curves for x in (1, 2, 3)]  # noqa: E731
    feed.queue = [*at(0.3), *at(0.6)]  # two mask sets, 12 trials each, the 0.3 one first
    first = feed.next_bundle("a")
    assert {t.sparsity for t in first} == {0.3} and len(first) == 12  # 24 waiting, 2 slots
    feed.running.clear()
    feed.last_mask = mask_set(at(0.6)[0])  # a bundle of the 0.6 set just finished
    assert {t.sparsity for t in feed.next_bundle("b")} == {0.6}


def test_a_result_that_never_reaches_its_curve_stops_the_search_instead_of_hanging(
    tmp_path, monkeypatch
):
    lost = []

    def observe(self, key, sparsity, metrics):  # the first probe result above dense is lost
        if sparsity > 0 and not lost:
            lost.append(key)
            return
        self.searches[key].observe(sparsity, metrics)
        self._touch(key)

    monkeypatch.setattr(Scheduler, "observe", observe)
    monkeypatch.setattr(search_driver, "run_searcher", FakeDriver(slots=1))
    with pytest.raises(RuntimeError, match="search made no progress: 1 curves wait for results"):
        search_driver.run_search(spec(tmp_path, k_section=False))


def test_a_search_that_asks_again_for_a_finished_trial_is_stopped(tmp_path, monkeypatch):
    def observe(self, sparsity, metrics):  # results recorded, but the probe forgets them
        self._issued.get(self.space.snap(sparsity), set()).difference_update(metrics)
        if sparsity == 0:
            self._results.setdefault(0.0, {}).update(metrics)

    monkeypatch.setattr(CurveSearch, "observe", observe)
    monkeypatch.setattr(search_driver, "run_searcher", FakeDriver())
    with pytest.raises(RuntimeError, match="search made no progress: it asked again for trial"):
        search_driver.run_search(spec(tmp_path))


def test_analyze_and_status_report_the_search(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(search_driver, "run_searcher", FakeDriver())
    s = spec(tmp_path)
    search_driver.run_search(s)
    capsys.readouterr()
    assert main(["analyze", s.sweep_dir, "--max-plots", "0"]) == 0
    out = capsys.readouterr().out
    assert "builtin/polarity-easy · data_fraction 0.5 · magnitude/global · sparse: 5% drop in " \
           "[0.25, 0.3] (width 0.05" in out  # fmt: skip
    assert "harder levels break earlier" in out and "NON-MONOTONE" not in out
    report = (tmp_path / "s" / "analysis" / "report.md").read_text()
    assert "## Breaking points (adaptive search)" in report
    assert "0 of " in report  # no planned trial is missing
    assert main(["results", "table", s.sweep_dir]) == 0  # probes are rows like any other
    table = capsys.readouterr().out
    assert "0.45" in table and "sparse_to_dense" in table
    assert main(["status", s.sweep_dir]) == 0
    rows = len(read_sweep(f"{s.sweep_dir}/results").table)
    assert f"{rows} trials: {rows} done, 0 failed, 0 pending" in capsys.readouterr().out


def test_a_dip_is_reported_as_non_monotone_and_the_lowest_failing_bracket_kept(
    tmp_path, monkeypatch, capsys
):
    def dip(trial) -> float:  # -2 % at 0.45 only (the first probe), -10 % from 0.8
        return 0.9 * (0.98 if trial.sparsity == 0.45 else 0.9 if trial.sparsity >= 0.8 else 1)

    monkeypatch.setattr(search_driver, "run_searcher", FakeDriver(metric=dip))
    s = spec(tmp_path)
    search_driver.run_search(s)
    points = search_driver.breaking_points(
        s, read_sweep(f"{s.sweep_dir}/results").table.to_pylist()
    )
    one = points[points["drop"] == 0.01]
    assert one["non_monotone"].all() and (one["first_failing"] == 0.45).all()
    assert (one["last_passing"] == 0.4).all() and one["contradictions"].str.contains(
        "fails 0.45"
    ).all()
    five = points[points["drop"] == 0.05]
    assert not five["non_monotone"].any() and (five["first_failing"] == 0.8).all()
    capsys.readouterr()
    assert main(["analyze", s.sweep_dir, "--max-plots", "0"]) == 0
    assert "NON-MONOTONE: passes" in capsys.readouterr().out


def test_validate_prints_search_and_grid_trial_counts(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nmodels: [minilm]\ntasks: [builtin/polarity-easy]\ntransfer: [dense, sparse]\n"
        "seeds: [1, 2, 3]\nsearch: {drops: [0.01, 0.05], resolution: 0.025, range: [0, 0.95]}\n"
    )
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    # one curve: the grid runs 38 non-zero sparsities × 3 seeds, the search at most 11; + 3 dense
    assert "search: 1 curves, probes chosen as it runs; in all (the 3 trials below included) " \
           "trials: grid 117, search worst 36 (0.31x), expected 29 (0.25x" in out  # fmt: skip
    assert out.strip().endswith("\n3 trials")


@pytest.mark.slow
def test_a_real_search_on_minilm_brackets_each_curve(tmp_path, capsys):
    """End to end through Ray Tune: the packaged MiniLM, tiny training, a handful of probes."""
    path = tmp_path / "search.yaml"
    path.write_text(
        f"name: real\nstorage: {tmp_path}\nmodels: [minilm]\n"
        "tasks: [builtin/polarity-easy, builtin/polarity-hard]\ndifficulty: {human_gap: []}\n"
        "transfer: [sparse]\nseeds: [1]\nretries: 0\n"
        "search: {drops: [0.05], resolution: 0.25, range: [0.0, 0.75]}\n"
        "train: {epochs: 1, lr: 1e-4, batch_size: 32, max_length: 32, n_train: 64, n_eval: 64}\n"
    )
    start = time.perf_counter()
    assert main(["submit", str(path)]) == 0
    took = time.perf_counter() - start
    out = capsys.readouterr().out
    rows = read_sweep(f"{tmp_path}/real/results").table.to_pylist()
    assert {r["status"] for r in rows} == {"ok"}
    assert len([r for r in rows if r["transfer"] == "dense"]) == 2
    probes = [r for r in rows if r["transfer"] == "sparse"]
    assert 2 <= len(probes) <= 2 * 3 and {r["sparsity"] for r in probes} <= {0.25, 0.5, 0.75}
    assert "search: 2 curves" in out
    assert main(["resume", f"{tmp_path}/real"]) == 0
    assert f"{len(rows)} already done, 0 ran" in capsys.readouterr().out
    assert main(["analyze", f"{tmp_path}/real", "--max-plots", "0"]) == 0
    assert "5% drop in [" in capsys.readouterr().out
    print(f"real search: {len(rows)} trials in {took:.1f} s")
