"""The fine-tuning loop: AdamW, linear warmup/decay, gradient accumulation and clipping."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from transformers import get_scheduler

from workers.config import TrainConfig
from workers.transfer import Constraint


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the trial fails rather than record a meaningless metric."""


@dataclass(frozen=True)
class TrainStats:
    steps: int
    final_loss: float


def batches(data: dict[str, torch.Tensor], size: int, order: torch.Tensor):
    """Mini-batches in `order`, each trimmed to its longest sequence (padding costs compute)."""
    for start in range(0, len(order), size):
        index = order[start : start + size]
        batch = {k: v[index] for k, v in data.items()}
        if "attention_mask" in batch:
            width = int(batch["attention_mask"].sum(1).max())
            batch = {k: v[:, :width] if v.dim() == 2 else v for k, v in batch.items()}
        yield batch


def _no_decay(model: torch.nn.Module) -> set[int]:
    """Biases and normalisation weights are never decayed (as in run_glue)."""
    skip = set()
    for module in model.modules():
        is_norm = "norm" in type(module).__name__.lower()
        for name, p in module.named_parameters(recurse=False):
            if is_norm or name == "bias":
                skip.add(id(p))
    return skip


def train(
    model: torch.nn.Module,
    data: dict[str, torch.Tensor],
    cfg: TrainConfig,
    seed: int,
    after_step: Constraint = lambda: None,
) -> TrainStats:
    """Fine-tune `model` in place on `data`; `after_step` runs after every optimizer step."""
    device = next(model.parameters()).device
    params = [p for p in model.parameters() if p.requires_grad]
    skip = _no_decay(model)
    groups = [
        {"params": [p for p in params if id(p) not in skip], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if id(p) in skip], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    n = len(data["labels"])
    steps_per_epoch = math.ceil(n / (cfg.batch_size * cfg.grad_accum))
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    scheduler = get_scheduler("linear", optimizer, math.ceil(cfg.warmup_ratio * total), total)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"
                              and torch.cuda.is_bf16_supported())  # fmt: skip
    generator = torch.Generator().manual_seed(seed)
    model.train()
    step, micro, loss = 0, 0, torch.tensor(0.0)
    while step < total:
        for batch in batches(data, cfg.batch_size, torch.randperm(n, generator=generator)):
            with autocast:
                loss = model(**{k: v.to(device) for k, v in batch.items()}).loss
            if not torch.isfinite(loss):
                raise TrainingDiverged(f"training diverged: loss is {loss.item()} at step {step}")
            (loss / cfg.grad_accum).backward()
            micro += 1
            if micro % cfg.grad_accum:
                continue
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            after_step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step == total:
                break
    model.eval()
    return TrainStats(step, loss.item())
