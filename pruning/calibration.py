"""Calibration: run sample inputs through the model block by block and fold each layer's inputs.

`calibration` is a tensor of input_ids (one batch if 2-d, a batch per first index if 3-d), a
dict of model inputs (one batch), or a list of such tensors and dicts.

`block_statistics` is the engine Wanda and SparseGPT share. When the pruned blocks are elements of
one `nn.ModuleList` (the transformer stack of LLaMA, OPT, GPT-2, BERT, ...), the model runs once
per batch, only up to the first such block, whose inputs (hidden states and every other argument
it receives: attention mask, position ids, rotary embeddings) are kept; each block then runs on
its kept inputs once to collect statistics and, after the caller pruned it, once more to make the
inputs of the next block. Other models (encoder-decoders, weights outside the stack) run the
whole model up to each block instead. Everything runs on the model's device.
"""

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from pruning.errors import PruningError
from pruning.selection import blocks

Accumulate = Callable[[Any, torch.Tensor], Any]
"""Fold one batch's inputs of a layer, (batch, tokens, in features), into the statistic so far
(None before the first batch)."""


class _Stop(Exception):
    """Raised by a hook to end a forward pass early."""


def calibration_batches(calibration: object) -> list[dict[str, torch.Tensor]]:
    """The calibration data as a list of keyword-argument dicts for the model's forward."""
    if isinstance(calibration, torch.Tensor):
        calibration = [calibration] if calibration.dim() <= 2 else list(calibration)
    elif isinstance(calibration, dict):
        calibration = [calibration]
    if not isinstance(calibration, list) or not calibration:
        raise PruningError(
            "calibration must be input_ids (a tensor), model inputs (a dict) or a non-empty list "
            f"of them, not {type(calibration).__name__}"
        )
    return [batch if isinstance(batch, dict) else {"input_ids": batch} for batch in calibration]


def _stack(model: nn.Module, groups: list[tuple[nn.Module, list[str]]]) -> list[nn.Module] | None:
    """The blocks from the first to the last pruned one, if all are in one ModuleList; else None."""
    for module in model.modules():
        if isinstance(module, nn.ModuleList):
            index = {id(block): i for i, block in enumerate(module)}
            found = [index.get(id(block)) for block, _ in groups]
            if None not in found and found == sorted(found):
                return list(module)[found[0] : found[-1] + 1]
    return None


def _run_model(model: nn.Module, batches: list[dict[str, torch.Tensor]]) -> None:
    """Forward every batch, on the model's device, until a hook stops it."""
    device = next(model.parameters()).device
    for batch in batches:
        try:
            model(**{key: value.to(device) for key, value in batch.items()})
        except _Stop:
            pass


def _with_hidden(args: tuple, kwargs: dict, hidden: torch.Tensor) -> tuple[tuple, dict]:
    if args:
        return (hidden, *args[1:]), kwargs
    return args, {**kwargs, "hidden_states": hidden}


def _catch_inputs(model, first: nn.Module, batches) -> list[tuple[tuple, dict]]:
    """The (args, kwargs) the first block receives for each batch; the rest of the model idles."""
    caught = []

    def catch(module: nn.Module, args: tuple, kwargs: dict) -> None:
        caught.append((args, kwargs))
        raise _Stop

    handle = first.register_forward_pre_hook(catch, with_kwargs=True)
    try:
        _run_model(model, batches)
    finally:
        handle.remove()
    if len(caught) != len(batches):
        raise PruningError("calibration: the forward pass never reached the first pruned block")
    return caught


def _folding(layers: dict[str, nn.Module], accumulate: Accumulate):
    """Pre-hooks folding each layer's inputs into `stats`; (stats, handles)."""
    stats: dict[str, Any] = {}

    def hook_for(name: str):
        def hook(module: nn.Module, args: tuple) -> None:
            x = args[0].detach()
            x = x.reshape(-1, *x.shape[-2:]) if x.dim() > 2 else x[None]
            stats[name] = accumulate(stats.get(name), x)

        return hook

    return stats, [layer.register_forward_pre_hook(hook_for(n)) for n, layer in layers.items()]


def block_statistics(
    model: nn.Module, layers: dict[str, nn.Module], batches: list[dict], accumulate: Accumulate
) -> Iterator[dict[str, Any]]:
    """Per block, in model order: the input statistics of its layers among `layers`.

    Each block sees the outputs of the blocks before it as they are when the caller resumes the
    iterator: a caller that prunes the block's weights before asking for the next block feeds
    the pruned block's outputs on.
    """
    groups = blocks(model, list(layers))
    use_cache = getattr(model.config, "use_cache", None) if hasattr(model, "config") else None
    if use_cache:  # a key/value cache would grow with every re-run of a block
        model.config.use_cache = False
    try:
        with torch.no_grad():
            stack = _stack(model, groups)
            if stack is None:
                yield from _whole_model_statistics(model, layers, groups, batches, accumulate)
            else:
                yield from _stack_statistics(model, layers, groups, stack, batches, accumulate)
    finally:
        if use_cache:
            model.config.use_cache = use_cache


def _stack_statistics(model, layers, groups, stack, batches, accumulate):
    inputs = _catch_inputs(model, stack[0], batches)
    members = {id(block): names for block, names in groups}
    for i, block in enumerate(stack):
        if id(block) in members:
            stats, handles = _folding({n: layers[n] for n in members[id(block)]}, accumulate)
            try:
                for args, kwargs in inputs:
                    block(*args, **kwargs)
            finally:
                for handle in handles:
                    handle.remove()
            _check_reached(stats, members[id(block)])
            yield stats
        if i + 1 < len(stack):  # the next block's inputs: this block's outputs, as pruned
            for j, (args, kwargs) in enumerate(inputs):
                out = block(*args, **kwargs)
                inputs[j] = _with_hidden(args, kwargs, out[0] if isinstance(out, tuple) else out)


def _whole_model_statistics(model, layers, groups, batches, accumulate):
    def stop(*_: object) -> None:
        raise _Stop

    for block, names in groups:
        stats, handles = _folding({n: layers[n] for n in names}, accumulate)
        handles.append(block.register_forward_hook(stop))
        try:
            _run_model(model, batches)
        finally:
            for handle in handles:
                handle.remove()
        _check_reached(stats, names)
        yield stats


def _check_reached(stats: dict[str, Any], names: list[str]) -> None:
    missing = [name for name in names if name not in stats]
    if missing:
        raise PruningError(f"calibration: the forward pass never reached {missing[0]!r}")
