"""rnnkit: recurrent neural networks (RNN, LSTM, GRU) for sequential data on PyTorch.

The layers of :mod:`rnnkit.nn` are re-exported here: ``rnnkit.LSTM`` is ``rnnkit.nn.LSTM``.
They are imported on first use, so ``import rnnkit`` (and ``rnnkit --help``) does not import
torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from rnnkit.nn import (
        GRU,
        LSTM,
        GRUCell,
        LSTMCell,
        Recurrent,
        RecurrentCell,
        SimpleRNN,
        SimpleRNNCell,
    )
    from rnnkit.nn.heads import OutputHead
    from rnnkit.nn.spec import RecurrentSpec
    from rnnkit.nn.summary import summary

__all__ = [
    "GRU",
    "LSTM",
    "GRUCell",
    "LSTMCell",
    "OutputHead",
    "Recurrent",
    "RecurrentCell",
    "RecurrentSpec",
    "SimpleRNN",
    "SimpleRNNCell",
    "__version__",
    "summary",
]

_WHERE = {
    "GRU": "rnnkit.nn", "LSTM": "rnnkit.nn", "GRUCell": "rnnkit.nn", "LSTMCell": "rnnkit.nn",
    "Recurrent": "rnnkit.nn", "RecurrentCell": "rnnkit.nn", "SimpleRNN": "rnnkit.nn",
    "SimpleRNNCell": "rnnkit.nn", "OutputHead": "rnnkit.nn.heads",
    "RecurrentSpec": "rnnkit.nn.spec", "summary": "rnnkit.nn.summary",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
