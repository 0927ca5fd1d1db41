"""The GRU kernel (rnnkit.nn.backends.gru), both forms (reset_after=True, and the Cho
form reset_after=False), against the reference loop, every option and mask layout, float64
and float32, gradcheck."""

from __future__ import annotations

import pytest
from kernel_builders import (
    KernelContract,
    check_one_step_and_unused_outputs,
)

from rnnkit.nn import GRU


class TestGRUKernel(KernelContract):
    NAMES = ('gru', 'gru_cho')  # kernel_builders.CELLS
    LAYER = GRU
    LAYER_EXTRAS = ({}, {"reset_after": False})


@pytest.mark.parametrize("name", ['gru', 'gru_cho'])
def test_one_step_one_sequence_and_unused_outputs(name):
    check_one_step_and_unused_outputs(name)
