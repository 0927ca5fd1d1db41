"""rnnkit layers equal torch.nn.RNN/LSTM/GRU with copied weights, on both backends."""

import pytest
import torch
from torch import nn

from rnnkit.nn import GRU, LSTM, SimpleRNN


def _copy_from_torch(ours, theirs):
    """Load a torch.nn recurrent module's weights into an rnnkit layer (single bias)."""
    D = 2 if theirs.bidirectional else 1
    with torch.no_grad():
        for layer in range(theirs.num_layers):
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                cell = ours.cells[layer * D + d]
                w_ih, w_hh = getattr(theirs, "weight_ih" + sfx), getattr(theirs, "weight_hh" + sfx)
                b_ih, b_hh = getattr(theirs, "bias_ih" + sfx), getattr(theirs, "bias_hh" + sfx)
                cell.weight_ih.copy_(w_ih)
                cell.weight_hh.copy_(w_hh)
                if isinstance(theirs, nn.GRU):
                    H = theirs.hidden_size
                    cell.bias.copy_(b_ih + torch.cat([b_hh[: 2 * H], torch.zeros(H)]))
                    cell.recurrent_bias.copy_(b_hh[2 * H :])
                else:
                    cell.bias.copy_(b_ih + b_hh)


CASES = [
    (SimpleRNN, nn.RNN, {}),
    (SimpleRNN, nn.RNN, {"nonlinearity": "relu"}),
    (LSTM, nn.LSTM, {}),
    (GRU, nn.GRU, {}),
]


@pytest.mark.parametrize("ours_cls,theirs_cls,extra", CASES)
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
@pytest.mark.parametrize("backend", ["auto", "loop"])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_equals_torch_with_copied_weights(ours_cls, theirs_cls, extra, num_layers,
                                          bidirectional, backend, with_lengths):
    torch.manual_seed(0)
    I, H, B, T = 4, 6, 5, 9
    theirs = theirs_cls(I, H, num_layers, batch_first=True, bidirectional=bidirectional,
                        **extra).double()
    kw = {"activation": extra["nonlinearity"]} if extra else {}
    ours = ours_cls(I, H, num_layers, bidirectional=bidirectional, backend=backend, **kw).double()
    _copy_from_torch(ours, theirs)
    x = torch.randn(B, T, I, dtype=torch.float64)
    D = 2 if bidirectional else 1
    is_lstm = theirs_cls is nn.LSTM
    h0 = torch.randn(num_layers * D, B, H, dtype=torch.float64)
    c0 = torch.randn(num_layers * D, B, H, dtype=torch.float64)
    hx = (h0, c0) if is_lstm else h0
    our_state = (h0.transpose(0, 1), c0.transpose(0, 1)) if is_lstm else h0.transpose(0, 1)
    if with_lengths:
        lengths = torch.tensor([9, 1, 4, 9, 6])
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                   enforce_sorted=False)
        out_p, h_t = theirs(packed, hx)
        out_t, _ = nn.utils.rnn.pad_packed_sequence(out_p, batch_first=True, total_length=T)
        out_o, h_o = ours(x, our_state, lengths=lengths)
    else:
        out_t, h_t = theirs(x, hx)
        out_o, h_o = ours(x, our_state)
    torch.testing.assert_close(out_o, out_t)
    if is_lstm:
        torch.testing.assert_close(h_o[0], h_t[0].transpose(0, 1))
        torch.testing.assert_close(h_o[1], h_t[1].transpose(0, 1))
    else:
        torch.testing.assert_close(h_o, h_t.transpose(0, 1))
    # auto on the CPU: oneDNN's LSTM, rnnkit's kernel for the cells oneDNN does not serve
    expected_backend = ("torch" if is_lstm else "rnnkit") if backend == "auto" else "loop"
    assert ours.last_backend == expected_backend


def test_gradients_equal_torch():
    torch.manual_seed(1)
    theirs = nn.LSTM(3, 4, 2, batch_first=True, bidirectional=True).double()
    for backend in ("auto", "loop"):
        ours = LSTM(3, 4, 2, bidirectional=True, backend=backend).double()
        _copy_from_torch(ours, theirs)
        x = torch.randn(2, 5, 3, dtype=torch.float64)
        theirs.zero_grad()
        theirs(x)[0].pow(2).sum().backward()
        ours(x)[0].pow(2).sum().backward()
        torch.testing.assert_close(ours.cells[3].weight_hh.grad, theirs.weight_hh_l1_reverse.grad)
        torch.testing.assert_close(ours.cells[0].bias.grad, theirs.bias_ih_l0.grad)
