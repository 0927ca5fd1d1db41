"""Truncated BPTT: segments, detached state carried across segments and batches, reset per
epoch, and the weights of a hand-written TBPTT loop."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from torch import nn

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.training import Trainer, TrainerConfig
from rnnkit.training.tbptt import detach_state, map_state, state_batch_size


class StatefulLSTM(nn.Module):
    """torch.nn.LSTM wrapped to the TBPTT protocol: forward(x, state=None) -> (output, state),
    with batch-first states (h, c), each (B, num_layers, H)."""

    def __init__(self, input_size: int = 2, hidden_size: int = 6, out: int = 1) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, out)
        self.seen: list[Any] = []  # the state each call received

    def forward(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        self.seen.append(state)
        hx = None if state is None else tuple(s.transpose(0, 1).contiguous() for s in state)
        y, (h, c) = self.lstm(x, hx)  # y: (B, k, H); h, c: (layers, B, H)
        return self.head(y), (h.transpose(0, 1), c.transpose(0, 1))  # (B, k, out), (B, layers, H)


def stream(n: int = 4, t: int = 12, f: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(n, t, f, generator=torch.Generator().manual_seed(0))
    y = torch.cumsum(x[..., :1], dim=1) * 0.1  # (N, T, 1): depends on the whole past
    return x, y


def config(**kw: Any) -> TrainerConfig:
    base: dict[str, Any] = {"epochs": 2, "batch_size": 4, "lr": 0.01, "shuffle": False,
                            "tbptt_steps": 5, "seed": 0, "device": "cpu", "optimizer": "sgd",
                            "momentum": 0.0}
    base.update(kw)
    return TrainerConfig(**base)


def test_segments_state_carry_and_reset() -> None:
    x, y = stream(n=8, t=12)  # 2 batches of 4 rows, segments of 5, 5, 2 steps
    model = StatefulLSTM()
    trainer = Trainer(model, config(epochs=2))
    trainer.fit((x, y))
    seen = model.seen
    assert len(seen) == 2 * 2 * 3  # epochs x batches x segments
    for epoch in range(2):
        calls = seen[epoch * 6:(epoch + 1) * 6]
        assert calls[0] is None  # reset at every epoch boundary
        for state in calls[1:]:  # carried across segments and across the batch boundary
            assert state is not None
            assert all(not s.requires_grad for s in state)  # detached
            assert state[0].shape == (4, 1, 6)


def test_state_passed_on_is_the_previous_final_state() -> None:
    x, y = stream(n=4, t=10)
    model = StatefulLSTM()
    trainer = Trainer(model, config(epochs=1, lr=1e-12))  # weights ~fixed
    trainer.fit((x, y))
    # recompute the state after the first segment with the initial weights
    with torch.no_grad():
        _, (h, c) = model(x[:, :5])
    torch.testing.assert_close(model.seen[1][0], h, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model.seen[1][1], c, rtol=1e-5, atol=1e-6)


def test_prediction_over_segments_equals_one_full_pass() -> None:
    x, y = stream(n=3, t=13)
    model = StatefulLSTM()
    pred = Trainer(model, config(tbptt_steps=4, batch_size=3)).predict(x)  # 4 segments
    model.eval()
    with torch.no_grad():
        full, _ = model(x)
    assert pred.shape == (3, 13, 1)
    torch.testing.assert_close(pred, full, rtol=1e-5, atol=1e-6)


def test_the_next_batch_continues_the_stream() -> None:
    """Row i of batch 2 continues row i of batch 1 (the stateful convention)."""
    x, _ = stream(n=6, t=5)
    model = StatefulLSTM()
    pred = Trainer(model, config(tbptt_steps=2, batch_size=3)).predict(x)
    model.eval()
    with torch.no_grad():
        joined, _ = model(torch.cat([x[:3], x[3:]], dim=1))  # (3, 10, 1)
    torch.testing.assert_close(pred[:3], joined[:, :5], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(pred[3:], joined[:, 5:], rtol=1e-5, atol=1e-6)


def test_training_matches_a_hand_written_tbptt_loop() -> None:
    x, y = stream(n=4, t=11)
    torch.manual_seed(0)
    model = StatefulLSTM()
    reference = copy.deepcopy(model)
    Trainer(model, config(epochs=2, tbptt_steps=3, clipnorm=0.5, lr=0.1)).fit((x, y))

    opt = torch.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(2):
        state = None
        for t in range(0, 11, 3):
            opt.zero_grad()
            out, state = reference(x[:, t:t + 3], state)
            nn.functional.mse_loss(out, y[:, t:t + 3]).backward()
            nn.utils.clip_grad_norm_(reference.parameters(), 0.5)
            opt.step()
            state = tuple(s.detach() for s in state)
    for (name, a), (_, b) in zip(model.state_dict().items(), reference.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_epoch_loss_weights_segments_by_steps() -> None:
    x, y = stream(n=4, t=7)  # segments of 5 and 2 steps
    model = StatefulLSTM()
    trainer = Trainer(model, config(epochs=1, lr=1e-12))
    with torch.no_grad():
        full, _ = model(x)
    expected = nn.functional.mse_loss(full, y).item()  # the mean over all B*T steps
    h = trainer.fit((x, y), val_data=(x, y))
    assert h["loss"][0] == pytest.approx(expected, rel=1e-4)
    assert h["val_loss"][0] == pytest.approx(expected, rel=1e-4)
    assert trainer.evaluate((x, y))["loss"] == pytest.approx(expected, rel=1e-4)


def test_smaller_last_batch_continues_the_first_rows() -> None:
    x, y = stream(n=6, t=4)  # batches of 4 and 2 rows; one segment each
    model = StatefulLSTM()
    Trainer(model, config(epochs=1, tbptt_steps=4, lr=1e-12)).fit((x, y))
    first, second = model.seen[0], model.seen[1]
    assert first is None and second[0].shape == (2, 1, 6)


def test_tbptt_learns_a_long_dependency() -> None:
    x, y = stream(n=8, t=40)
    trainer = Trainer(StatefulLSTM(hidden_size=8), config(epochs=30, optimizer="adam",
                                                          momentum=None, lr=0.02, tbptt_steps=8))
    h = trainer.fit((x, y))
    assert h["loss"][-1] < 0.5 * h["loss"][0]


def test_tbptt_errors() -> None:
    x, y = stream()

    class NoState(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 1)

        def forward(self, x: torch.Tensor, state: Any = None) -> torch.Tensor:
            return self.lin(x)

    with pytest.raises(ConfigError, match=r"model: expected forward\(x, state=...\) returning \(output, new_state\)"):
        Trainer(NoState(), config()).fit((x, y))
    with pytest.raises(ShapeError, match=r"y: expected per-step targets starting with \(4, 12\), got \(4, 1\)"):
        Trainer(StatefulLSTM(), config()).fit((x, y[:, -1]))
    with pytest.raises(ShapeError, match=r"X: expected a \(batch, T, features\) stream, got \(4, 12\)"):
        Trainer(StatefulLSTM(), config()).fit((x[..., 0], y))

    class WithLengths(StatefulLSTM):
        def forward(self, x: torch.Tensor, state: Any = None, lengths: Any = None) -> Any:  # type: ignore[override]
            return super().forward(x, state)

    with pytest.raises(DataError, match=r"expected \(X, y\) streams in TBPTT mode"):
        Trainer(WithLengths(), config()).fit((x, y, torch.full((4,), 12)))
    with pytest.raises(ConfigError, match="shuffle: expected False with tbptt_steps"):
        TrainerConfig(tbptt_steps=5)


def test_state_helpers() -> None:
    state = (torch.ones(3, 2, requires_grad=True) * 2, [torch.zeros(3, 1)])
    detached = detach_state(state)
    assert isinstance(detached, tuple) and isinstance(detached[1], list)
    assert not detached[0].requires_grad
    assert state_batch_size(state) == 3 and state_batch_size(None) is None
    assert map_state(lambda s: s[:1], state)[1][0].shape == (1, 1)
    with pytest.raises(ConfigError, match="state: expected a tensor or a .* got 'str'"):
        detach_state("h")
