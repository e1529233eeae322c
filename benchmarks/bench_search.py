"""Count the adaptive search's probes and bracket misses on simulated curves, vs the full grid.

Each simulated curve falls logistically from about 0.9 (dense) towards chance (0.5) with a random
midpoint and steepness; a trial returns the curve's value plus Gaussian seed noise. The true
breaking point of drop x is where the noiseless curve crosses (1 - x) · its value at sparsity 0.
A bracket misses when that point lies outside [last passing, first failing]; "far" when it lies
more than one resolution step outside. "non-monotone": the share of these (monotone) curves with
any contradiction (before issue 23) and with one beyond NOISE_MULTIPLE standard errors (now);
the dip lines give the share of curves with a real dip that are still flagged. The grid
baseline runs every grid point at the same seeds and reads the same lowest failing bracket off
them.

usage: PYTHONPATH=. python benchmarks/bench_search.py [--curves N] [--seed S]
"""

import argparse
import math
import time

import numpy as np

from orchestrator.search import DENSE, NOISE_MULTIPLE, CurveSearch, SearchSpace, trial_counts

SEEDS = 3
FLOOR = 0.5


def random_curves(n: int, rng: np.random.Generator) -> list[tuple[float, float, float]]:
    """(top, midpoint, steepness) of n logistic falls."""
    return list(
        zip(rng.uniform(0.85, 0.93, n), rng.uniform(0.3, 1.1, n), rng.uniform(6.0, 40.0, n))
    )


def value(curve: tuple[float, float, float], s: float) -> float:
    top, mid, steep = curve
    return FLOOR + (top - FLOOR) / (1 + math.exp(steep * (s - mid)))


def breaking_point(curve: tuple[float, float, float], drop: float) -> float:
    """The sparsity at which the noiseless curve falls to (1 - drop) of its dense value."""
    top, mid, steep = curve
    threshold = (1 - drop) * value(curve, 0.0)
    if threshold <= FLOOR:
        return math.inf
    return mid + math.log((top - FLOOR) / (threshold - FLOOR) - 1) / steep


def run_search(curve, space, seeds, noise, rng) -> CurveSearch:
    """Rounds as the driver runs them: every issued probe's seeds finish before the next round."""
    search = CurveSearch(space, range(seeds))
    while probes := search.next_probes():
        for p in probes:
            search.observe(
                p.sparsity, {x: value(curve, p.sparsity) + rng.normal(0, noise) for x in p.seeds}
            )
    return search


def run_grid(curve, space, seeds, noise, rng) -> CurveSearch:
    """Every grid point at every seed, read by the same bracket logic."""
    search = CurveSearch(space, range(seeds))
    for s in dict.fromkeys((DENSE, *space.grid)):
        search.observe(s, {x: value(curve, s) + rng.normal(0, noise) for x in range(seeds)})
    return search


def score(search: CurveSearch, curve, space) -> np.ndarray:
    """Per drop, [missed, missed by more than one step] of one finished search."""
    out = []
    for drop, (lo, hi) in search.brackets().items():
        truth = breaking_point(curve, drop)
        lo = -math.inf if lo is None else lo
        hi = math.inf if hi is None else hi
        outside = max(lo - truth, truth - hi, 0.0)
        out.append([outside > 0, outside > space.resolution + 1e-9])
    return np.array(out, dtype=float)


def dips(curves, rng: np.random.Generator) -> None:
    """How often a real dip is still called non-monotone: the grid at 3 seeds, each curve
    lowered by `depth` over the 0.1 of sparsity just below its 1% breaking point and back up."""
    space = SearchSpace()
    for noise in (0.01, 0.02):
        for depth in (0.02, 0.05):
            flagged = []
            for curve in curves[:300]:
                start = breaking_point(curve, 0.01) - 0.125
                search = CurveSearch(space, range(SEEDS))
                for s in dict.fromkeys((DENSE, *space.grid)):
                    low = depth if start <= s < start + 0.1 else 0.0
                    metrics = {
                        x: value(curve, s) - low + rng.normal(0, noise) for x in range(SEEDS)
                    }
                    search.observe(s, metrics)
                flagged.append([bool(search.contradictions()), search.non_monotone])
            any_, real = np.mean(flagged, axis=0)
            print(
                f"dip {depth} below the 1% point, noise {noise}, grid: non-monotone "
                f"any {any_:.3f} / > {NOISE_MULTIPLE:g} SE {real:.3f}"
            )


def trial(search: CurveSearch, seeds: int) -> int:
    return search.n_trials + seeds  # the dense reference counts once per curve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--curves", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    curves = random_curves(args.curves, rng)
    space = SearchSpace(drops=(0.01, 0.05), resolution=0.025, range=(0.0, 0.95))
    grid_trials = len(space.grid) * SEEDS
    print(f"{args.curves} curves, drops {space.drops}, {len(space.grid)} points, {SEEDS} seeds")

    start = time.perf_counter()
    runs = [run_search(c, space, SEEDS, 0.0, rng) for c in curves]
    probes = [r.n_probes for r in runs]
    missed = np.mean([score(r, c, space) for r, c in zip(runs, curves)], axis=0)[:, 0]
    widths = {round(hi - lo, 6) for r in runs for lo, hi in r.brackets().values() if hi is not None}
    print(
        f"noise 0: probes per curve mean {np.mean(probes):.2f} max {max(probes)} vs grid "
        f"{len(space.grid)} ({np.mean(probes) / len(space.grid):.2f}x); brackets containing the "
        f"true breaking point {1 - missed.max():.3f}; widths {sorted(widths)}; "
        f"non-monotone {sum(r.non_monotone for r in runs)}"
    )

    variants = {
        "grid (all points)": (run_grid, SearchSpace(), SEEDS),
        "search": (run_search, SearchSpace(), SEEDS),
        "search + confirm 3 seeds": (run_search, SearchSpace(confirm_seeds=3), SEEDS),
        "search, 6 seeds per probe": (run_search, SearchSpace(), 2 * SEEDS),
    }
    drops = "  ".join(f"miss/far {d:.0%}" for d in space.drops)
    print(f"noise  {'variant':<26} trials vs grid probes  {drops}  non-monotone: any / "
          f"> {NOISE_MULTIPLE:g} SE")  # fmt: skip
    for noise in (0.01, 0.02):
        for name, (run, variant, seeds) in variants.items():
            runs = [run(c, variant, seeds, noise, rng) for c in curves]
            trials = np.mean([trial(r, seeds) for r in runs])
            rates = np.mean([score(r, c, variant) for r, c in zip(runs, curves)], axis=0)
            print(
                f"{noise:<5}  {name:<26} {trials:>6.1f} {trials / grid_trials:>7.2f} "
                f"{np.mean([r.n_probes for r in runs]):>6.1f}  "
                + "  ".join(f"{m:>5.3f}/{f:.3f}" for m, f in rates)
                + f"  {np.mean([bool(r.contradictions()) for r in runs]):>18.3f} / "
                + f"{np.mean([r.non_monotone for r in runs]):.3f}"
            )
    dips(curves, rng)
    for confirm in (0, 3):
        counts = trial_counts(SearchSpace(confirm_seeds=confirm), curves=1, seeds=SEEDS)
        print(
            f"validate, one curve, {SEEDS} seeds, confirm_seeds {confirm}: grid {counts.grid}, "
            f"search worst {counts.search_worst} ({counts.search_worst / counts.grid:.2f}x), "
            f"expected {counts.search_expected:.1f} ({counts.search_expected / counts.grid:.2f}x)"
        )
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
