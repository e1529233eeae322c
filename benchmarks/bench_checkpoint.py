"""Time one per-epoch checkpoint (`train.checkpoint: epoch`) of a roberta-large-sized state.

A checkpoint of full fine-tuning holds the weights and AdamW's two moments, fp32: 3 × P × 4 bytes
(roberta-large, P = 355M: 4.3 GB). `--fraction` times a share of that and scales the seconds up
linearly (the save is a serialization plus one write, both linear in bytes).

usage: PYTHONPATH=. python benchmarks/bench_checkpoint.py [--fraction 0.25] [--dir DIR]
"""

import argparse
import os
import tempfile
import time

import torch

from workers import checkpoint

ROBERTA_LARGE = 355_000_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fraction", type=float, default=0.25)
    parser.add_argument("--dir", default=None, help="where to write (default: a temporary dir)")
    args = parser.parse_args()
    n = int(ROBERTA_LARGE * args.fraction)
    chunk = 1_000_000  # a state dict of many tensors, like a model's
    tensors = {f"p{i}": torch.randn(min(chunk, n - i * chunk)) for i in range(-(-n // chunk))}
    state = {
        "model": tensors,
        "optimizer": {"exp_avg": {k: v.clone() for k, v in tensors.items()},
                      "exp_avg_sq": {k: v.clone() for k, v in tensors.items()}},
    }  # fmt: skip
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        where = f"{tmp}/checkpoints/k.pt"
        times = []
        for _ in range(3):
            clock = time.perf_counter()
            checkpoint.save(where, state)
            times.append(time.perf_counter() - clock)
        size = os.path.getsize(where)
    best = min(times)
    runs = ", ".join(f"{t:.2f}" for t in times)
    print(f"{args.fraction:g} of roberta-large: file {size / 1e9:.2f} GB, saved in {best:.2f} s "
          f"(best of 3: {runs})")  # fmt: skip
    print(f"roberta-large, extrapolated: {3 * ROBERTA_LARGE * 4 / 1e9:.2f} GB, "
          f"{best / args.fraction:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
