"""Gradients checked numerically in float64 (torch.autograd.gradcheck) with respect to the
inputs, the initial state and every parameter, for every variant, through masking and both
directions of a stacked layer."""

import pytest
import torch
from torch.func import functional_call

from rnnkit.nn import GRU, LSTM, SimpleRNN

VARIANTS = [
    {},
    {"layer_norm": True},
    {"recurrent_dropout": 0.3},
    {"weight_drop": 0.3},
    {"zoneout": 0.3},
]
CELLS = [(SimpleRNN, {}), (SimpleRNN, {"activation": "elu"}), (LSTM, {}), (GRU, {}),
         (GRU, {"reset_after": False})]


def _gradcheck(layer, lengths):
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    x = torch.randn(2, 4, layer.input_size, dtype=torch.float64, requires_grad=True)
    n_rows = layer.num_layers * layer.num_directions
    h0 = torch.randn(2, n_rows, layer.hidden_size, dtype=torch.float64, requires_grad=True)
    state = (h0, h0 * 0.5) if layer.num_states == 2 else h0

    def f(x, h0, *ps):
        torch.manual_seed(123)  # the same dropout masks at every evaluation
        st = (h0, h0 * 0.5) if layer.num_states == 2 else h0
        out, final = functional_call(layer, dict(zip(names, ps)), (x, st),
                                     {"lengths": lengths})
        return out, final[-1] if isinstance(final, tuple) else final

    del state
    assert torch.autograd.gradcheck(f, (x, h0, *params), eps=1e-6, atol=1e-6, fast_mode=True)


@pytest.mark.parametrize("cls,extra", CELLS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_gradcheck_every_variant_masked(cls, extra, variant):
    torch.manual_seed(0)
    layer = cls(2, 2, backend="loop", **extra, **variant).double().train()
    _gradcheck(layer, torch.tensor([4, 2]))


@pytest.mark.parametrize("cls,extra", CELLS)
@pytest.mark.parametrize("backend", ["auto", "loop"])
def test_gradcheck_stacked_bidirectional_masked(cls, extra, backend):
    torch.manual_seed(0)
    layer = cls(2, 2, num_layers=2, bidirectional=True, dropout=0.3, backend=backend,
                **extra).double().train()
    _gradcheck(layer, torch.tensor([4, 3]))
