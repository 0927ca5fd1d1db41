"""Trainer overhead over a bare PyTorch loop on the battery-lab shape.

A small LSTM on 800 windows of 20 steps, batch 32, 50 epochs with a validation pass each epoch:
the same work done by a hand-written loop and by ``rnnkit.training.Trainer`` (interleaved,
best of N). Prints a table and writes bench/results/trainer_overhead.json.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch
from torch import nn

from rnnkit.nn import LSTM
from rnnkit.training import Trainer, TrainerConfig

from _common import write_json  # bench/_common.py: this folder is on sys.path


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = LSTM(1, 50, num_layers=2, dropout=0.2, return_sequences=False)
        self.head = nn.Linear(50, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0])


def data() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1000, 20, 1, generator=g)
    y = x.sum(1)
    return x[:800], y[:800], x[800:], y[800:]


def bare(epochs: int) -> float:
    xtr, ytr, xva, yva = data()
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(800)
        xp, yp = xtr[perm], ytr[perm]
        for s in range(0, 800, 32):
            opt.zero_grad()
            nn.functional.mse_loss(model(xp[s : s + 32]), yp[s : s + 32]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            nn.functional.mse_loss(model(xva), yva).item()
    return time.perf_counter() - start


def with_trainer(epochs: int) -> float:
    xtr, ytr, xva, yva = data()
    torch.manual_seed(0)
    trainer = Trainer(Net(), TrainerConfig(epochs=epochs, batch_size=32, lr=1e-3, seed=0,
                                           device="cpu"))
    start = time.perf_counter()
    trainer.fit((xtr, ytr), val_data=(xva, yva))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/trainer_overhead.json"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    bare(1), with_trainer(1)  # warm-up: first optimizer import, oneDNN primitives
    t_bare, t_trainer = [], []
    for _ in range(args.repeats):  # interleaved
        t_bare.append(bare(args.epochs))
        t_trainer.append(with_trainer(args.epochs))
    b, t = min(t_bare), min(t_trainer)
    print(f"{'loop':<10}{'seconds':>10}\n{'bare':<10}{b:>10.3f}\n{'Trainer':<10}{t:>10.3f}\n"
          f"overhead: {100 * (t / b - 1):+.1f}%")
    write_json(args.out, {"machine": platform.processor() or platform.machine(),
                          "torch": torch.__version__, "epochs": args.epochs,
                          "bare_s": b, "trainer_s": t, "overhead": t / b - 1}, newline=False)


if __name__ == "__main__":
    main()
