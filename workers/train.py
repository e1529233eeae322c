"""The fine-tuning loop: AdamW, linear warmup/decay, gradient accumulation and clipping."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from transformers import get_scheduler

from workers import checkpoint as ckpt
from workers.config import TrainConfig
from workers.transfer import Constraint


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the trial fails rather than record a meaningless metric."""


@dataclass(frozen=True)
class TrainStats:
    steps: int
    final_loss: float
    best_epoch: int | None = None  # with a per-epoch score: the epoch whose weights were kept


def batches(data: dict[str, torch.Tensor], size: int, order: torch.Tensor):
    """Mini-batches in `order`, each trimmed to its longest sequence (padding costs compute)."""
    for start in range(0, len(order), size):
        index = order[start : start + size]
        batch = {k: v[index] for k, v in data.items()}
        if "attention_mask" in batch:
            width = int(batch["attention_mask"].sum(1).max())
            batch = {k: v[:, :width] if v.dim() == 2 else v for k, v in batch.items()}
        yield batch


def autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast on a CUDA device that supports it; everything else (CPU) stays fp32."""
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Trainable parameters; biases and normalisation weights are never decayed (as in run_glue)."""
    skip = set()
    for module in model.modules():
        is_norm = "norm" in type(module).__name__.lower()
        for name, p in module.named_parameters(recurse=False):
            if is_norm or name == "bias":
                skip.add(id(p))
    params = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in params if id(p) not in skip], "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) in skip], "weight_decay": 0.0},
    ]


def train(
    model: torch.nn.Module,
    data: dict[str, torch.Tensor],
    cfg: TrainConfig,
    seed: int,
    after_step: Constraint = lambda: None,
    score: Callable[[], float] | None = None,
    checkpoint: str | None = None,
) -> TrainStats:
    """Fine-tune `model` in place on `data`; `after_step` runs after every optimizer step.

    With `score` (the evaluation metric, higher is better) the model is scored after every epoch
    and the best epoch's weights are kept, like run_glue's `load_best_model_at_end`. With
    `checkpoint` (a location) the state is saved there after every epoch and, if one is there
    already, training resumes from it: the result is bit for bit that of an uninterrupted run.
    """
    torch.manual_seed(seed)  # dropout: the same trial gives the same numbers
    device = next(model.parameters()).device
    groups = _param_groups(model, cfg.weight_decay)
    params = [p for group in groups for p in group["params"]]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    n = len(data["labels"])
    per_epoch = math.ceil(n / cfg.batch_size)  # micro-batches; an epoch ends with a step
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * math.ceil(per_epoch / cfg.grad_accum)))
    scheduler = get_scheduler("linear", optimizer, math.ceil(cfg.warmup_ratio * total), total)
    generator = torch.Generator().manual_seed(seed)
    step, epoch, loss = 0, 0, torch.tensor(0.0)
    best_value, best_epoch, best_weights = -math.inf, None, None
    state = ckpt.load(checkpoint) if checkpoint else None
    if state is not None:
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        ckpt.restore_rng(state["rng"], device, checkpoint)
        step, epoch, loss = state["step"], state["epoch"], torch.tensor(state["loss"])
        best_value, best_epoch = state["best_value"], state["best_epoch"]
        if state["best_weights"] is not None:  # the frozen rest is the same in every epoch
            best_weights = {k: v.to("cpu", copy=True) for k, v in model.state_dict().items()}
            best_weights.update(state["best_weights"])
    while step < total:
        model.train()
        order = torch.randperm(n, generator=generator)
        for i, batch in enumerate(batches(data, cfg.batch_size, order), 1):
            with autocast(device):
                loss = model(**{k: v.to(device) for k, v in batch.items()}).loss
            if not torch.isfinite(loss):
                raise TrainingDiverged(f"training diverged: loss is {loss.item()} at step {step}")
            (loss / cfg.grad_accum).backward()
            if i % cfg.grad_accum and i < per_epoch:
                continue
            norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            if not torch.isfinite(norm):  # the step would write NaN into the weights
                raise TrainingDiverged(
                    f"training diverged: gradient norm is {norm.item()} at step {step}"
                )
            optimizer.step()
            after_step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step == total:
                break
        epoch += 1
        if score is not None:
            value = score()
            value = -math.inf if math.isnan(value) else value  # e.g. constant predictions
            if best_epoch is None or value > best_value:
                best_value, best_epoch = value, epoch
                best_weights = {k: v.to("cpu", copy=True) for k, v in model.state_dict().items()}
        if checkpoint:
            trains = ckpt.trainable(model)
            ckpt.save(
                checkpoint,
                {
                    "model": trains,
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "generator": generator.get_state(),
                    "rng": ckpt.rng_state(device),
                    "step": step,
                    "epoch": epoch,
                    "loss": loss.item(),
                    "best_value": best_value,
                    "best_epoch": best_epoch,
                    "best_weights": None
                    if best_weights is None
                    else {k: best_weights[k] for k in trains},
                },
            )
    if best_weights is not None and best_epoch != epoch:
        model.load_state_dict(best_weights)
    model.eval()
    return TrainStats(step, loss.item(), best_epoch)
