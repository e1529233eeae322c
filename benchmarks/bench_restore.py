"""Keeping a ~1B LLaMA loaded across trials: host memory and per-trial set-up, old vs new.

old: the worker keeps the loaded model and deep-copies it for every trial (what the LLM path
did), so it holds two models; new: the model stays loaded and `CleanCopy.restore` writes the
pretrained prunable tensors back after each trial (on a CPU node from a shared file mapping).
Each variant runs in its own process, so their memory readings do not mix. A trial here is
50 % global magnitude pruning applied in place.

usage: PYTHONPATH=. python benchmarks/bench_restore.py [--layers 22] [--trials 3]
"""

import argparse
import copy
import json
import statistics
import subprocess
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def rss_mib() -> dict[str, int]:
    out = {}
    for line in open("/proc/self/status"):
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(line.split()[1]) // 1024
    return out


def llama(layers: int) -> torch.nn.Module:
    """TinyLlama-1.1B's shape (hidden 2048, 32 heads, 4 KV heads), random bf16 weights."""
    config = LlamaConfig(
        hidden_size=2048, intermediate_size=5632, num_hidden_layers=layers,
        num_attention_heads=32, num_key_value_heads=4, vocab_size=32000,
    )  # fmt: skip
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model = model.to_empty(device="cpu").to(torch.bfloat16)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float32).mul_(0.02))
    return model.eval()


def prune_in_place(model: torch.nn.Module) -> None:
    from pruning import apply_masks, compute_masks

    apply_masks(model, compute_masks(model, "magnitude", 0.5, "global"))


def variant(name: str, layers: int, trials: int) -> dict:
    from pruning import prunable_parameters
    from workers.restore import CleanCopy

    torch.set_num_threads(2)
    loaded = llama(layers)
    size = sum(p.numel() * p.element_size() for p in loaded.parameters()) / 2**20
    base = rss_mib()
    setup = []
    if name == "old":
        kept = copy.deepcopy(loaded)  # the LLM path's per-trial copy, measured at rest
        held = rss_mib()
        del kept
        for _ in range(trials):
            start = time.perf_counter()
            model = copy.deepcopy(loaded)
            setup.append(time.perf_counter() - start)
            prune_in_place(model)
            del model
    else:
        clean = CleanCopy(loaded, list(prunable_parameters(loaded)))
        held = rss_mib()
        for _ in range(trials):
            prune_in_place(loaded)
            start = time.perf_counter()
            clean.restore(loaded)
            setup.append(time.perf_counter() - start)
    return {"variant": name, "model_mib": size, "after_load": base, "held": held,
            "end": rss_mib(),
            "setup_s": setup}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=22)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--variant")
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(variant(args.variant, args.layers, args.trials)))
        return
    results = {}
    for name in ("old", "new"):
        cmd = [sys.executable, __file__, "--variant", name, "--layers", str(args.layers),
               "--trials", str(args.trials)]  # fmt: skip
        results[name] = json.loads(subprocess.run(cmd, capture_output=True, text=True,
                                                  check=True).stdout.splitlines()[-1])  # fmt: skip
    size = results["old"]["model_mib"]
    print(f"model: {size:.0f} MiB of bf16 weights ({args.layers} layers), {args.trials} trials")
    for name, r in results.items():
        grown = (r["held"]["RssAnon"] - r["after_load"]["RssAnon"]) / size
        print(f"  {name}: per-trial set-up {statistics.median(r['setup_s']):.3f} s (median); "
              f"worker's own memory (RssAnon) after load {r['after_load']['RssAnon']} MiB, "
              f"holding model + copy {r['held']['RssAnon']} MiB (+{grown:.2f}x model; "
              f"file-backed {r['held']['RssFile']} MiB); peak RSS incl. trials' masks "
              f"{r['end']['VmHWM']} MiB")  # fmt: skip
    ratio = statistics.median(results["old"]["setup_s"]) / statistics.median(
        results["new"]["setup_s"]
    )
    print(f"set-up time ratio old/new: {ratio:.1f}x")


if __name__ == "__main__":
    main()
