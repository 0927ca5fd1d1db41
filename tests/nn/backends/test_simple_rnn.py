"""The SimpleRNN kernel (rnnkit.nn.backends.simple_rnn) against the reference loop, every
activation, option and mask layout, float64 and float32, gradcheck."""

from __future__ import annotations

import pytest
import torch
from kernel_builders import (
    MASKS,
    VARIANTS,
    H,
    I,
    KernelContract,
    assert_same,
    check_one_step_and_unused_outputs,
    inputs,
)

from rnnkit.errors import ConfigError
from rnnkit.nn import SimpleRNN, SimpleRNNCell
from rnnkit.nn.backends import run_bptt, unsupported_reason


class TestSimpleRNNKernel(KernelContract):
    NAMES = ('rnn_tanh', 'rnn_relu', 'rnn_elu')  # kernel_builders.CELLS
    LAYER = SimpleRNN
    LAYER_EXTRAS = ({"activation": "elu"},)


@pytest.mark.parametrize("name", ['rnn_tanh'])
def test_one_step_one_sequence_and_unused_outputs(name):
    check_one_step_and_unused_outputs(name)


@pytest.mark.parametrize("activation", ["sigmoid", "hard_tanh", "softsign", "identity",
                                        torch.tanh], ids=str)
@pytest.mark.parametrize("variant", ["plain", "all"])
def test_every_activation_equals_loop(activation, variant):
    torch.manual_seed(1)
    cell = SimpleRNNCell(I, H, activation=activation, **VARIANTS[variant]).double().train()
    x, state = inputs(cell, torch.float64)
    assert_same(cell, x, state, MASKS["ragged"], rtol=1e-9, atol=1e-10)


def test_a_custom_activation_is_named_and_refused():
    cell = SimpleRNNCell(2, 3, activation=lambda a: a * torch.sigmoid(a))
    reason = unsupported_reason(cell)
    assert reason is not None and reason.startswith("activation=")
    with pytest.raises(ConfigError, match="activation="):
        run_bptt(cell, torch.randn(1, 2, 2), cell.zero_state(1), None)
    # an equivalent callable from torch is recognized
    assert unsupported_reason(SimpleRNNCell(2, 3, activation=torch.nn.functional.relu)) is None
