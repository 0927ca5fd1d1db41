"""Every rnnkit cell and layer passes the one conformance checker; a broken one does not."""

import pytest
import torch

from rnnkit.nn import GRU, LSTM, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from rnnkit.testing import ConformanceError, check_cell, check_layer

CELL_OPTIONS = [
    {},
    {"layer_norm": True},
    {"recurrent_dropout": 0.2, "weight_drop": 0.2, "zoneout": 0.1},
]


@pytest.mark.parametrize("cell", [SimpleRNNCell, LSTMCell, GRUCell])
@pytest.mark.parametrize("options", CELL_OPTIONS)
def test_cells_conform(cell, options):
    check_cell(lambda: cell(3, 5, **options))


@pytest.mark.parametrize("layer", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("options", [
    {},
    {"num_layers": 2, "bidirectional": True, "dropout": 0.3},
    {"bidirectional": True, "merge_mode": "sum", "return_sequences": False},
    {"layer_norm": True, "zoneout": 0.1, "recurrent_dropout": 0.2, "weight_drop": 0.2},
])
def test_layers_conform(layer, options):
    check_layer(lambda: layer(3, 5, **options))


def test_parameter_count_check():
    check_cell(lambda: SimpleRNNCell(50, 128), expected_params=22_912)
    with pytest.raises(ConformanceError, match="parameter count: expected 1, got 22912"):
        check_cell(lambda: SimpleRNNCell(50, 128), expected_params=1)


def test_a_cell_that_leaks_padding_fails():
    class Leaky(SimpleRNN):
        def forward(self, x, state=None, *, lengths=None, mask=None):
            return super().forward(x, state)  # ignores the padding

    with pytest.raises(ConformanceError, match="padding invariance|padded outputs"):
        check_layer(lambda: Leaky(3, 4))


def test_a_cell_without_gradient_fails():
    class Frozen(SimpleRNNCell):
        def step(self, xp, state, w_hh, h_mask):
            return (torch.tanh(xp),)

    with pytest.raises(ConformanceError, match="weight_hh' received no gradient"):
        check_cell(lambda: Frozen(3, 4))
