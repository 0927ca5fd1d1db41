"""The standard epoch loop: a fixed number of host syncs per epoch, validation in eval mode,
the thread count held during fit; outputs of differing lengths concatenated with padding."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import torch
from torch import nn

from rnnkit.training import Callback, Trainer, TrainerConfig
from rnnkit.training.loop import concat_outputs

from helpers import TinyLSTM, cfg, regression_data


def count_syncs(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count tensor-to-Python conversions made by rnnkit code (torch's own, such as the CPU
    step counter of Adam, are not device syncs)."""
    counts = {"n": 0}
    for name in ("item", "tolist", "__float__", "__int__", "__bool__"):
        original = getattr(torch.Tensor, name)

        def wrapper(self: torch.Tensor, *a: Any, _o: Any = original, **k: Any) -> Any:
            if sys._getframe(1).f_globals.get("__name__", "").startswith("rnnkit"):
                counts["n"] += 1
            return _o(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, wrapper)
    return counts


def test_host_syncs_do_not_grow_with_the_number_of_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Losses and clip counts accumulate on the device: a fixed number of syncs per epoch."""
    x, y = regression_data(64)
    per_run = []
    for batch_size in (32, 4):  # 2 vs 16 batches per epoch
        trainer = Trainer(TinyLSTM(), cfg(epochs=2, batch_size=batch_size, clipnorm=0.5,
                                          clipvalue=0.5, eval_batch_size=64))
        counts = count_syncs(monkeypatch)
        trainer.fit((x, y), val_data=(x, y))
        per_run.append(counts["n"])
        monkeypatch.undo()
    # 4 finiteness checks of the data, then 2 per epoch (train loss + clip count, val loss)
    assert per_run[0] == per_run[1] == 4 + 2 * 2


def test_validation_runs_in_eval_mode() -> None:
    """Dropout is off in the validation pass: val_loss equals evaluate() on the same data."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.9), nn.Linear(6, 1))
    x, y = torch.randn(40, 3, 2), torch.randn(40, 1)
    trainer = Trainer(model, TrainerConfig(epochs=1, batch_size=8, lr=1e-12, seed=0,
                                           device="cpu"))
    history = trainer.fit((x, y), val_data=(x, y))
    assert model.training  # the training mode is restored after validation
    assert history["val_loss"][0] == pytest.approx(trainer.evaluate((x, y))["loss"], rel=1e-6)


def test_num_threads_holds_during_fit_and_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2
    seen: list[int] = []

    class Threads(Callback):
        def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
            seen.append(torch.get_num_threads())

    x, y = regression_data(32)
    Trainer(TinyLSTM(), cfg(epochs=2, num_threads=want), callbacks=[Threads()]).fit((x, y))
    assert seen == [want, want] and torch.get_num_threads() == before

    class Boom(Callback):
        def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Trainer(TinyLSTM(), cfg(num_threads=want), callbacks=[Boom()]).fit((x, y))
    assert torch.get_num_threads() == before  # restored when fit leaves on an exception
    seen.clear()
    Trainer(TinyLSTM(), cfg(epochs=1), callbacks=[Threads()]).fit((x, y))
    assert seen == [before]  # None leaves torch's setting alone


def test_concat_outputs_pads_differing_lengths() -> None:
    floats = concat_outputs([torch.ones(2, 3), torch.ones(1, 2)])  # (3, 3)
    assert floats.shape == (3, 3) and torch.isnan(floats[2, 2])
    ints = concat_outputs([torch.ones(1, 1, dtype=torch.long), torch.ones(1, 2, dtype=torch.long)])
    assert ints.tolist() == [[1, 0], [1, 1]]
    assert concat_outputs([]).numel() == 0
