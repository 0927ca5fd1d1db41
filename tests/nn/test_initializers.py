"""rnnkit.nn.initializers: the tutorials' defaults (Glorot-uniform W_xh, orthogonal W_hh per
gate, zero biases, the LSTM's forget bias 1), identity for IRNN, names and callables."""

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn import GRUCell, LSTMCell, SimpleRNNCell
from rnnkit.nn.initializers import INITIALIZERS, init_blocks, resolve_initializer


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


def test_orthogonal_per_block_not_across_blocks():
    torch.manual_seed(0)
    w = torch.empty(3 * 4, 4)  # a GRU's W_hh: three (4, 4) gate blocks
    init_blocks(w, 3, INITIALIZERS["orthogonal"])
    blocks = w.chunk(3)
    for block in blocks:
        torch.testing.assert_close(block @ block.T, torch.eye(4), atol=1e-5, rtol=0)
    assert not torch.allclose(blocks[0], blocks[1])  # each block drawn on its own


def test_identity_of_a_rectangular_block_is_its_leading_square():
    w = torch.full((2, 3), 7.0)
    INITIALIZERS["identity"](w)
    assert w.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    w = torch.full((3, 2), 7.0)
    INITIALIZERS["identity"](w)
    assert w.tolist() == [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]


def test_small_uniform_and_glorot_bounds():
    torch.manual_seed(0)
    w = torch.empty(200, 100)
    INITIALIZERS["uniform"](w)
    assert w.abs().max() <= 0.05 and w.abs().max() > 0.049
    INITIALIZERS["glorot_uniform"](w)
    bound = (6 / (200 + 100)) ** 0.5
    assert w.abs().max() <= bound and w.abs().max() > 0.99 * bound
    assert resolve_initializer("Glorot_Uniform", "kernel_init") is INITIALIZERS["glorot_uniform"]
    assert INITIALIZERS["xavier_uniform"] is INITIALIZERS["glorot_uniform"]


def test_a_callable_passes_through_and_an_unknown_name_is_refused():
    def halves(w):
        torch.nn.init.constant_(w, 0.5)

    assert resolve_initializer(halves, "bias_init") is halves
    assert torch.equal(SimpleRNNCell(2, 3, bias_init=halves).bias.detach(), torch.full((3,), 0.5))
    with pytest.raises(ConfigError) as info:
        resolve_initializer("orthogonol", "recurrent_init")
    assert str(info.value) == (
        "recurrent_init: expected a callable or one of ['glorot_normal', 'glorot_uniform', "
        "'he_normal', 'he_uniform', 'identity', 'normal', 'ones', 'orthogonal', 'uniform', "
        "'xavier_normal', 'xavier_uniform', 'zeros'], got 'orthogonol'")
