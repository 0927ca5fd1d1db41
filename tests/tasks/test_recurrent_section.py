"""rnnkit.tasks.recurrent_section: the recurrent stack as a config section: a cell by name, by
class or by "module:Class" (with a did-you-mean for a typo), what a class cell's build
passes it (with and without **kwargs), the output size and the text form of a class."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn import GRU, GRUCell, LSTMCell, Recurrent, SimpleRNNCell
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.encoder import EncoderSection
from rnnkit.tasks.recurrent_section import RecurrentSection, cell_from_name, cell_to_name


class TanhFreeRNNCell(SimpleRNNCell):
    """A cell of one's own, here a SimpleRNN cell subclass."""


def test_a_cell_by_name_builds_what_recurrent_spec_builds():
    section = EncoderSection(cell="gru", hidden_size=5, num_layers=2, bidirectional=False)
    torch.manual_seed(0)
    a = section.build(3)
    torch.manual_seed(0)
    b = RecurrentSpec(cell="gru", hidden_size=5, num_layers=2).build(3)
    assert isinstance(a, GRU) and section.output_size == 5
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(a(x)[0], b(x)[0])
    assert EncoderSection().output_size == 128 and EncoderSection().cell_name == "LSTM"


def test_a_cell_class_builds_and_round_trips_by_its_import_name():
    section = EncoderSection(cell=TanhFreeRNNCell, hidden_size=4, activation="relu")
    layer = section.build(3, return_sequences=False)
    assert all(type(c) is TanhFreeRNNCell for c in layer.cells) and len(layer.cells) == 2
    assert layer(torch.randn(2, 5, 3))[0].shape == (2, 8)  # (B, D·H), last step
    name = section.model_dump(mode="json")["cell"]
    assert name == f"{__name__}:TanhFreeRNNCell"
    assert EncoderSection(**section.model_dump(mode="json")) == section
    assert cell_from_name("rnnkit.nn:LSTMCell") is LSTMCell and section.cell_name == "TanhFreeRNNCell"
    with pytest.raises(ConfigError, match=r"cell: expected an importable 'module:ClassName'"):
        EncoderSection(cell="no_such_module:Cell")
    with pytest.raises(ConfigError, match=r"cell: expected a RecurrentCell subclass"):
        EncoderSection(cell="rnnkit.nn:GRU")  # a layer, not a cell
    with pytest.raises(ConfigError, match=r"cell: .* got 'lsmt'\. did you mean 'lstm'\?"):
        EncoderSection(cell="lsmt")



class ForwardingCell(SimpleRNNCell):
    """A cell of one's own whose __init__ forwards **kwargs to RecurrentCell."""

    def __init__(self, input_size, hidden_size, **kwargs):
        super().__init__(input_size, hidden_size, **kwargs)


class ZoneoutOnlyCell(SimpleRNNCell):
    """A cell of one's own that takes zoneout and nothing else."""

    def __init__(self, input_size, hidden_size, *, zoneout=0.0):
        super().__init__(input_size, hidden_size, zoneout=zoneout)


class ResetBeforeGRUCell(GRUCell):
    """A GRU cell subclass: it takes the GRU's own reset_after."""


def test_cell_from_name_and_back():
    assert cell_from_name("gru") == "gru"
    assert cell_from_name("rnnkit.nn.gru:GRUCell") is GRUCell
    assert cell_from_name(f"{__name__}:ForwardingCell") is ForwardingCell
    assert cell_to_name("lstm") == "lstm"
    assert cell_to_name(GRUCell) == "rnnkit.nn.gru:GRUCell"
    assert cell_from_name(cell_to_name(ZoneoutOnlyCell)) is ZoneoutOnlyCell


def test_a_typo_gets_a_suggestion_and_no_close_name_gets_none():
    with pytest.raises(ValueError) as info:
        cell_from_name("gur")
    assert str(info.value) == ("cell: expected one of ['lstm', 'gru', 'rnn'], a RecurrentCell "
                               "subclass or 'module:ClassName', got 'gur'. did you mean 'gru'?")
    with pytest.raises(ValueError) as info:
        cell_from_name("transformer")
    assert str(info.value).endswith("or 'module:ClassName', got 'transformer'")
    with pytest.raises(ValueError) as info:
        cell_from_name("rnnkit.nn:NoSuchCell")
    assert str(info.value) == (
        "cell: expected an importable 'module:ClassName', got 'rnnkit.nn:NoSuchCell'. "
        "(AttributeError: module 'rnnkit.nn' has no attribute 'NoSuchCell')")


def test_a_cell_that_is_neither_a_name_nor_a_cell_class_is_refused():
    with pytest.raises(ConfigError, match=r"cell: expected one of \['lstm', 'gru', 'rnn'\] or "
                                          r"a RecurrentCell subclass, got <class 'int'>"):
        RecurrentSection(cell=int)
    with pytest.raises(ConfigError, match=r"cell: expected a RecurrentCell subclass, got "
                                          r"<class 'rnnkit.nn.gru.GRU'>"):
        RecurrentSection(cell="rnnkit.nn:GRU")


def test_a_class_cell_that_forwards_kwargs_gets_every_cells_arguments():
    section = RecurrentSection(cell=ForwardingCell, hidden_size=3, recurrent_dropout=0.2,
                               weight_drop=0.1, zoneout=0.3, layer_norm=True,
                               recurrent_init="identity", activation="relu")
    layer = section.build(2)
    assert type(layer) is Recurrent and all(type(c) is ForwardingCell for c in layer.cells)
    cell = layer.cells[0]
    assert (cell.recurrent_dropout, cell.weight_drop, cell.zoneout, cell.layer_norm) == (
        0.2, 0.1, 0.3, True)
    assert torch.equal(cell.weight_hh.detach(), torch.eye(3))
    assert cell.activation_name == "tanh"  # activation is the SimpleRNN's own, not forwarded


def test_a_class_cell_gets_only_the_arguments_its_init_takes():
    section = RecurrentSection(cell=ZoneoutOnlyCell, hidden_size=3, zoneout=0.3,
                               recurrent_dropout=0.2, layer_norm=True, num_layers=2,
                               bidirectional=True, merge_mode="sum")
    layer = section.build(2, return_sequences=False)
    assert len(layer.cells) == 4
    cell = layer.cells[0]
    assert (cell.zoneout, cell.recurrent_dropout, cell.layer_norm) == (0.3, 0.0, False)
    assert layer(torch.randn(4, 5, 2))[0].shape == (4, 3) == (4, section.output_size)
    gru = RecurrentSection(cell=ResetBeforeGRUCell, hidden_size=3, reset_after=False).build(2)
    assert not gru.cells[0].reset_after


def test_output_size_num_states_and_cell_name():
    assert RecurrentSection(hidden_size=5, bidirectional=True).output_size == 10
    assert RecurrentSection(hidden_size=5, bidirectional=True, merge_mode="mean").output_size == 5
    assert RecurrentSection().num_states == 2 and RecurrentSection(cell="rnn").num_states == 1
    assert RecurrentSection(cell=LSTMCell).num_states == 2
    assert RecurrentSection(cell=ZoneoutOnlyCell).num_states == 1
    assert RecurrentSection(cell="gru").cell_name == "GRU"
    assert RecurrentSection(cell=ZoneoutOnlyCell).cell_name == "ZoneoutOnlyCell"


def test_spec_round_trip_and_a_class_cell_has_no_spec():
    spec = RecurrentSpec(cell="gru", hidden_size=7, num_layers=2, merge_mode="sum",
                         bidirectional=True, reset_after=False)
    section = RecurrentSection.from_spec(spec)
    assert section.spec() == spec
    assert isinstance(section.build(3), GRU)
    with pytest.raises(ValueError) as info:
        RecurrentSection(cell=ZoneoutOnlyCell).spec()
    assert str(info.value) == ("cell: expected a cell name for a RecurrentSpec, got "
                               "ZoneoutOnlyCell")


def test_a_class_cell_is_written_by_its_import_name_and_read_back():
    section = RecurrentSection(cell=ZoneoutOnlyCell, zoneout=0.2)
    data = section.model_dump(mode="json")
    assert data["cell"] == f"{__name__}:ZoneoutOnlyCell" and data["zoneout"] == 0.2
    assert RecurrentSection(**data) == section
    assert RecurrentSection(**RecurrentSection(cell="rnn").model_dump(mode="json")).cell == "rnn"
