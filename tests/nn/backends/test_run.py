"""The entry point (rnnkit.nn.backends.run): what is served, the layer's routing, no-grad
inference and frozen weights."""

from __future__ import annotations

import itertools

import pytest
import torch
from kernel_builders import CELLS, VARIANTS, inputs, make

from rnnkit.errors import ConfigError
from rnnkit.nn import LSTM, LSTMCell
from rnnkit.nn.backends import run_bptt, unsupported_reason
from rnnkit.nn.loop import run_loop


@pytest.mark.parametrize("name,variant", list(itertools.product(CELLS, VARIANTS)))
def test_every_option_is_served(name, variant):
    assert unsupported_reason(make(name, variant)) is None


def test_a_cell_subclass_is_named_and_refused():
    class MyLSTM(LSTMCell):
        pass

    cell = MyLSTM(2, 3)
    assert unsupported_reason(cell) == "cell=MyLSTM"
    with pytest.raises(ConfigError, match=r"cell: expected a cell that rnnkit's kernels serve, "
                                          r"got cell=MyLSTM.*backend='loop'"):
        run_bptt(cell, torch.randn(1, 2, 2), cell.zero_state(1), None)


def test_auto_routes_regularized_cells_to_rnnkit():
    layer = LSTM(3, 4, zoneout=0.1)
    layer(torch.randn(2, 5, 3))
    assert layer.last_backend == "rnnkit"


def test_no_grad_inference_and_frozen_weights():
    cell = make("lstm", "ln", torch.float32).eval()
    x, state = inputs(cell, torch.float32)
    with torch.no_grad():
        out, final = run_bptt(cell, x, state, None)
        ref, ref_final = run_loop(cell, x, state, None)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(final[1], ref_final[1])
    cell.requires_grad_(False)
    out, _ = run_bptt(cell, x, state, None)
    (gx,) = torch.autograd.grad(out.sum(), [x])
    assert gx.shape == x.shape
