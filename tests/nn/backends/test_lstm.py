"""The LSTM kernel (rnnkit.nn.backends.lstm) against the reference loop, every option
and mask layout, float64 and float32, gradcheck."""

from __future__ import annotations

import pytest
from kernel_builders import (
    KernelContract,
    check_one_step_and_unused_outputs,
)

from rnnkit.nn import LSTM


class TestLSTMKernel(KernelContract):
    NAMES = ('lstm',)  # kernel_builders.CELLS
    LAYER = LSTM
    LAYER_EXTRAS = ({},)


@pytest.mark.parametrize("name", ['lstm'])
def test_one_step_one_sequence_and_unused_outputs(name):
    check_one_step_and_unused_outputs(name)
