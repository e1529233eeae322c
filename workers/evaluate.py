"""Evaluation: predictions on the evaluation set and the task's metrics."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import f1_score, matthews_corrcoef

from workers.train import autocast, batches


@torch.no_grad()
def predict(model: torch.nn.Module, data: dict[str, torch.Tensor], batch_size: int) -> np.ndarray:
    """Logits (or regression outputs) for every evaluation example, in order."""
    model.eval()
    device = next(model.parameters()).device
    order = torch.arange(len(data["labels"]))
    outputs = []
    for batch in batches(data, batch_size, order):
        batch.pop("labels")
        with autocast(device):
            logits = model(**{k: v.to(device) for k, v in batch.items()}).logits
        outputs.append(logits.float().cpu())
    return torch.cat(outputs).numpy()


def metrics(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Every metric that applies: classification (accuracy, f1, matthews) or regression."""
    if logits.shape[1] == 1:
        scores = logits[:, 0]
        return {"pearson": float(pearsonr(scores, labels)[0]),
                "spearman": float(spearmanr(scores, labels)[0])}  # fmt: skip
    predicted = logits.argmax(1)
    out = {
        "accuracy": float((predicted == labels).mean()),
        "matthews": float(matthews_corrcoef(labels, predicted)),
    }
    if logits.shape[1] == 2:
        out["f1"] = float(f1_score(labels, predicted))
    return out


def evaluate(model: torch.nn.Module, data: dict[str, torch.Tensor], metric: str,
             batch_size: int) -> tuple[str, float, dict[str, float]]:  # fmt: skip
    """(primary metric name, its value, all metrics) on the evaluation set."""
    values = metrics(predict(model, data, batch_size), data["labels"].numpy())
    return metric, values[metric], values
