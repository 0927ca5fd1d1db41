"""rnnkit: recurrent neural networks (RNN, LSTM, GRU) for sequential data on PyTorch."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
