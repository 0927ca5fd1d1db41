"""A Keras-like ``summary()`` of a model: layers, output shapes and parameter counts."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rnnkit.nn.heads import OutputHead
from rnnkit.nn.recurrent import Recurrent

__all__ = ["ModelSummary", "summary"]


@dataclass(frozen=True)
class ModelSummary:
    """Rows of (name, type, output shape, parameter count) and the totals."""

    rows: list[tuple[str, str, str, int]]
    total_params: int
    trainable_params: int

    def __str__(self) -> str:
        header = ("Layer", "Type", "Output Shape", "Param #")
        table = [header] + [(n, t, s, f"{p:,}") for n, t, s, p in self.rows]
        widths = [max(len(str(r[i])) for r in table) for i in range(4)]
        line = "-" * (sum(widths) + 6)
        out = [line]
        for k, r in enumerate(table):
            out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
            if k == 0:
                out.append("=" * len(line))
        out += [line, f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}"]
        return "\n".join(out)


def _shape(out) -> str:
    if isinstance(out, torch.Tensor):
        return str((None, *out.shape[1:]))
    if isinstance(out, (tuple, list)) and out:
        return _shape(out[0])
    return "?"


def summary(model: nn.Module, example_input: torch.Tensor, **forward_kwargs) -> ModelSummary:
    """Run ``model(example_input)`` once (in eval mode, no grad) and report each leaf layer
    (and each rnnkit recurrent layer as one row) with its output shape (batch as None) and
    parameter count."""
    rows: list[tuple[str, str, str, int]] = []
    hooks = []

    units = (Recurrent, OutputHead)  # reported as one row each

    def is_reported(m: nn.Module) -> bool:
        return isinstance(m, units) or (not list(m.children()) and m is not model)

    skip: set[int] = set()
    for m in model.modules():
        if isinstance(m, units):
            skip.update(id(c) for c in m.modules() if c is not m)
    for name, m in model.named_modules():
        if id(m) in skip or not is_reported(m):
            continue

        def hook(mod, _inp, out, name=name):
            n = sum(p.numel() for p in mod.parameters())
            rows.append((name, type(mod).__name__, _shape(out), n))

        hooks.append(m.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example_input, **forward_kwargs)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return ModelSummary(rows, total, trainable)
