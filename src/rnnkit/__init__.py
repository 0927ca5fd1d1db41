"""rnnkit: recurrent neural networks (RNN, LSTM, GRU) for sequential data on PyTorch.

The layers of :mod:`rnnkit.nn` are re-exported here: ``rnnkit.LSTM`` is ``rnnkit.nn.LSTM``.
"""

from __future__ import annotations

__version__ = "0.1.0"

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
