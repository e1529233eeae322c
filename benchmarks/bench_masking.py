"""What keeping the masks costs a training step: MiniLM, batch 32 x length 128, CPU, 2 threads.

The same loop (`workers.train.train`) runs with no constraint, `sparse` and `dense_freeze` at 50 %
magnitude sparsity; repetitions are interleaved so that machine noise hits every mode alike.
Reported: median step time per mode and its ratio to the unmasked loop (target <= 1.05), and
the constraint's own cost measured alone (gradient masking + after-step), which is less noisy.

usage: PYTHONPATH=. python benchmarks/bench_masking.py [--steps 2] [--reps 5] [--threads 2]
"""

import argparse
import statistics
import time

import torch
from transformers import AutoModelForSequenceClassification
from transformers.utils import logging

from pruning import compute_masks
from workers import transfer
from workers.config import TrainConfig
from workers.packaged import resolve_model
from workers.train import train

MODES = ["dense", "sparse", "dense_freeze"]  # `dense`: the loop with no mask at all


def minilm() -> torch.nn.Module:
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(resolve_model("minilm"), num_labels=2)


def constraint_ms(model: torch.nn.Module, after_step, reps: int = 20) -> float:
    """The mode's own cost per step, alone: its gradient hooks and its after-step constraint."""
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    hooked = [p for p in model.parameters() if p._post_accumulate_grad_hooks]
    start = time.perf_counter()
    for _ in range(reps):
        for p in hooked:
            for hook in p._post_accumulate_grad_hooks.values():
                hook(p)
        after_step()
    model.zero_grad(set_to_none=True)
    return (time.perf_counter() - start) / reps * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps per timing")
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.set_verbosity_error()  # no load report per model

    cfg = TrainConfig(max_steps=args.steps, batch_size=32, weight_decay=0.01)
    g = torch.Generator().manual_seed(0)
    n = 32 * args.steps
    data = {"input_ids": torch.randint(1000, 30000, (n, 128), generator=g),
            "attention_mask": torch.ones(n, 128, dtype=torch.long),
            "labels": torch.randint(0, 2, (n,), generator=g)}  # fmt: skip
    models, constraints = {}, {}
    for mode in MODES:
        model = minilm()
        masks = compute_masks(model, "magnitude", 0.5) if mode != "dense" else {}
        constraints[mode] = transfer.prepare(model, masks, mode)
        models[mode] = model
    alone = {mode: constraint_ms(models[mode], constraints[mode]) for mode in MODES}

    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    train(models["dense"], data, cfg, seed=0)  # warm-up: allocator, thread pool
    for rep in range(args.reps):
        for mode in MODES[rep % 3 :] + MODES[: rep % 3]:  # rotate the order too
            start = time.perf_counter()
            train(models[mode], data, cfg, seed=0, after_step=constraints[mode])
            times[mode].append((time.perf_counter() - start) / args.steps)

    base = statistics.median(times["dense"])
    print(f"MiniLM, batch 32 x 128, {args.threads} threads, {args.steps} steps x {args.reps} reps")
    print(f"{'mode':14} {'median step s':>14} {'ratio':>7} {'constraint ms':>14} {'alone %':>8}")
    for mode in MODES:
        step = statistics.median(times[mode])
        label = "no mask" if mode == "dense" else mode
        print(f"{label:14} {step:14.3f} {step / base:7.3f} {alone[mode]:14.1f}"
              f" {alone[mode] / 1e3 / base * 100:7.2f}%")  # fmt: skip


if __name__ == "__main__":
    main()
