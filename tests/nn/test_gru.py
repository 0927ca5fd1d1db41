"""rnnkit.nn.gru: the GRU cell against the textbook equations (float64, step by step), with the
reset gate applied after and before the recurrent product (reset_after True and False)."""

import pytest
import textbook as ref
import torch

from rnnkit.nn import GRU

from cell_builders import H, I, _randomize, _seq


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_matches_equations(reset_after):
    layer = _randomize(GRU(I, H, reset_after=reset_after, backend="loop").double())
    c = layer.cells[0]
    x, h0 = _seq(), torch.randn(H, dtype=torch.float64)
    want = ref.gru(x, c.weight_ih, c.weight_hh, c.bias, h0,
                   c.recurrent_bias if reset_after else None, reset_after)
    out, h_n = layer(x[None], h0[None, None])
    torch.testing.assert_close(out[0], torch.stack(want), rtol=1e-10, atol=1e-10)
