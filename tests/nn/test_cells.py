"""Each cell against the textbook equations (float64, step by step), parameter counts and
initialization."""

import pytest
import textbook as ref
import torch
from torch.nn import functional as F

from rnnkit.nn import GRU, LSTM, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell

T, I, H = 7, 3, 5


def _seq(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(T, I, generator=g, dtype=torch.float64)


def _randomize(module, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)
    return module


@pytest.mark.parametrize("activation,f", [("tanh", torch.tanh), ("relu", torch.relu),
                                          ("elu", F.elu)])
@pytest.mark.parametrize("layer_norm", [False, True])
def test_simple_rnn_matches_equation(activation, f, layer_norm):
    layer = _randomize(SimpleRNN(I, H, activation=activation, layer_norm=layer_norm,
                                 backend="loop").double())
    cell = layer.cells[0]
    x, h0 = _seq(), torch.randn(H, dtype=torch.float64)
    want = ref.simple_rnn(x, cell.weight_ih, cell.weight_hh, cell.bias, h0, f,
                          ln_gain=cell.ln_weight if layer_norm else None)
    out, h_n = layer(x[None], h0[None, None])
    torch.testing.assert_close(out[0], torch.stack(want), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(h_n[0, 0], want[-1], rtol=1e-10, atol=1e-10)


def test_simple_rnn_callable_activation():
    layer = _randomize(SimpleRNN(I, H, activation=torch.sin).double())
    cell = layer.cells[0]
    x, h0 = _seq(), torch.zeros(H, dtype=torch.float64)
    want = ref.simple_rnn(x, cell.weight_ih, cell.weight_hh, cell.bias, h0, torch.sin)
    torch.testing.assert_close(layer(x[None])[0][0], torch.stack(want))


@pytest.mark.parametrize("layer_norm", [False, True])
def test_lstm_matches_equations(layer_norm):
    layer = _randomize(LSTM(I, H, layer_norm=layer_norm, backend="loop").double())
    c = layer.cells[0]
    x = _seq()
    h0, c0 = torch.randn(H, dtype=torch.float64), torch.randn(H, dtype=torch.float64)
    ln = None
    if layer_norm:
        ln = {"ih": c.ln_ih_weight, "hh": c.ln_hh_weight, "cell_w": c.ln_cell_weight,
              "cell_b": c.ln_cell_bias}
    hs, cs = ref.lstm(x, c.weight_ih, c.weight_hh, c.bias, h0, c0, ln)
    out, (h_n, c_n) = layer(x[None], (h0[None, None], c0[None, None]))
    torch.testing.assert_close(out[0], torch.stack(hs), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(c_n[0, 0], cs[-1], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_matches_equations(reset_after):
    layer = _randomize(GRU(I, H, reset_after=reset_after, backend="loop").double())
    c = layer.cells[0]
    x, h0 = _seq(), torch.randn(H, dtype=torch.float64)
    want = ref.gru(x, c.weight_ih, c.weight_hh, c.bias, h0,
                   c.recurrent_bias if reset_after else None, reset_after)
    out, h_n = layer(x[None], h0[None, None])
    torch.testing.assert_close(out[0], torch.stack(want), rtol=1e-10, atol=1e-10)


def test_parameter_counts():
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(SimpleRNNCell(50, 128)) == 22_912  # 50*128 + 128*128 + 128
    assert count(LSTMCell(50, 128)) == 4 * (128 * 50 + 128 * 128 + 128)
    assert count(GRUCell(50, 128)) == 3 * (128 * 50 + 128 * 128) + 4 * 128
    assert count(GRUCell(50, 128, reset_after=False)) == 3 * (128 * 50 + 128 * 128 + 128)
    assert count(LSTMCell(50, 128, layer_norm=True)) == count(LSTMCell(50, 128)) + 10 * 128
    # the tutorial's battery model: LSTM(50) -> LSTM(50) on 1 feature, as in Keras
    assert count(LSTM(1, 50, num_layers=2)) == 10_400 + 20_200


def test_initialization_defaults():
    torch.manual_seed(0)
    lstm = LSTMCell(30, 20)
    for block in lstm.weight_hh.detach().chunk(4):  # each gate's W_hh is orthogonal
        torch.testing.assert_close(block @ block.T, torch.eye(20), atol=1e-5, rtol=0)
    assert torch.equal(lstm.bias[20:40], torch.ones(20))  # forget-gate bias 1.0
    assert torch.equal(lstm.bias[:20], torch.zeros(20)) and torch.equal(lstm.bias[40:], torch.zeros(40))
    bound = (6 / (30 + 80)) ** 0.5  # Glorot uniform on W_xh (4H, I)
    assert lstm.weight_ih.abs().max() <= bound and lstm.weight_ih.abs().max() > 0.8 * bound
    assert torch.equal(LSTMCell(3, 4, unit_forget_bias=False).bias, torch.zeros(16))


def test_identity_init_irnn():
    cell = SimpleRNNCell(2, 6, activation="relu", recurrent_init="identity")
    assert torch.equal(cell.weight_hh.detach(), torch.eye(6))
    gru = GRUCell(2, 4, recurrent_init="identity")
    assert all(torch.equal(b, torch.eye(4)) for b in gru.weight_hh.detach().chunk(3))


@pytest.mark.parametrize("name", ["zeros", "ones", "he_normal", "glorot_normal", "uniform"])
def test_initializers_by_name(name):
    cell = SimpleRNNCell(3, 4, kernel_init=name, bias_init=name)
    if name == "zeros":
        assert not cell.weight_ih.any()
    if name == "ones":
        assert torch.equal(cell.bias.detach(), torch.ones(4))


def test_cell_one_step_equals_layer_first_step():
    torch.manual_seed(0)
    layer = LSTM(I, H)
    x = torch.randn(2, 1, I)
    h, (h1, c1) = layer.cells[0](x[:, 0])
    out, (h_n, c_n) = layer(x)
    torch.testing.assert_close(h, out[:, 0])
    torch.testing.assert_close(c1, c_n[:, 0])


def test_repr_shows_only_non_defaults():
    assert repr(LSTMCell(3, 4)) == "LSTMCell(3, 4)"
    assert "zoneout=0.1" in repr(GRUCell(3, 4, zoneout=0.1))
    assert repr(LSTM(3, 4, num_layers=2)).startswith("LSTM(\n  3, 4, num_layers=2\n")
