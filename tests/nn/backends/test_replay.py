"""Higher-order gradients through the kernels (rnnkit.nn.backends.replay): with
create_graph=True the kernel's node replays its forward with autograd, so a gradient
penalty's gradients equal the per-step loop's in float64."""

from __future__ import annotations

import pytest
import torch
from kernel_builders import MASKS, inputs, make

from rnnkit.nn import LSTM
from rnnkit.nn.backends import run_bptt
from rnnkit.nn.loop import run_loop


def _second_order(run, cell, x, state, mask):
    """A gradient penalty: d/d(everything) of ||d loss / d x||^2, loss a random linear
    function of the outputs and the final state (the masks seeded alike for both runs)."""
    torch.manual_seed(7)
    out, final = run(cell, x, state, mask)
    gen = torch.Generator().manual_seed(3)
    loss = (out * torch.randn(out.shape, generator=gen, dtype=out.dtype)).sum()
    loss = loss + sum((s * torch.randn(s.shape, generator=gen, dtype=s.dtype)).sum()
                      for s in final)
    (gx,) = torch.autograd.grad(loss, [x], create_graph=True)
    penalty = gx.square().sum()
    wrt = [x, *state, *cell.parameters()]
    return [g if g is not None else torch.zeros_like(w)
            for g, w in zip(torch.autograd.grad(penalty, wrt, allow_unused=True), wrt)]


@pytest.mark.parametrize("name,variant,mask", [
    ("lstm", "plain", "none"), ("lstm", "all", "post"), ("gru", "ln_zoneout", "ragged"),
    ("gru_cho", "rdrop", "none"), ("rnn_tanh", "ln", "post"), ("rnn_elu", "zoneout", "none"),
])
def test_second_order_gradients_equal_the_loops(name, variant, mask):
    cell = make(name, variant)
    cell.train()
    x, state = inputs(cell, torch.float64)
    m = MASKS[mask]
    theirs = _second_order(run_loop, cell, x, state, m)
    ours = _second_order(run_bptt, cell, x, state, m)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


def test_second_order_through_a_layer_with_auto_backend():
    torch.manual_seed(0)
    layer = LSTM(3, 8, layer_norm=True).double()  # auto runs rnnkit's kernel for it
    x = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    out, _ = layer(x)
    assert layer.last_backend == "rnnkit"
    (gx,) = torch.autograd.grad(out.sum(), [x], create_graph=True)
    (hv,) = torch.autograd.grad(gx.sum(), [x])  # a Hessian-vector product
    loop = LSTM(3, 8, layer_norm=True, backend="loop").double()
    loop.load_state_dict(layer.state_dict())
    (gx2,) = torch.autograd.grad(loop(x)[0].sum(), [x], create_graph=True)
    (hv2,) = torch.autograd.grad(gx2.sum(), [x])
    torch.testing.assert_close(hv, hv2)


def test_a_kernel_called_directly_has_first_derivatives_only():
    from rnnkit.errors import ConfigError
    from rnnkit.nn import LSTMCell
    from rnnkit.nn.backends import LSTM_KERNEL

    torch.manual_seed(0)
    cell = LSTMCell(2, 3).double()
    x = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)  # (T, B, I)
    state = tuple(torch.zeros(2, 3, dtype=torch.float64) for _ in range(2))
    out, _ = LSTM_KERNEL.run(cell, cell.project_input(x), cell.weight_hh, state, None, None)
    (gx,) = torch.autograd.grad(out.sum(), [x])  # first order: the hand-written backward
    assert gx.shape == x.shape
    out, _ = LSTM_KERNEL.run(cell, cell.project_input(x), cell.weight_hh, state, None, None)
    with pytest.raises(ConfigError, match=r"create_graph: expected first derivatives from a "
                                          r"kernel called directly"):
        torch.autograd.grad(out.sum(), [x], create_graph=True)
