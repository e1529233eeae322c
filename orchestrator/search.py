"""Adaptive sparsity search: bracket each curve's breaking points by bisection shared by thresholds.

A *curve* is one (model, task, difficulty level, method, transfer); its metric is assumed to
fall with sparsity (higher is better). For each drop x the search finds adjacent grid points
[last passing, first failing], where a sparsity passes when the mean metric over its seeds is at
least (1 - x) · dense, dense being the mean over the seeds of the curve's dense (sparsity 0)
trials. A probe at one sparsity answers every drop; the next probe halves the widest open
bracket, so with two drops a monotone curve needs at most 2 · ceil(log2(grid points)) probes.

Why the mean over seeds decides: a probe's seeds run in parallel, so waiting for all of them costs
no latency; the mean is what the paper compares with the dense mean; and a per-seed or majority
rule would turn one noisy seed into a different bracket. `min_seeds` only guards against probes
whose trials failed; `confirm_seeds` is the noise guard (see benchmarks/bench_search.py for what
it buys: at seed noise 0.01-0.02 the 1% breaking point is often one grid step off, whatever is
done, because 1% of 0.9 is about the standard error of a 3-seed mean).

Pure Python: the driver turns `Probe`s into trials and their results into `observe` calls.

Over 300 lines on purpose: one state machine (bisection, contradictions, confirmation,
replay) whose parts share invariants; split, each half would need the other to be read.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

DENSE = 0.0  # sparsity 0 is the dense trial: the reference, never a probe
# A contradiction (a pass above a fail) marks a curve non-monotone only when it exceeds this many
# standard errors of the difference of the two probe means (benchmarks/bench_search.py: the
# false alarms it removes on monotone curves, the real dips it keeps).
NOISE_MULTIPLE = 3.0


@dataclass(frozen=True)
class SearchSpace:
    """The `search:` block: thresholds, the grid of allowed sparsities, and the noise guards.

    min_seeds: a probe decides only when at least this many of its seeds finished ok; a probe
    with fewer is void and the bisection steps around it (the bracket may then be wider).
    confirm_seeds: once a bracket closes, its two ends are re-run with this many extra seeds
    and decided again on the mean over all seeds; a flip reopens the bracket.
    """

    drops: tuple[float, ...] = (0.01, 0.05)
    resolution: float = 0.025
    range: tuple[float, float] = (0.0, 0.95)
    min_seeds: int = 1
    confirm_seeds: int = 0

    def __post_init__(self) -> None:
        lo, hi = self.range
        if not self.drops or any(not 0 < d < 1 for d in self.drops):
            raise ValueError(f"search.drops = {list(self.drops)}: each drop must be in (0, 1)")
        if not 0 <= lo < hi < 1:
            raise ValueError(f"search.range = {list(self.range)}: need 0 <= low < high < 1")
        if not 0 < self.resolution <= hi - lo:
            raise ValueError(f"search.resolution = {self.resolution}: must be in (0, high - low]")
        if self.min_seeds < 1 or self.confirm_seeds < 0:
            raise ValueError("search.min_seeds must be >= 1 and search.confirm_seeds >= 0")
        object.__setattr__(self, "drops", tuple(sorted(self.drops)))

    @cached_property
    def grid(self) -> tuple[float, ...]:
        """The allowed sparsities, range[0] + k · resolution up to range[1] (computed once)."""
        lo, hi = self.range
        n = math.floor((hi - lo) / self.resolution + 1e-9) + 1
        return tuple(round(lo + k * self.resolution, 10) for k in range(n))

    def snap(self, sparsity: float) -> float:
        """The grid point (or DENSE) equal to `sparsity`; ValueError if there is none."""
        for s in (DENSE, *self.grid):
            if abs(s - sparsity) < 1e-6:
                return s
        raise ValueError(f"sparsity {sparsity} is not on the search grid {self.range}")


@dataclass(frozen=True)
class Probe:
    """Trials to run now: one sparsity (DENSE for the reference) at these seeds."""

    sparsity: float
    seeds: tuple[int, ...]


class CurveSearch:
    """The search state of one curve; every derived fact is computed from the results seen."""

    def __init__(
        self, space: SearchSpace, seeds: Sequence[int], dense_metric: float | None = None
    ) -> None:
        self.space = space
        self.seeds = tuple(seeds)
        if not self.seeds or space.min_seeds > len(self.seeds):
            raise ValueError(
                f"search.min_seeds = {space.min_seeds} exceeds the {len(self.seeds)} seeds"
            )
        self.confirm = confirmation_seeds(self.seeds, space.confirm_seeds)
        self._grid = space.grid
        self._index = {s: i for i, s in enumerate(self._grid)}
        self._dense_given = dense_metric
        self._results: dict[float, dict[int, float | None]] = {}  # sparsity -> seed -> metric
        self._issued: dict[float, set[int]] = {}  # seeds handed out and not yet observed

    @classmethod
    def replay(
        cls,
        space: SearchSpace,
        seeds: Sequence[int],
        rows: Iterable[Mapping],
        dense_metric: float | None = None,
    ) -> CurveSearch:
        """Rebuild a search from result rows (sparsity, seed, metric[, status]): resume."""
        search = cls(space, seeds, dense_metric)
        by_sparsity: dict[float, dict[int, float | None]] = {}
        for row in rows:
            ok = row.get("status", "ok") == "ok" and not _missing_value(row["metric"])
            metric = float(row["metric"]) if ok else None
            by_sparsity.setdefault(space.snap(row["sparsity"]), {})[int(row["seed"])] = metric
        for sparsity, metrics in by_sparsity.items():
            search.observe(sparsity, metrics)
        return search

    def observe(self, sparsity: float, metrics: Mapping[int, float | None]) -> None:
        """Record finished trials of one sparsity: seed -> metric (None: the trial failed)."""
        s = self.space.snap(sparsity)
        self._results.setdefault(s, {}).update(metrics)
        self._issued.get(s, set()).difference_update(metrics)

    def next_probes(self, spare: int = 0) -> list[Probe]:
        """Trials to start now (none while the ones they depend on run); marks them issued.

        `spare`: up to that many probes more than bisection's, placed where they best split the
        open brackets' unprobed gaps (k-section; the `Scheduler` gives them from free slots).
        Before the dense reference is known they split the whole grid.
        """
        busy = self._busy()
        probes = self._plan(busy)
        if spare > 0:
            probes += self._widen(busy | {p.sparsity for p in probes}, spare)
        for p in probes:
            self._issued.setdefault(p.sparsity, set()).update(p.seeds)
        return probes

    def gaps(self) -> list[tuple[int, int]]:
        """(size in grid steps, unprobed points) of each gap extra probes could split now."""
        return [(b - a, len(free)) for a, b, free in self._gaps(self._busy())]

    @property
    def done(self) -> bool:
        """Nothing is running and nothing is left to probe."""
        return not self._busy() and not self._plan(set())

    @property
    def dense_metric(self) -> float | None:
        """The reference: given, or the mean of the dense trials once they finished."""
        if self._dense_given is not None:
            return self._dense_given
        mean = self._mean(DENSE)
        return None if mean is None or math.isnan(mean) else mean

    def brackets(self) -> dict[float, tuple[float | None, float | None]]:
        """Per drop, (last passing, first failing) sparsity; None: before the grid / not reached."""
        if self.dense_metric is None:
            return {}
        out, means = {}, self._means()
        for drop in self.space.drops:
            lo, hi = self._bracket(drop, means)
            out[drop] = (self._sparsity(lo), self._sparsity(hi))
        return out

    def contradictions(self) -> list[tuple[float, float, float]]:
        """(drop, passing sparsity, lower failing sparsity): pairs against monotonicity, judged on
        all results so far (a confirmation that undoes a spurious fail also undoes its pairs)."""
        if self.dense_metric is None:
            return []
        out, means = [], self._means()
        for drop in self.space.drops:
            verdicts = self._verdicts(drop, means)
            fails = [i for i, ok in verdicts.items() if not ok]
            passes = [i for i, ok in verdicts.items() if ok]
            out += [(drop, self._grid[p], self._grid[f]) for f in fails for p in passes if p > f]
        return sorted(out)

    def contradiction_sizes(self) -> dict[tuple[float, float, float], float]:
        """Each contradiction's size: how far the mean at its passing sparsity lies above the
        mean at its failing one, in standard errors of that difference.

        The seeds' spread is pooled over every decided point of the curve (one sd, as the seed
        noise is one), so three seeds a probe still give a usable estimate. inf: no spread at
        all; nan: no point has two ok seeds, so noise cannot be told from a dip.
        """
        pairs = self.contradictions()
        if not pairs:
            return {}
        ok = {s: m for s in self._results if (m := self._deciding(s))}
        df = sum(len(m) - 1 for m in ok.values())
        ss = sum(float(np.var(m)) * len(m) for m in ok.values())
        sd = math.sqrt(ss / df) if df else math.nan
        out = {}
        for drop, p, f in pairs:
            if p not in ok or f not in ok:  # a given dense reference has no seeds to measure
                out[drop, p, f] = math.nan
                continue
            diff = float(np.mean(ok[p]) - np.mean(ok[f]))
            se = sd * math.sqrt(1 / len(ok[p]) + 1 / len(ok[f]))
            out[drop, p, f] = se if math.isnan(se) else diff / se if se > 0 else math.inf
        return out

    @property
    def non_monotone(self) -> bool:
        """Some probe passed at a higher sparsity than one that failed, by more than
        NOISE_MULTIPLE standard errors (or by an unmeasurable amount: one seed a probe)."""
        return any(not z <= NOISE_MULTIPLE for z in self.contradiction_sizes().values())

    @property
    def n_probes(self) -> int:
        """Distinct sparsities probed (the dense reference not counted)."""
        return sum(1 for s in self._results if s != DENSE)

    @property
    def n_trials(self) -> int:
        """Trials finished at probed sparsities, confirmation seeds included, dense not."""
        return sum(len(r) for s, r in self._results.items() if s != DENSE)

    def _busy(self) -> set[float]:
        return {s for s, seeds in self._issued.items() if seeds}

    def _missing(self, sparsity: float, seeds: tuple[int, ...], busy: set[float]) -> Probe | None:
        have = self._results.get(sparsity, {})
        todo = tuple(x for x in seeds if x not in have)
        if not todo or sparsity in busy:
            return None
        busy.add(sparsity)
        return Probe(sparsity, todo)

    def _mean(self, sparsity: float) -> float | None:
        """Mean over the decided seeds; None while they run, nan if too few finished ok."""
        ok = self._deciding(sparsity)
        if ok is None:
            return None
        return sum(ok) / len(ok) if len(ok) >= self.space.min_seeds else math.nan

    def _deciding(self, sparsity: float) -> list[float] | None:
        """The ok metrics a point's mean is taken over; None while its seeds run."""
        have = self._results.get(sparsity, {})
        if not all(x in have for x in self.seeds):
            return None
        seeds = self.seeds
        if self.confirm and all(x in have for x in self.confirm):
            seeds += self.confirm
        return [have[x] for x in seeds if have[x] is not None]

    def _means(self) -> dict[int, float]:
        """Grid index -> mean of every decided point (nan: void); sparsity 0 is the dense."""
        means = {}
        for s in self._results:
            if s in self._index and (mean := self._mean(s)) is not None:
                means[self._index[s]] = mean
        if self._grid[0] == DENSE:
            means[0] = self.dense_metric
        return means

    def _verdicts(self, drop: float, means: dict[int, float]) -> dict[int, bool]:
        """Grid index -> passes, for every decided point that is not void."""
        threshold = (1 - drop) * self.dense_metric
        return {i: m >= threshold for i, m in means.items() if not math.isnan(m)}

    def _bracket(self, drop: float, means: dict[int, float]) -> tuple[int, int]:
        """Indices (lo, hi) of the lowest failing bracket; -1 / len(grid) stand for off-grid."""
        verdicts = self._verdicts(drop, means)
        hi = min((i for i, ok in verdicts.items() if not ok), default=len(self._grid))
        lo = max((i for i, ok in verdicts.items() if ok and i < hi), default=-1)
        return lo, hi

    def _sparsity(self, i: int) -> float | None:
        return self._grid[i] if 0 <= i < len(self._grid) else None

    def _plan(self, busy: set[float]) -> list[Probe]:
        """The probes to issue given the sparsities in `busy` (updated as probes are chosen)."""
        busy = set(busy)
        if self.dense_metric is None:  # the reference first; if all its trials failed, no search
            probe = self._missing(DENSE, self.seeds, busy) if self._mean(DENSE) is None else None
            return [probe] if probe else []
        probes, means = [], self._means()
        brackets = sorted(
            (self._bracket(d, means) for d in self.space.drops), key=lambda b: b[0] - b[1]
        )
        for lo, hi in brackets:  # widest first, so a shared probe serves the narrower bracket too
            inside = [i for i in range(lo + 1, hi) if i not in means]
            if any(self._grid[i] in busy for i in inside):
                continue
            if inside:
                i = min(inside, key=lambda i: abs(i - (lo + hi) / 2))
                probes.append(self._missing(self._grid[i], self.seeds, busy))
            elif self.confirm:  # closed: re-run both ends with the confirmation seeds
                probes += [self._missing(s, self.confirm, busy) for s in self._ends(lo, hi)]
        return [p for p in probes if p]

    def _gaps(self, busy: set[float]) -> list[tuple[int, int, list[int]]]:
        """(a, b, unprobed grid indices between them) for each stretch of an open bracket between
        its ends and the points running inside it; before the dense is known, of the whole grid."""
        if self.dense_metric is None:
            if self._mean(DENSE) is not None:  # every dense trial failed: nothing to search
                return []
            brackets = {(0 if self._grid[0] == DENSE else -1, len(self._grid))}
        else:
            means = self._means()
            brackets = {self._bracket(d, means) for d in self.space.drops}
        out = []
        for lo, hi in sorted(brackets):
            inside = range(lo + 1, hi)
            taken = {i for i in inside if self._grid[i] in busy or self._decided(i)}
            cuts = [lo, *sorted(i for i in taken if self._grid[i] in busy or self._known(i)), hi]
            for a, b in itertools.pairwise(cuts):
                free = [i for i in range(a + 1, b) if i not in taken and self._grid[i] != DENSE]
                if free:
                    out.append((a, b, free))
        return out

    def _decided(self, i: int) -> bool:
        return self._mean(self._grid[i]) is not None

    def _known(self, i: int) -> bool:
        mean = self._mean(self._grid[i])
        return mean is not None and not math.isnan(mean)

    def _widen(self, busy: set[float], spare: int) -> list[Probe]:
        """Up to `spare` probes that split the open gaps as evenly as they can (k-section)."""
        gaps = self._gaps(busy)
        counts = allocate([(b - a, len(free), 1) for a, b, free in gaps], spare)
        probes = []
        for (a, b, free), k in zip(gaps, counts):
            for t in range(1, k + 1):  # k points at the gap's (k + 1)-section
                i = min(free, key=lambda i: abs(i - (a + (b - a) * t / (k + 1))))
                free.remove(i)
                probes.append(self._missing(self._grid[i], self.seeds, busy))
        return [p for p in probes if p]

    def _ends(self, lo: int, hi: int) -> list[float]:
        """The probed sparsities that bound a bracket (not DENSE, not off-grid)."""
        return [s for s in map(self._sparsity, (lo, hi)) if s is not None and s != DENSE]


def confirmation_seeds(seeds: Sequence[int], n: int) -> tuple[int, ...]:
    """The n extra seeds of a confirmation: they follow the spec's, so replay finds them."""
    first = max(seeds) + 1
    return tuple(range(first, first + n))


def _missing_value(metric: float | None) -> bool:
    return metric is None or math.isnan(metric)


def plan_round(searches: Mapping[Hashable, CurveSearch]) -> list[tuple[Hashable, Probe]]:
    """The next probes of every curve at once, for a search in rounds (the simulation's baseline;
    the driver runs the event-driven `Scheduler`)."""
    return [(key, p) for key, search in searches.items() for p in search.next_probes()]


def allocate(gaps: Sequence[tuple[int, int, int]], budget: int) -> list[int]:
    """Points per gap, for gaps (size, room, cost): each point goes where it leaves the largest
    remaining stretch, size / (points + 1), smallest; at most `room` a gap, while `budget` (in
    cost) lasts; the last point may overrun it (its other seeds wait for the next free slot)."""
    counts = [0] * len(gaps)
    heap = [(-size, i) for i, (size, room, _) in enumerate(gaps) if room > 0]
    heapq.heapify(heap)
    while heap and budget > 0:
        _, i = heapq.heappop(heap)
        size, room, cost = gaps[i]
        counts[i] += 1
        budget -= cost
        if counts[i] < room:
            heapq.heappush(heap, (-size / (counts[i] + 1), i))
    return counts


class Scheduler:
    """The event-driven search of many curves: which probes to start when trial slots free up.

    A curve's next probe is issued as soon as the results it depends on are observed (no round
    barrier): `observe` each finished trial, then `next(free)` with the slots now free. Every
    curve that changed gets its bisection step first; slots still free then go to extra points
    (k-section), each where it splits the widest gap of any curve, so k follows the free slots
    and the curves with the longest way to go get them. The driver (orchestrator.search_driver)
    and the cluster simulation (benchmarks/bench_cluster.py) both decide their probes here.
    """

    def __init__(self, searches: Mapping[Hashable, CurveSearch], k_section: bool = True) -> None:
        self.searches = searches
        self.k_section = k_section
        self._changed = dict.fromkeys(searches)  # curves that may have a next probe
        self._gaps: dict[Hashable, list[tuple[int, int]]] = {}  # curve -> gaps, while unchanged
        self._stale = set(searches)  # curves whose gaps must be computed again

    def observe(self, key: Hashable, sparsity: float, metrics: Mapping[int, float | None]) -> None:
        """Record finished trials of one curve (see CurveSearch.observe)."""
        self.searches[key].observe(sparsity, metrics)
        self._touch(key)

    def next(self, free: int) -> list[tuple[Hashable, Probe]]:
        """The probes to start now, given `free` trial slots; bisection steps are never held
        back (they queue if the slots are full), extra points only fill free slots."""
        out = []
        for key in self._changed:
            out += [(key, p) for p in self.searches[key].next_probes()]
            self._stale.add(key)
        self._changed.clear()
        spare = free - sum(len(p.seeds) for _, p in out)
        if self.k_section and spare > 0:
            for key, n in self._share(spare).items():
                out += [(key, p) for p in self.searches[key].next_probes(spare=n)]
                self._stale.add(key)
        return out

    @property
    def done(self) -> bool:
        """Every curve is done: nothing runs and nothing is left to probe."""
        return all(s.done for s in self.searches.values())

    def _touch(self, key: Hashable) -> None:
        self._changed[key] = None
        self._stale.add(key)

    def _share(self, spare: int) -> dict[Hashable, int]:
        """Extra probes per curve for `spare` trial slots (see `allocate`)."""
        for key in self._stale:
            gaps = self.searches[key].gaps()
            if gaps:
                self._gaps[key] = gaps
            else:
                self._gaps.pop(key, None)
        self._stale.clear()
        owners, gaps = [], []
        for key, sizes in self._gaps.items():
            cost = len(self.searches[key].seeds)
            owners += [key] * len(sizes)
            gaps += [(size, room, cost) for size, room in sizes]
        share: dict[Hashable, int] = {}
        for key, n in zip(owners, allocate(gaps, spare)):
            if n:
                share[key] = share.get(key, 0) + n
        return share


@dataclass(frozen=True)
class TrialCounts:
    """Trials for `junkdna validate`: the search's worst case and expectation vs the grid."""

    grid: int
    search_worst: int
    search_expected: float


def trial_counts(space: SearchSpace, curves: int, seeds: int) -> TrialCounts:
    """Trials (dense included) of `curves` curves with `seeds` seeds: grid vs search.

    Worst and expected are over monotone curves whose breaking points are placed uniformly on
    the grid; a non-monotone curve can cost up to the grid. Dense trials count once per curve
    in both, as the grid's sparsity 0 does.
    """
    worst, expected = _probe_trials(space, seeds)
    return TrialCounts(
        grid=curves * seeds * len(space.grid),
        search_worst=curves * (seeds + worst),
        search_expected=curves * (seeds + expected),
    )


@lru_cache(maxsize=64)
def _probe_trials(space: SearchSpace, seeds: int) -> tuple[int, float]:
    """Worst and mean probe trials over every monotone placement of the breaking points."""
    n = len(space.grid)
    first = 1 if space.grid[0] == DENSE else 0
    breaks = range(first, n + 1)  # n: never fails on the grid
    placements = list(itertools.combinations_with_replacement(breaks, len(space.drops)))
    if len(placements) > 5000:
        rng = np.random.default_rng(0)
        placements = [placements[i] for i in rng.choice(len(placements), 5000, replace=False)]
    counts = [_simulate_steps(space, seeds, breaks) for breaks in placements]
    return max(counts), float(np.mean(counts))


def _simulate_steps(space: SearchSpace, seeds: int, breaks: tuple[int, ...]) -> int:
    """Probe trials on a noiseless step curve that first fails drop k at grid index breaks[k]."""
    drops = (0.0, *space.drops, 1.0)
    search = CurveSearch(space, range(seeds), dense_metric=1.0)
    while probes := search.next_probes():
        for p in probes:
            i = space.grid.index(p.sparsity)
            k = sum(i >= b for b in breaks)  # drops this point fails
            loss = (drops[k] + drops[k + 1]) / 2
            search.observe(p.sparsity, {seed: 1.0 - loss for seed in p.seeds})
    return search.n_trials
