"""rnnkit.nn.fused: which cells PyTorch's kernels serve (and the option that rules one out),
rnnkit's single bias in PyTorch's weight layout, and run_fused against the reference loop
with and without lengths."""

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn import GRUCell, LSTMCell, SimpleRNNCell
from rnnkit.nn.fused import flat_weights, run_fused, unfusable_reason
from rnnkit.nn.loop import run_loop


class MyGRUCell(GRUCell):
    """A subclass: its step may differ, so no kernel serves it."""


@pytest.mark.parametrize("cell,reason", [
    (LSTMCell(2, 3), None),
    (GRUCell(2, 3), None),
    (SimpleRNNCell(2, 3, activation="relu"), None),
    (MyGRUCell(2, 3), "cell=MyGRUCell"),
    (LSTMCell(2, 3, layer_norm=True), "layer_norm=True"),
    (LSTMCell(2, 3, recurrent_dropout=0.2), "recurrent_dropout=0.2"),
    (GRUCell(2, 3, weight_drop=0.1), "weight_drop=0.1"),
    (SimpleRNNCell(2, 3, zoneout=0.3), "zoneout=0.3"),
    (SimpleRNNCell(2, 3, activation="elu"), "activation='elu'"),
    (GRUCell(2, 3, reset_after=False), "reset_after=False"),
])
def test_unfusable_reason_names_the_option(cell, reason):
    assert unfusable_reason(cell) == reason


def test_flat_weights_put_the_single_bias_in_b_ih():
    lstm = LSTMCell(2, 3)
    w_ih, w_hh, b_ih, b_hh = flat_weights(lstm)
    assert w_ih is lstm.weight_ih and w_hh is lstm.weight_hh and b_ih is lstm.bias
    assert torch.equal(b_hh, torch.zeros(12))
    gru = GRUCell(2, 3)
    with torch.no_grad():
        gru.recurrent_bias.copy_(torch.tensor([1.0, 2.0, 3.0]))
    b_hh = flat_weights(gru)[3]  # (r, z, n): b_hn in the n third
    assert b_hh.tolist() == [0.0] * 6 + [1.0, 2.0, 3.0]


def test_flat_weights_of_an_unserved_cell_is_an_error():
    with pytest.raises(ConfigError) as info:
        flat_weights(MyGRUCell(2, 3))
    assert str(info.value) == ("cell: expected a cell that PyTorch's kernels serve, got "
                               "cell=MyGRUCell. run it with backend='loop'")


@pytest.mark.parametrize("cls", [SimpleRNNCell, LSTMCell, GRUCell])
@pytest.mark.parametrize("lengths", [None, [5, 2, 4]])
def test_run_fused_equals_the_reference_loop(cls, lengths):
    torch.manual_seed(0)
    cell = cls(3, 4).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.uniform_(-0.5, 0.5)
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    state = tuple(torch.randn(3, 4, dtype=torch.float64) for _ in range(cell.num_states))
    mask = None
    if lengths is not None:
        lengths = torch.tensor(lengths)
        mask = torch.arange(5) < lengths[:, None]  # (B, T) post-padding
    want_out, want_state = run_loop(cell, x, state, mask)
    out, final = run_fused([cell], x, tuple(s[None] for s in state), num_layers=1,
                           bidirectional=False, dropout=0.0, training=False, lengths=lengths)
    torch.testing.assert_close(out, want_out)
    assert len(final) == cell.num_states
    for got, want in zip(final, want_state):
        torch.testing.assert_close(got[0], want)  # (L*D, B, H) -> (B, H)
