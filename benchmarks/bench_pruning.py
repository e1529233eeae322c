"""Time junkdna's masks against the paper's seed code on a roberta-large-shaped model.

usage: PYTHONPATH=. python benchmarks/bench_pruning.py [--small]

Prints, for global magnitude pruning at 50%: the seed code's time, junkdna's (first call and
best of the next three), their ratio, whether the masks are identical, and each one's peak RSS
growth; then N:M 2:4 and a mask-cache hit (load from disk). Runs on 2 threads.
"""

import argparse
import ctypes
import os
import tempfile
import threading
import time
from pathlib import Path

import torch
from transformers import RobertaConfig, RobertaModel

from pruning import compute_masks, load_masks, prunable_parameters, save_masks

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 2**20


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakRss:
    """Growth of the process's resident memory at its peak while the block runs, sampled each ms."""

    def __enter__(self) -> "PeakRss":
        self.start = self.peak = _rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.001):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())
        self.delta = self.peak - self.start


def seed_global_magnitude(params: dict[str, torch.Tensor], sparsity: float) -> dict:
    """The paper's seed code: topk over the concatenated |w|, keep |w| > the k-th largest."""
    scores = torch.cat([p.detach().abs().reshape(-1) for p in params.values()])
    k = int(scores.numel() * (1 - sparsity))
    threshold = torch.topk(scores, k, sorted=True)[0][-1]
    return {name: p.detach().abs() > threshold for name, p in params.items()}


def timed(run) -> tuple[object, float, int]:
    """The result of run(), its wall time in seconds and its peak RSS growth in bytes."""
    # Hand freed heap memory back to the system first, so that reuse does not hide growth.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with PeakRss() as rss:
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
    return result, seconds, rss.delta


def main() -> None:
    """Build the model, time each way of masking and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a 4-layer, 256-wide model")
    small = parser.parse_args().small
    torch.set_num_threads(2)
    torch.manual_seed(0)
    width, layers = (256, 4) if small else (1024, 24)
    config = RobertaConfig(
        hidden_size=width,
        num_hidden_layers=layers,
        intermediate_size=4 * width,
        num_attention_heads=width // 64,
    )
    model = RobertaModel(config).eval()
    params = prunable_parameters(model)
    numel = sum(p.numel() for p in params.values())
    weight_mb, mask_mb = numel * 4 / MB, numel / MB
    print(f"model: {layers} layers, width {width}, {numel / 1e6:.1f}M prunable weights")
    print(f"prunable weights {weight_mb:.0f} MB, bool masks {mask_mb:.0f} MB, 2 threads")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (other processes share the CPU)")

    def extra(rss: int) -> str:
        beyond = rss / MB - mask_mb
        share = 100 * beyond / weight_mb
        return f"{rss / MB:.0f} MB ({beyond:.0f} MB = {share:.1f}% of weights beyond masks)"

    ours, first_s, first_rss = timed(lambda: compute_masks(model, "magnitude", 0.5))
    again = []
    for _ in range(3):
        del ours
        ours, seconds, rss = timed(lambda: compute_masks(model, "magnitude", 0.5))
        again.append((seconds, rss))
    best_s, best_rss = min(again)
    seed, seed_s, seed_rss = timed(lambda: seed_global_magnitude(params, 0.5))
    identical = ours.keys() == seed.keys() and all(torch.equal(ours[n], seed[n]) for n in seed)
    del seed
    print(f"seed global magnitude 50%:  {seed_s:8.3f} s   peak RSS +{extra(seed_rss)}")
    print(f"junkdna, first call:        {first_s:8.3f} s   peak RSS +{extra(first_rss)}")
    print(f"junkdna, best of next 3:    {best_s:8.3f} s   peak RSS +{extra(best_rss)}")
    print(f"ratio seed/junkdna: {seed_s / first_s:.1f}x first call, {seed_s / best_s:.1f}x best")
    print(f"identical: {identical}")

    _, nm_s, nm_rss = timed(lambda: compute_masks(model, "nm", None, "row", keep=2, of=4))
    print(f"junkdna N:M 2:4:            {nm_s:8.3f} s   peak RSS +{nm_rss / MB:.0f} MB")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "masks.safetensors"
        _, save_s, _ = timed(lambda: save_masks(ours, path))
        loaded, load_s, load_rss = timed(lambda: load_masks(path))
        same = all(torch.equal(loaded[n], ours[n]) for n in ours)
        size = path.stat().st_size / MB
    print(f"mask cache save:            {save_s:8.3f} s   file {size:.0f} MB")
    print(
        f"mask cache hit (load):      {load_s:8.3f} s   "
        f"peak RSS +{load_rss / MB:.0f} MB, equal: {same}"
    )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
