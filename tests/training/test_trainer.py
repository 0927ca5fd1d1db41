"""Trainer: data forms, metrics, clipping, callbacks and arguments.

TrainerConfig validation is tested in test_config.py, the losses in test_losses.py, the
optimizers in test_optimizers.py, the epoch loop (syncs, eval mode, threads) in test_loop.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.training import Callback, Trainer

from helpers import TinyLSTM, cfg, regression_data


def losses(history: Any) -> list[float]:
    return history["loss"]


# -- fitting ----------------------------------------------------------------------------------
def test_fit_learns_and_records_history() -> None:
    x, y = regression_data(128)
    torch.manual_seed(0)
    trainer = Trainer(TinyLSTM(), cfg(epochs=15))
    h = trainer.fit((x[:96], y[:96]), val_data=(x[96:], y[96:]))
    assert len(h) == 15 and h["epoch"] == list(range(1, 16))
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert h["val_loss"][-1] < h["val_loss"][0]
    row = h[-1]
    assert set(row) == {"epoch", "loss", "val_loss", "lr", "clipped_steps", "epoch_time"}
    assert row["lr"] == pytest.approx(1e-2) and row["clipped_steps"] == 0
    assert trainer.epoch == 15


def test_epoch_loss_is_the_mean_over_rows() -> None:
    """With lr tiny the weights barely move, so the epoch loss equals the full-data loss."""
    x, y = regression_data(50)  # batches of 16, 16, 16, 2: weighting by rows matters
    trainer = Trainer(TinyLSTM(), cfg(epochs=1, lr=1e-12, optimizer="sgd", momentum=0.0))
    expected = nn.functional.mse_loss(trainer.model(x), y).item()
    h = trainer.fit((x, y))
    assert h["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_evaluate_and_predict_match_the_model() -> None:
    x, y = regression_data(40)
    trainer = Trainer(TinyLSTM(), cfg(eval_batch_size=7))
    trainer.fit((x, y))
    trainer.model.eval()
    with torch.no_grad():
        ref = trainer.model(x)
    pred = trainer.predict(x)
    torch.testing.assert_close(pred, ref)
    torch.testing.assert_close(trainer.predict((x, y)), ref)
    assert trainer.evaluate((x, y))["loss"] == pytest.approx(nn.functional.mse_loss(ref, y).item(), rel=1e-5)
    # predict and evaluate restore the mode they found
    trainer.model.train()
    trainer.predict(x)
    assert trainer.model.training
    trainer.model.eval()
    trainer.evaluate((x, y))
    assert not trainer.model.training


def test_in_memory_dataset_and_loader_give_the_same_run_without_shuffle() -> None:
    x, y = regression_data(48)
    runs = []
    for data in [(x, y), (x.numpy().astype(np.float64), y.numpy()), TensorDataset(x, y),
                 DataLoader(TensorDataset(x, y), batch_size=16)]:
        torch.manual_seed(0)
        trainer = Trainer(TinyLSTM(), cfg(shuffle=False))
        runs.append(losses(trainer.fit(data)))
    for other in runs[1:]:
        assert other == pytest.approx(runs[0], rel=1e-6)


def test_shuffled_dataset_is_reproducible() -> None:
    x, y = regression_data(48)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        runs.append(losses(Trainer(TinyLSTM(), cfg()).fit(TensorDataset(x, y))))
    assert runs[0] == runs[1]


class LengthsRecorder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 1)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        assert lengths is not None
        self.seen.append(lengths)
        idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, x.shape[2])  # (B, 1, F)
        return self.lin(x.gather(1, idx).squeeze(1))  # last valid step -> (B, 1)


def test_lengths_are_passed_with_their_rows() -> None:
    x, y = regression_data(20)
    lengths = torch.arange(20) % 5 + 1
    model = LengthsRecorder()
    trainer = Trainer(model, cfg(epochs=1, batch_size=8, shuffle=False))
    trainer.fit((x, y, lengths))
    torch.testing.assert_close(torch.cat(model.seen), lengths)
    model.seen.clear()
    trainer.predict(x, lengths=lengths)
    torch.testing.assert_close(torch.cat(model.seen), lengths)


def test_lengths_for_a_model_without_lengths_is_an_error() -> None:
    x, y = regression_data(8)
    with pytest.raises(DataError, match=r"train_data: expected \(X, y\) for TinyLSTM.*lengths="):
        Trainer(TinyLSTM(), cfg()).fit((x, y, torch.full((8,), 5)))


def test_bad_lengths_values() -> None:
    x, y = regression_data(8)
    with pytest.raises(DataError, match=r"lengths: expected values in \[1, 5\]"):
        Trainer(LengthsRecorder(), cfg()).fit((x, y, torch.full((8,), 9)))


def test_model_returning_output_and_state() -> None:
    class WithState(TinyLSTM):
        def forward(self, x: torch.Tensor) -> Any:  # type: ignore[override]
            y, state = self.lstm(x)
            return self.head(y[:, -1]), state

    x, y = regression_data(16)
    trainer = Trainer(WithState(), cfg(epochs=1))
    trainer.fit((x, y))
    assert trainer.predict(x).shape == (16, 1)


def test_data_errors() -> None:
    x, y = regression_data(8)
    trainer = Trainer(TinyLSTM(), cfg())
    with pytest.raises(ShapeError, match=r"train_data y: expected 8 rows like X, got \(7, 1\)"):
        trainer.fit((x, y[:7]))
    with pytest.raises(DataError, match=r"expected a tuple .* got \('Tensor', 'Tensor', 'Tensor', 'Tensor'\)"):
        trainer.fit((x, y, y, y))
    with pytest.raises(DataError, match="expected .*Dataset or a DataLoader, got 'dict'"):
        trainer.fit({"x": x})
    bad = x.clone()
    bad[0, 0, 0] = math.nan
    with pytest.raises(ShapeError, match="train_data X: expected finite values"):
        trainer.fit((bad, y))
    with pytest.raises(ShapeError, match=r"loss='mse' targets: expected the prediction's shape \(8, 1\), got \(8,\)"):
        trainer.fit((x, y[:, 0]))


# -- metrics ----------------------------------------------------------------------------------
def test_metric_argument_order() -> None:
    """Positional metrics get (y_pred, y_true); y_true/y_pred-named metrics get keywords."""
    seen: dict[str, Any] = {}

    def positional(a: torch.Tensor, b: torch.Tensor) -> float:
        seen["positional"] = (a, b)
        return 0.0

    def sklearn_style(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
        seen["named"] = (y_true, y_pred)
        return 1.0

    x, y = regression_data(16)
    trainer = Trainer(TinyLSTM(), cfg(epochs=1), metrics={"p": positional, "n": sklearn_style})
    out = trainer.evaluate((x, y))
    assert out["p"] == 0.0 and out["n"] == 1.0
    torch.testing.assert_close(seen["positional"][1], y)
    torch.testing.assert_close(seen["named"][0], y)
    assert seen["named"][0].device.type == "cpu"


def test_train_metrics_flag() -> None:
    x, y = regression_data(16)
    mae = {"mae": lambda p, t: float((p - t).abs().mean())}
    h = Trainer(TinyLSTM(), cfg(train_metrics=True), metrics=mae).fit((x, y), val_data=(x, y))
    assert {"mae", "val_mae"} <= set(h[-1])
    h = Trainer(TinyLSTM(), cfg(), metrics=mae).fit((x, y), val_data=(x, y))
    assert "mae" not in h[-1] and "val_mae" in h[-1]


# -- clipping ---------------------------------------------------------------------------------
def scalar_model() -> nn.Module:
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.zero_()
    return model


# batch_size=1, x=1, w=0: mse gradient of batch i is 2 * (0 - y_i) = -2 y_i.
CLIP_Y = torch.tensor([[10.0], [0.1], [5.0], [0.2], [-3.0]])  # |grad| = 20, 0.2, 10, 0.4, 6


@pytest.mark.parametrize("kind", ["clipnorm", "clipvalue"])
def test_clipped_steps_are_counted(kind: str) -> None:
    x = torch.ones(5, 1)
    # lr so small that w stays ~0 and every gradient is the constructed one
    trainer = Trainer(scalar_model(), cfg(epochs=2, batch_size=1, shuffle=False, optimizer="sgd",
                                          momentum=0.0, lr=1e-9, **{kind: 1.0}))
    h = trainer.fit((x, CLIP_Y))
    assert h["clipped_steps"] == [3, 3]  # 20, 10 and 6 exceed 1; 0.2 and 0.4 do not


def test_clipping_bounds_the_update() -> None:
    x = torch.ones(1, 1)
    y = torch.tensor([[10.0]])  # grad -20
    for kind, expected_w in [("clipvalue", 1.0), ("clipnorm", 1.0), (None, 20.0)]:
        extra = {kind: 1.0} if kind else {}
        trainer = Trainer(scalar_model(), cfg(epochs=1, batch_size=1, optimizer="sgd", momentum=0.0,
                                              lr=1.0, **extra))
        trainer.fit((x, y))
        assert trainer.model.weight.item() == pytest.approx(expected_w, rel=1e-5)


def test_both_clips_count_a_step_once() -> None:
    x = torch.ones(5, 1)
    trainer = Trainer(scalar_model(), cfg(epochs=1, batch_size=1, shuffle=False, optimizer="sgd",
                                          momentum=0.0, lr=1e-9, clipvalue=8.0, clipnorm=5.0))
    # value clip at 8 catches 20 and 10; the norm clip at 5 then catches those and 6
    assert trainer.fit((x, CLIP_Y))["clipped_steps"] == [3]


# -- callbacks plumbing -----------------------------------------------------------------------
class Recorder(Callback):
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def on_fit_begin(self, trainer: Trainer, **context: Any) -> None:
        self.calls.append(("fit_begin", context))

    def on_epoch_begin(self, trainer: Trainer, **context: Any) -> None:
        self.calls.append(("epoch_begin", context))

    def on_batch_end(self, trainer: Trainer, **context: Any) -> None:
        self.calls.append(("batch_end", context))

    def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
        self.calls.append(("epoch_end", context))

    def on_fit_end(self, trainer: Trainer, **context: Any) -> None:
        self.calls.append(("fit_end", context))


def test_hook_order_and_context() -> None:
    x, y = regression_data(40)
    rec = Recorder()
    Trainer(TinyLSTM(), cfg(epochs=2), callbacks=[rec]).fit((x, y))
    names = [n for n, _ in rec.calls]
    per_epoch = ["epoch_begin", "batch_end", "batch_end", "batch_end", "epoch_end"]
    assert names == ["fit_begin", *per_epoch, *per_epoch, "fit_end"]
    assert rec.calls[0][1] == {"start_epoch": 0, "epochs": 2, "resumed": False}
    assert rec.calls[1][1] == {"epoch": 1, "n_batches": 3}
    batch = rec.calls[2][1]
    assert batch["batch"] == 0 and batch["batch_size"] == 16 and batch["loss"].ndim == 0
    assert rec.calls[-1][1] == {"completed": True}
    assert rec.calls[-2][1]["logs"]["epoch"] == 2


def test_callback_stops_training_with_a_flag() -> None:
    class StopAt2(Callback):
        def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
            if context["epoch"] == 2:
                trainer.stop_training = True

    x, y = regression_data(16)
    h = Trainer(TinyLSTM(), cfg(epochs=10), callbacks=[StopAt2()]).fit((x, y))
    assert len(h) == 2


def test_fit_end_runs_when_fit_raises() -> None:
    class Boom(Callback):
        def on_epoch_begin(self, trainer: Trainer, **context: Any) -> None:
            raise RuntimeError("boom")

    rec = Recorder()
    x, y = regression_data(16)
    with pytest.raises(RuntimeError, match="boom"):
        Trainer(TinyLSTM(), cfg(), callbacks=[rec, Boom()]).fit((x, y))
    assert rec.calls[-1] == ("fit_end", {"completed": False})


def test_second_fit_continues_weights_with_fresh_history() -> None:
    x, y = regression_data(32)
    trainer = Trainer(TinyLSTM(), cfg(epochs=3))
    first = trainer.fit((x, y))["loss"]
    second = trainer.fit((x, y))["loss"]
    assert len(second) == 3 and second[0] < first[0]


# -- trainer arguments, optimizers, precision -------------------------------------------------
def test_trainer_argument_errors() -> None:
    with pytest.raises(ConfigError, match="model: expected a torch.nn.Module, got 'str'"):
        Trainer("lstm", cfg())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="config: expected a TrainerConfig, got 'dict'"):
        Trainer(TinyLSTM(), {"epochs": 3})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"mixed_precision: expected None on device 'cpu', got 'bf16'"):
        Trainer(TinyLSTM(), cfg(mixed_precision="bf16"))
    with pytest.raises(ConfigError, match=r"metrics: expected names other than \['epoch', 'loss', .*got 'loss'"):
        Trainer(TinyLSTM(), cfg(), metrics={"loss": lambda p, t: 0.0})
    with pytest.raises(ConfigError, match=r"callbacks\[0\]: expected a rnnkit Callback instance, got 'function'"):
        Trainer(TinyLSTM(), cfg(), callbacks=[lambda: None])  # type: ignore[list-item]
    frozen = TinyLSTM().requires_grad_(False)
    with pytest.raises(ConfigError, match="expected a module with trainable parameters"):
        Trainer(frozen, cfg())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="mixed precision needs CUDA")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_on_cuda(precision: str) -> None:
    x, y = regression_data(64)
    trainer = Trainer(TinyLSTM(), cfg(device="cuda", mixed_precision=precision, epochs=5, clipnorm=1.0))
    h = trainer.fit((x, y), val_data=(x, y))
    assert all(math.isfinite(v) for v in h["loss"]) and h["loss"][-1] < h["loss"][0]
    assert (trainer.scaler is not None) == (precision == "fp16")
