"""The GPU check: what only a GPU can show, offline (`minilm` and `smollm2` only), one table.

    bash benchmarks/gpu_check.sh          # on one GPU, about 5 minutes; needs no network

Rows:
- wanda / sparsegpt masks: computed on CUDA vs on the CPU, the same fp32 model and calibration
  (TF32 off). Wanda's scores are |W| · ||X||, so only ties can flip; SparseGPT inverts a Hessian
  (Cholesky) whose rounding differs per device, and its greedy column-by-column pruning lets a
  flip propagate: the row gives the share of positions that differ, and passes below 0.1 %.
- dtype auto: a language model on the GPU loads in bf16 (fp16 without bf16 support).
- restore: writing the clean copy back between trials, on the device (smollm2, bf16).
- OOM halving: a real CUDA out-of-memory error (most of the memory taken first), the budget
  halved until a batch fits, and the scores equal to those of a batch that fits at once.
- 4 trials a GPU: the LLM demo (smollm2, closed vs open book, magnitude/Wanda/SparseGPT) through
  Ray with `resources: {gpu: 0.25}`: how many trials ran at once on the one GPU, its wall time.
- GPU utilization during that demo: gpu_check.sh samples nvidia-smi every 0.5 s into
  $OUT/utilization.csv and passes it with --utilization; the mean and the share of samples > 0.

`--device cpu` runs the same code on the CPU (masks CPU vs CPU, no OOM, no Ray sharing): the
plumbing check that tests/benchmarks/test_gpu_check.py runs without a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from pathlib import Path

import torch

ROWS: list[tuple[str, str, str]] = []


def row(check: str, ok: bool | None, detail: str) -> None:
    ROWS.append((check, {True: "pass", False: "FAIL", None: "n/a"}[ok], detail))
    print(f"  {check}: {ROWS[-1][1]} ({detail})", flush=True)


def calibration(n: int = 8, length: int = 128) -> dict:
    from importlib.resources import files

    text = str(files("difficulty").joinpath("data/calibration.txt"))
    return {"file": text, "n": n, "length": length}


def masks_on(device: torch.device, method: str) -> dict[str, torch.Tensor]:
    """`method`'s masks at 0.5 for smollm2 in fp32 on `device` (a fresh copy of the model)."""
    from transformers import AutoModelForCausalLM

    from pruning import compute_masks
    from workers import cache
    from workers.calibration import calibration_batches, calibration_ids
    from workers.packaged import resolve_model

    model = AutoModelForCausalLM.from_pretrained(resolve_model("smollm2"), dtype=torch.float32)
    model = model.eval().to(device)
    ids = calibration_ids(cache.tokenizer("smollm2"), calibration())
    scope = "row" if method == "wanda" else "layer"
    found = compute_masks(model, method, 0.5, scope, calibration=calibration_batches(model, ids))
    return {name: mask.cpu() for name, mask in found.items()}


def check_masks(device: torch.device) -> None:
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    for method in ("wanda", "sparsegpt"):
        clock = time.perf_counter()
        on_device, on_cpu = masks_on(device, method), masks_on(torch.device("cpu"), method)
        differ = sum(int((on_device[n] != on_cpu[n]).sum()) for n in on_cpu)
        total = sum(m.numel() for m in on_cpu.values())
        tolerance = 0 if method == "wanda" else total // 1000
        row(f"{method} masks {device.type} vs cpu", differ <= tolerance,
            f"{differ} of {total:,} positions differ ({differ / total:.4%}); "
            f"{time.perf_counter() - clock:.0f} s")  # fmt: skip


def check_dtype_and_restore(device: torch.device) -> None:
    from workers import cache
    from workers.device import model_dtype

    expected = model_dtype("auto", device, True)
    model = cache.language_model("smollm2", "qa", device)
    got = next(model.parameters()).dtype
    want = "bf16" if device.type == "cuda" else "fp32 on the CPU"
    row("dtype auto", got == expected and (device.type != "cuda" or got == torch.bfloat16),
        f"{got}, expected {want}")  # fmt: skip
    _, clean = cache._language_model("smollm2", False, device, expected)  # its clean copy
    times = []
    for _ in range(10):
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(0)  # a pruned model, as after a trial
        if device.type == "cuda":
            torch.cuda.synchronize()
        clock = time.perf_counter()
        cache.language_model("smollm2", "qa", device)  # restores in place
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - clock)
    restored = all(torch.equal(p, clean.copies[n].to(p.device)) for n, p in
                   model.named_parameters() if n in clean.copies)  # fmt: skip
    gb = clean.nbytes / 1e9
    median = statistics.median(times)
    row("restore between trials", restored,
        f"{gb:.2f} GB from {clean.placement} copy: {median * 1e3:.1f} ms median of 10, "
        f"{gb / median:.0f} GB/s")  # fmt: skip


def check_oom_halving(device: torch.device) -> None:
    if device.type != "cuda":
        row("OOM halving", None, "needs a GPU: a CPU run never runs out of device memory")
        return
    from difficulty import get_task
    from difficulty.prompts import PromptSettings, build_prompts
    from workers import cache
    from workers.budget import halving_on_oom
    from workers.scoring import loglikelihoods

    model, tok = cache.language_model("smollm2", "qa", device), cache.tokenizer("smollm2")
    task = get_task({"name": "builtin/factoid-mc"})
    train, evaluation = task.load()
    prompts = build_prompts(task, train, evaluation, PromptSettings(shots=5), seed=1)
    requests = [(c, f" {o}") for c, opts in zip(prompts.contexts, prompts.targets) for o in opts]
    safe = loglikelihoods(model, tok, requests, 4096, 2048, budget=8192)
    free, _ = torch.cuda.mem_get_info()
    hog = torch.empty(max(0, free - 3 * 2**30), dtype=torch.uint8, device=device)  # 3 GB left
    tried: list[int] = []

    def run(budget: int) -> list[float]:
        tried.append(budget)
        return loglikelihoods(model, tok, requests, 4096, 2048, budget=budget)

    try:
        scores, budget = halving_on_oom(run, 2**21)  # 2M tokens: far more than 3 GB holds
    finally:
        del hog
        torch.cuda.empty_cache()
    same = max(abs(a - b) for a, b in zip(scores, safe))
    row(
        "OOM halving",
        len(tried) > 1 and same < 0.05,
        f"budgets {' → '.join(map(str, tried))} tokens; max score difference {same:.2g}",
    )


def check_shared_gpu(device: torch.device, out: Path, utilization: Path | None) -> None:
    if device.type != "cuda":
        row("4 trials a GPU (Ray, gpu: 0.25)", None, "needs a GPU")
        return
    import pandas as pd

    from orchestrator.cli import demo_spec
    from orchestrator.driver import run_sweep
    from orchestrator.spec import validate_spec
    from results import load

    data = demo_spec(llm=True)
    data.update(name="demo-llm-gpu", storage=str(out), resources={"cpu": 2, "gpu": 0.25})
    spec = validate_spec(data, "gpu_check")
    clock, clock_start = time.perf_counter(), datetime.now()
    run_sweep(spec)
    wall, clock_end = time.perf_counter() - clock, datetime.now()
    rows = load(spec.sweep_dir)
    ok = rows[rows["status"] == "ok"]
    starts, ends = pd.to_datetime(ok["started_at"]), pd.to_datetime(ok["finished_at"])
    most = max(int(((starts <= t) & (ends > t)).sum()) for t in starts)
    row("4 trials a GPU (Ray, gpu: 0.25)", most == 4 and len(ok) == len(rows),
        f"{len(ok)}/{len(rows)} trials ok on {ok['device'].iloc[0]}, at most {most} at once, "
        f"{wall:.0f} s")  # fmt: skip
    if utilization is not None and utilization.exists():
        samples = demo_samples(utilization.read_text(), clock_start, clock_end)
        busy = sum(s > 0 for s in samples) / max(len(samples), 1)
        row("GPU utilization during the LLM demo", None,
            f"mean {statistics.mean(samples or [0]):.0f} %, busy in {busy:.0%} of "
            f"{len(samples)} samples")  # fmt: skip


def demo_samples(csv: str, start: datetime, end: datetime) -> list[float]:
    """The utilization (%) of nvidia-smi's `timestamp, utilization.gpu, memory.used` lines
    sampled between `start` and `end` (local time, as nvidia-smi writes it)."""
    out = []
    for line in csv.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2:
            continue
        when = datetime.strptime(parts[0], "%Y/%m/%d %H:%M:%S.%f")
        if start <= when <= end:
            out.append(float(parts[1]))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--out", default="./gpu-check", help="where the demo sweep is written")
    p.add_argument("--utilization", type=Path, help="nvidia-smi samples (gpu_check.sh)")
    p.add_argument("--skip", nargs="*", default=[], choices=["masks", "oom", "ray"])
    args = p.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA device visible; run it on a GPU node, or --device cpu")
        return 2
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    print(f"gpu_check on {name}, torch {torch.__version__}", flush=True)
    if "masks" not in args.skip:
        check_masks(device)
    check_dtype_and_restore(device)
    if "oom" not in args.skip:
        check_oom_halving(device)
    if "ray" not in args.skip:
        check_shared_gpu(device, Path(args.out).resolve(), args.utilization)
    print(f"\n| check ({name}) | result | measured |\n|---|---|---|")
    for check, result, detail in ROWS:
        print(f"| {check} | {result} | {detail} |")
    return 1 if any(result == "FAIL" for _, result, _ in ROWS) else 0


if __name__ == "__main__":
    raise SystemExit(main())
