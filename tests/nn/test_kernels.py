"""The kernel table: the runner dispatches on exact cell classes, never on isinstance."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn import GRUCell, LSTMCell, Recurrent, SimpleRNNCell, backends, fused
from rnnkit.nn.kernels import CellKernels, kernels_for, register_kernels


def test_each_builtin_cell_has_both_kernels() -> None:
    for cell, name in ((LSTMCell(2, 3), "LSTM_KERNEL"), (GRUCell(2, 3), "GRU_KERNEL"),
                       (SimpleRNNCell(2, 3), "SIMPLE_RNN_KERNEL")):
        assert kernels_for(cell) == CellKernels(torch=getattr(fused, name),
                                                rnnkit=getattr(backends, name))
    assert fused.LSTM_KERNEL.onednn and not fused.GRU_KERNEL.onednn


def test_a_subclass_is_not_served_and_runs_on_the_loop() -> None:
    class MyLSTMCell(LSTMCell):
        pass

    assert kernels_for(MyLSTMCell(2, 3)) == CellKernels()
    layer = Recurrent(MyLSTMCell, 2, 3)
    layer(torch.randn(2, 4, 2))
    assert layer.last_backend == "loop"
    with pytest.raises(ConfigError, match=r"backend: .*no fused kernel serves cell=MyLSTMCell"):
        Recurrent(MyLSTMCell, 2, 3, backend="fused")


def test_registering_a_kernel_serves_a_cell_of_ones_own() -> None:
    class MyGRUCell(GRUCell):
        pass

    register_kernels(MyGRUCell, rnnkit=backends.GRU_KERNEL)
    layer = Recurrent(MyGRUCell, 2, 3, backend="fused")
    layer(torch.randn(2, 4, 2))
    assert layer.last_backend == "rnnkit"
    with pytest.raises(ConfigError, match=r"cell_class: expected a RecurrentCell subclass"):
        register_kernels(int, rnnkit=backends.GRU_KERNEL)  # type: ignore[arg-type]
