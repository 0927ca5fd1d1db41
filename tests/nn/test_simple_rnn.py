"""rnnkit.nn.simple_rnn: the SimpleRNN cell against the textbook equation (float64, step by
step), with each activation, layer norm and a callable activation."""

import pytest
import textbook as ref
import torch
from torch.nn import functional as F

from rnnkit.nn import SimpleRNN

from cell_builders import H, I, _randomize, _seq


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
