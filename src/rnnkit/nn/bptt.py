"""Compatibility module: rnnkit's BPTT kernels moved to :mod:`rnnkit.nn.backends`.

Kept while recurrent.py imports ``from rnnkit.nn.bptt import run_bptt, unsupported_reason``;
new code imports from :mod:`rnnkit.nn.backends`.
"""

from rnnkit.nn.backends import (
    GRU_KERNEL,
    LSTM_KERNEL,
    SIMPLE_RNN_KERNEL,
    run_bptt,
    set_buffer_pool_limit,
    unsupported_reason,
)

__all__ = ["GRU_KERNEL", "LSTM_KERNEL", "SIMPLE_RNN_KERNEL", "run_bptt", "set_buffer_pool_limit",
           "unsupported_reason"]
