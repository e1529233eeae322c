"""Time Wanda and SparseGPT masks, block-wise calibration against the procedures it replaced.

usage: PYTHONPATH=. python benchmarks/bench_calibration.py [--layers 8] [--hidden 256]

On a random LLaMA (8 layers, hidden 256) with 16 calibration sequences of 128 tokens, one per
batch as the workers pass them: the old procedures (Wanda: every layer's input norms from one
pass of the dense model; SparseGPT: the model run from the embeddings up to each block in turn)
and the new ones (the inputs of block 0 caught once, each block run on its kept inputs). Prints
wall time (best of 2, on the model's device, 2 CPU threads), completed forwards of the embedding
and of the blocks, mask mismatches old vs new and, for SparseGPT, the largest weight difference.
"""

import argparse
import copy
import time
from collections import Counter

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from pruning import compute_masks, prunable_parameters
from pruning.selection import blocks, linear_layers, out_by_in
from pruning.sparsegpt import sparsegpt_prune
from pruning.wanda import _row_mask


class _Stop(Exception):
    pass


def _old_statistics(model, layers, batches, statistic, stop_after=None) -> dict:
    """The replaced engine: whole-model forwards, summing statistic(x) of each layer's inputs."""
    sums = {}

    def fold(name):
        def hook(module, args):
            x = args[0].reshape(-1, args[0].shape[-1]).float()
            sums[name] = sums[name] + statistic(x) if name in sums else statistic(x)

        return hook

    def stop(*_):
        raise _Stop

    handles = [layer.register_forward_pre_hook(fold(n)) for n, layer in layers.items()]
    if stop_after is not None:
        handles.append(stop_after.register_forward_hook(stop))
    try:
        for batch in batches:
            try:
                model(**batch)
            except _Stop:
                pass
    finally:
        for handle in handles:
            handle.remove()
    return sums


def old_wanda(model, sparsity, batches) -> dict:
    params = prunable_parameters(model)
    layers = linear_layers(model, list(params))
    squares = _old_statistics(model, layers, batches, lambda x: (x * x).sum(0))
    return {n: out_by_in(_row_mask(out_by_in(p, layers[n]), squares[n], sparsity), layers[n])
            for n, p in params.items()}  # fmt: skip


def old_sparsegpt(model, sparsity, batches) -> dict:
    params = prunable_parameters(model)
    layers = linear_layers(model, list(params))
    masks = {}
    for block, names in blocks(model, list(params)):
        members = {n: layers[n] for n in names}
        grams = _old_statistics(model, members, batches, lambda x: x.T @ x, stop_after=block)
        for name, layer in members.items():
            rows = out_by_in(params[name].data, layer)
            weight, kept = sparsegpt_prune(rows, grams[name], sparsity, 128, 0.01)
            rows.copy_(weight)
            masks[name] = out_by_in(kept, layer)
    return masks


def new(method):
    scope = "row" if method == "wanda" else "layer"
    return lambda model, sparsity, batches: compute_masks(
        model, method, sparsity, scope, calibration=batches
    )


def measure(model, run, batches, repeats=2):
    """(best seconds, forward counts, masks, weights after) of run on a fresh copy each time."""
    best = float("inf")
    for _ in range(repeats):
        copied = copy.deepcopy(model)
        counts = Counter()
        modules = {"embedding": copied.model.embed_tokens, **dict(enumerate(copied.model.layers))}
        for key, module in modules.items():
            module.register_forward_hook(lambda *_, key=key, counts=counts: counts.update([key]))
        clock = time.perf_counter()
        with torch.no_grad():
            masks = run(copied, 0.5, batches)
        if batches[0]["input_ids"].is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - clock)
    return best, counts, masks, copied.state_dict()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    config = LlamaConfig(
        vocab_size=1000, hidden_size=args.hidden, intermediate_size=args.hidden * 8 // 3,
        num_hidden_layers=args.layers, num_attention_heads=4, num_key_value_heads=4,
        use_cache=False,
    )  # fmt: skip
    model = LlamaForCausalLM(config).eval().to(device)
    ids = torch.randint(0, 1000, (16, 1, 128), device=device)
    batches = [{"input_ids": batch} for batch in ids]
    print(f"LLaMA {args.layers} layers, hidden {args.hidden}, 16 x 128 tokens, on {device}")
    for method, old in (("wanda", old_wanda), ("sparsegpt", old_sparsegpt)):
        old_s, old_counts, old_masks, old_weights = measure(model, old, batches)
        new_s, new_counts, new_masks, new_weights = measure(model, new(method), batches)
        mismatched = sum(int((old_masks[n] != new_masks[n]).sum()) for n in new_masks)
        total = sum(m.numel() for m in new_masks.values())
        blocks_old = [old_counts[i] for i in range(args.layers)]
        blocks_new = [new_counts[i] for i in range(args.layers)]
        print(f"{method}: old {old_s:.3f} s, new {new_s:.3f} s, new/old {new_s / old_s:.2f}")
        print(f"  embedding forwards: old {old_counts['embedding']}, new {new_counts['embedding']}")
        print(f"  block forwards: old {sum(blocks_old)} {blocks_old}")
        print(f"                  new {sum(blocks_new)} {blocks_new}")
        print(f"  masks old vs new: {mismatched} of {total} positions differ")
        if method == "sparsegpt":
            diff = max((old_weights[n] - new_weights[n]).abs().max().item() for n in new_masks)
            print(f"  largest weight difference old vs new: {diff:.2e}")


if __name__ == "__main__":
    main()
