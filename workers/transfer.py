"""Transfer modes: what happens to pruned weights while the model is fine-tuned.

`prepare` applies the mode to a fresh pretrained model, in place, and returns the constraint the
training loop calls after every optimizer step, so that the mode's invariant holds after the
last step too. Under `sparse` and `dense_freeze` the gradients of pruned positions are also
zeroed as they accumulate: pruned weights then count neither in the clipping norm nor in Adam's
moments, as if they were not parameters. The after-step constraint is still what makes the
invariant exact, because decoupled weight decay moves any weight that has a nonzero value.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from peft import LoraConfig, inject_adapter_in_model

from pruning import apply_masks
from results.transfer_modes import TRANSFER_MODES, get_transfer
from workers.config import TrainConfig

Constraint = Callable[[], None]
_DEFAULT_TRAIN = TrainConfig()


def _nothing() -> None:
    pass


def _zero_grad_at(keep: torch.Tensor) -> Callable[[torch.Tensor], None]:
    def hook(p: torch.Tensor) -> None:
        p.grad.mul_(keep)

    return hook


def prepare(
    model: torch.nn.Module,
    masks: dict[str, torch.Tensor],
    transfer: str,
    cfg: TrainConfig = _DEFAULT_TRAIN,
) -> Constraint:
    """Apply `transfer` to `model` (in place, on its device); returns the after-step constraint."""
    return _PREPARE[get_transfer(transfer).name](model, masks, cfg)


def _unpruned(model: torch.nn.Module, masks: dict, cfg: TrainConfig) -> Constraint:
    return _nothing


def _released(model: torch.nn.Module, masks: dict, cfg: TrainConfig) -> Constraint:
    apply_masks(model, masks)
    return _nothing


def _lora(model: torch.nn.Module, masks: dict, cfg: TrainConfig) -> Constraint:
    apply_masks(model, masks)
    add_lora(model, cfg)
    return _nothing


def _hooked(model: torch.nn.Module, masks: dict) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(parameter, keep) pairs, the gradients of the pruned positions zeroed as they accumulate."""
    # masks as 1.0/0.0 in the weight's dtype: a multiply is exact (w * 1 = w, w * 0 = 0) and,
    # on CPU, tens of times faster than masked_fill or where with a bool mask
    named = dict(model.named_parameters())
    kept = [(named[n], m.to(named[n].device, named[n].dtype)) for n, m in masks.items()]
    for p, keep in kept:
        p.register_post_accumulate_grad_hook(_zero_grad_at(keep))
    return kept


def _sparse(model: torch.nn.Module, masks: dict, cfg: TrainConfig) -> Constraint:
    apply_masks(model, masks)
    kept = _hooked(model, masks)

    @torch.no_grad()
    def keep_zero() -> None:
        for p, keep in kept:
            p.mul_(keep)

    return keep_zero


def _dense_freeze(model: torch.nn.Module, masks: dict, cfg: TrainConfig) -> Constraint:
    # pretrained values at pruned positions (0 elsewhere): w * keep + frozen is exact both ways
    frozen = [(p, keep, p.detach() * (1 - keep)) for p, keep in _hooked(model, masks)]

    @torch.no_grad()
    def restore_pretrained() -> None:
        for p, keep, pretrained in frozen:
            torch.addcmul(pretrained, p, keep, out=p)

    return restore_pretrained


_PREPARE: dict[str, Callable[[torch.nn.Module, dict, TrainConfig], Constraint]] = {
    "dense": _unpruned,
    "sparse": _sparse,
    "dense_freeze": _dense_freeze,
    "sparse_to_dense": _released,
    "lora": _lora,
    "none": _released,
}
if set(_PREPARE) != set(TRANSFER_MODES):
    raise ImportError(
        f"workers.transfer applies {sorted(_PREPARE)}, results.transfer_modes names "
        f"{sorted(TRANSFER_MODES)}: each mode needs both"
    )


def task_head(model: torch.nn.Module) -> list[str]:
    """The modules outside the pretrained body that own weights of their own (not tied to it)."""
    prefix = getattr(model, "base_model_prefix", "")
    body = {id(p) for name, child in model.named_children() if name == prefix
            for p in child.parameters()}  # fmt: skip
    return [
        name
        for name, child in model.named_children()
        if name != prefix and any(id(p) not in body for p in child.parameters())
    ]


def add_lora(model: torch.nn.Module, cfg: TrainConfig) -> None:
    """Freeze the (pruned) model and inject trainable LoRA adapters; the task head trains too.

    Target modules: `cfg.lora_targets`, else peft's default for the architecture (BERT and
    RoBERTa query/value, GPT-2 c_attn, LLaMA q_proj/v_proj, T5 q/v).
    """
    config = LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=list(cfg.lora_targets) if cfg.lora_targets else None,
        modules_to_save=task_head(model) or None,
    )
    try:
        inject_adapter_in_model(config, model)
    except ValueError as e:
        kind = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
        linear = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if _is_linear(m)})
        raise ValueError(
            f"lora on {kind}: {str(e).split('. ')[0]}; set train.lora_targets to some of: "
            + ", ".join(linear)
        ) from e


def _is_linear(module: torch.nn.Module) -> bool:
    return isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D"


def base_names(model: torch.nn.Module, names: list[str]) -> list[str]:
    """The model's names of the pruned tensors: LoRA moves `x.weight` to `x.base_layer.weight`."""
    params = dict(model.named_parameters())
    out = []
    for name in names:
        module, _, leaf = name.rpartition(".")
        out.append(name if name in params else f"{module}.base_layer.{leaf}")
    return out
