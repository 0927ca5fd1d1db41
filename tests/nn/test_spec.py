"""rnnkit.nn.spec: RecurrentSpec builds the layer it describes (each cell's own arguments
included), knows its output size, round trips through a dict and refuses an unknown cell."""

import json

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn import GRU, LSTM, SimpleRNN
from rnnkit.nn.spec import CELLS, RecurrentSpec


@pytest.mark.parametrize("cell,cls", [("lstm", LSTM), ("gru", GRU), ("rnn", SimpleRNN)])
def test_build_makes_the_layer_of_each_cell(cell, cls):
    layer = RecurrentSpec(cell=cell, hidden_size=6, num_layers=2, dropout=0.1,
                          bidirectional=True, zoneout=0.1, backend="loop").build(3)
    assert type(layer) is cls and CELLS[cell] is cls
    assert (layer.input_size, layer.hidden_size, layer.num_layers) == (3, 6, 2)
    assert layer.num_directions == 2 and layer.backend == "loop"
    assert len(layer.cells) == 4 and all(c.zoneout == 0.1 for c in layer.cells)
    assert layer.cells[2].input_size == 12  # the second layer reads both directions


def test_build_passes_each_cells_own_arguments_and_the_overrides():
    rnn = RecurrentSpec(cell="rnn", activation="relu").build(2)
    assert rnn.cells[0].activation_name == "relu"
    lstm = RecurrentSpec(cell="lstm", hidden_size=4, unit_forget_bias=False).build(2)
    assert torch.equal(lstm.cells[0].bias.detach(), torch.zeros(16))  # no forget bias 1
    gru = RecurrentSpec(cell="gru", reset_after=False, recurrent_init="identity").build(2)
    assert not gru.cells[0].reset_after and not hasattr(gru.cells[0], "recurrent_bias")
    assert torch.equal(gru.cells[0].weight_hh.detach()[:50], torch.eye(50))
    last = RecurrentSpec(hidden_size=5).build(2, return_sequences=False)
    assert last(torch.randn(3, 4, 2))[0].shape == (3, 5)


@pytest.mark.parametrize("bidirectional,merge_mode,size", [
    (False, "concat", 7), (True, "concat", 14), (True, "sum", 7), (True, "mul", 7)])
def test_output_size_is_the_built_layers(bidirectional, merge_mode, size):
    spec = RecurrentSpec(cell="gru", hidden_size=7, bidirectional=bidirectional,
                         merge_mode=merge_mode)
    assert spec.output_size == size
    assert spec.build(3)(torch.randn(2, 4, 3))[0].shape == (2, 4, size)


def test_round_trip_through_a_dict_and_json():
    spec = RecurrentSpec(cell="gru", hidden_size=9, num_layers=3, layer_norm=True,
                         merge_mode="mean", bidirectional=True)
    data = spec.to_dict()
    assert data["cell"] == "gru" and data["hidden_size"] == 9 and len(data) == 15
    assert RecurrentSpec.from_dict(json.loads(json.dumps(data))) == spec
    assert RecurrentSpec.from_dict(RecurrentSpec().to_dict()) == RecurrentSpec()
    assert RecurrentSpec().output_size == 50  # the default: one LSTM layer of 50


def test_an_unknown_cell_is_refused():
    with pytest.raises(ConfigError) as info:
        RecurrentSpec(cell="transformer")
    assert str(info.value) == "cell: expected one of ['lstm', 'gru', 'rnn'], got 'transformer'"
    with pytest.raises(ConfigError, match=r"^cell: expected one of .*got 'LSTM'$"):
        RecurrentSpec.from_dict({"cell": "LSTM"})
