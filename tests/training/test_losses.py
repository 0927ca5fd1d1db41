"""Losses: the named losses through the trainer (class indices, sequences, bce, huber) and
custom loss callables."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnnkit.training import Trainer

from helpers import TinyLSTM, cfg, regression_data


def test_cross_entropy_with_class_indices_and_sequences() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 4, 3, generator=g)
    labels = (x[:, -1, 0] > 0).long()  # (B,)
    trainer = Trainer(TinyLSTM(3, 8, out=2), cfg(epochs=20, loss="cross_entropy"),
                      metrics={"acc": lambda p, t: float((p.argmax(-1) == t).float().mean())})
    h = trainer.fit((x, labels.numpy().astype(np.int32)), val_data=(x, labels))
    assert h["val_acc"][-1] > 0.8

    class Tagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(x)  # (B, T, C)

    tags = (x[..., 0] > 0).long()  # (B, T)
    h = Trainer(Tagger(), cfg(epochs=30, loss="cross_entropy", lr=0.1)).fit((x, tags))
    assert h["loss"][-1] < h["loss"][0]


def test_bce_and_huber_and_custom_loss() -> None:
    x, y = regression_data(32)
    h = Trainer(TinyLSTM(), cfg(loss="bce")).fit((x, (y > 0).float()))
    assert h["loss"][-1] < h["loss"][0]
    Trainer(TinyLSTM(), cfg(loss="huber", huber_delta=0.5)).fit((x, y))
    calls = []

    def my_loss(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        calls.append(p.shape)
        return ((p - t) ** 4).mean()

    trainer = Trainer(TinyLSTM(), cfg(epochs=1), loss=my_loss)
    trainer.fit((x, y))
    assert len(calls) == 2 and trainer.loss_name == "my_loss"
