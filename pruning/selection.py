"""Which tensors of a model are pruned.

By default: the `.weight` of every linear layer (`nn.Linear`, or GPT-2's `Conv1D`, recognised by
class name) that lives inside an `nn.ModuleList`, i.e. inside the stack of transformer blocks:
attention and feed-forward projections. Embeddings, position embeddings, LayerNorm/RMSNorm,
biases and everything outside the blocks (BERT's pooler, classifiers, `lm_head`) are not pruned.

`include` and `exclude` are shell-style patterns (`fnmatch`, case-sensitive) matched against full
parameter names as in `model.named_parameters()`, e.g. `"*.attention.*"`. `include` replaces the
default selection with every parameter matching one of its patterns; `exclude` then removes the
parameters matching one of its patterns. A pattern that matches nothing is an error.

`targets` names the default candidates: `blocks` (the rule above) or `all`, every 2-D weight of
the model including the token and position embeddings and the task head (`lm_head`, classifier)
— the rule of the Junk DNA paper's translation code. Tied tensors (mBART's shared embeddings and
output projection) are one parameter and appear once. `include` replaces either.
"""

from fnmatch import fnmatchcase

import torch
from torch import nn

from pruning.errors import PruningError


def _is_linear(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or type(module).__name__ == "Conv1D"


def _module_lists(model: nn.Module) -> list[str]:
    return [
        name + "." for name, module in model.named_modules() if isinstance(module, nn.ModuleList)
    ]


def _block_linear_weights(model: nn.Module) -> dict[str, nn.Parameter]:
    lists = _module_lists(model)
    return {
        f"{name}.weight": module.weight
        for name, module in model.named_modules()
        if _is_linear(module) and any(name.startswith(prefix) for prefix in lists)
    }


def _matching(names: list[str], pattern: str, option: str) -> set[str]:
    matched = {name for name in names if fnmatchcase(name, pattern)}
    if not matched:
        raise PruningError(f"{option} pattern {pattern!r} matches no tensor of the model")
    return matched


TARGETS = ("blocks", "all")


def _all_matrices(model: nn.Module) -> dict[str, nn.Parameter]:
    return {name: p for name, p in model.named_parameters() if p.dim() == 2}


def prunable_parameters(
    model: nn.Module,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    targets: str = "blocks",
) -> dict[str, nn.Parameter]:
    """The parameters to prune, by name, in model order (see the module docstring for the rule)."""
    if targets not in TARGETS:
        raise PruningError(f"targets {targets!r} is not one of {', '.join(TARGETS)}")
    if include is None:
        selected = _block_linear_weights(model) if targets == "blocks" else _all_matrices(model)
    else:
        named = dict(model.named_parameters())
        chosen = set().union(*(_matching(list(named), p, "include") for p in include))
        selected = {name: param for name, param in named.items() if name in chosen}
    excluded = set().union(*(_matching(list(selected), p, "exclude") for p in exclude or []))
    selected = {name: param for name, param in selected.items() if name not in excluded}
    if not selected:
        raise PruningError(
            f"nothing to prune: no tensor selected (include={include!r}, exclude={exclude!r})"
        )
    return selected


def linear_layers(model: nn.Module, names: list[str]) -> dict[str, nn.Module]:
    """The linear layer whose `.weight` each name is; PruningError for any other tensor."""
    layers = {}
    for name in names:
        module_name, _, leaf = name.rpartition(".")
        module = model.get_submodule(module_name) if module_name else model
        if leaf != "weight" or not _is_linear(module):
            raise PruningError(
                f"{name!r} is not the weight of a linear layer; this method needs one"
            )
        layers[name] = module
    return layers


def out_by_in(weight: torch.Tensor, layer: nn.Module) -> torch.Tensor:
    """The weight viewed as (out features, in features): GPT-2's Conv1D stores it transposed."""
    return weight.t() if type(layer).__name__ == "Conv1D" else weight


def blocks(model: nn.Module, names: list[str]) -> list[tuple[nn.Module, list[str]]]:
    """The blocks (elements of the outermost ModuleList) holding the named weights, in order.

    A weight outside any ModuleList is a block of its own layer.
    """
    lists = _module_lists(model)
    groups: dict[str, list[str]] = {}
    for name in names:
        module_name = name.rpartition(".")[0]
        outer = min((p for p in lists if module_name.startswith(p)), key=len, default=None)
        block = outer + module_name[len(outer) :].split(".")[0] if outer else module_name
        groups.setdefault(block, []).append(name)
    return [(model.get_submodule(block), members) for block, members in groups.items()]
