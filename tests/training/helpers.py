"""Test helpers shared by the training tests: a tiny LSTM regressor, its data, a short
TrainerConfig and a trainer of a linear model with callbacks. Imported by bare name (tests/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rnnkit.training import Callback, Trainer, TrainerConfig


class TinyLSTM(nn.Module):
    """(B, T, F) -> (B, 1) from the last step."""

    def __init__(self, input_size: int = 2, hidden_size: int = 8, out: int = 1) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.lstm(x)  # (B, T, H)
        return self.head(y[:, -1])  # (B, out)


def regression_data(n: int = 64, t: int = 5, f: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """x (n, t, f) standard normal; y (n, 1) = 2 * x[:, -1, 0] - x[:, 0, -1]."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, t, f, generator=g)
    return x, x[:, -1, :1] * 2.0 - x[:, 0, -1:]


def cfg(**kw: Any) -> TrainerConfig:
    """A 3-epoch TrainerConfig (batches of 16, lr 1e-2, seed 0, CPU) updated with ``kw``."""
    base: dict[str, Any] = {"epochs": 3, "batch_size": 16, "lr": 1e-2, "seed": 0, "device": "cpu"}
    base.update(kw)
    return TrainerConfig(**base)


def trainer(epochs: int, callbacks: list[Callback], **kw: Any) -> Trainer:
    torch.manual_seed(0)
    config = TrainerConfig(epochs=epochs, batch_size=8, lr=0.01, seed=0, device="cpu", **kw)
    return Trainer(nn.Linear(3, 1), config, callbacks=callbacks)

