"""rnnkit.nn.lstm: the LSTM cell against the textbook equations (float64, step by step), with
and without layer norm."""

import pytest
import textbook as ref
import torch

from rnnkit.nn import LSTM

from cell_builders import H, I, _randomize, _seq


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
