"""rnnkit.training.protocol: the callback protocol (every hook a no-op taking
``(trainer, **context)``, no state, runs in list order unless ``runs_last``) and the
PassResult a loop returns."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.training import Callback
from rnnkit.training.protocol import PassResult

from helpers import trainer


def test_base_callback_is_all_no_ops() -> None:
    cb = Callback()
    t = trainer(1, [cb])
    for hook in ("on_fit_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_fit_end"):
        assert getattr(cb, hook)(t, anything=1) is None
    assert cb.state_dict() == {}
    assert t._batch_hooks == []  # a callback without on_batch_end costs nothing per batch



def test_base_callback_defaults() -> None:
    cb = Callback()
    assert Callback.runs_last is False
    assert repr(cb) == "Callback()"
    assert cb.load_state_dict({"anything": 1}) is None

    class Mine(Callback):
        pass

    assert repr(Mine()) == "Mine()"


def test_runs_last_callbacks_see_the_others_end_of_epoch() -> None:
    order: list[str] = []

    class Named(Callback):
        def __init__(self, name: str, last: bool = False) -> None:
            self.name = name
            self.runs_last = last

        def on_epoch_end(self, trainer: Any, **context: Any) -> None:
            order.append(self.name)

    t = trainer(1, [Named("checkpoint", last=True), Named("a"), Named("b")])
    t.fit((torch.randn(8, 3), torch.randn(8, 1)))
    assert order == ["a", "b", "checkpoint"]


def test_pass_result_fields() -> None:
    result = PassResult(loss_sum=torch.tensor(3.0), count=4, clipped=None, preds=[], targets=[])
    assert result._fields == ("loss_sum", "count", "clipped", "preds", "targets")
    loss_sum, count, *_ = result
    assert float(loss_sum) / count == 0.75
