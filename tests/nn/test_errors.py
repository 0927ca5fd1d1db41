"""Bad input gets an rnnkit error naming the argument, the expected and the received value."""

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError, StateError
from rnnkit.nn import GRU, LSTM, LSTMCell, SimpleRNN


def test_wrong_rank():
    with pytest.raises(ShapeError, match=r"x: expected a 3D tensor .* got 4D tensor of shape"):
        LSTM(3, 4)(torch.randn(1, 2, 3, 4))


def test_wrong_feature_size():
    with pytest.raises(ShapeError, match=r"x: expected 3 features .*input_size.*got 5"):
        LSTM(3, 4)(torch.randn(2, 6, 5))


def test_lengths_out_of_range_and_wrong_batch():
    layer = GRU(2, 3)
    x = torch.randn(2, 5, 2)
    with pytest.raises(ShapeError, match=r"lengths: expected values in \[1, 5\].*got values in \[0, 5\]"):
        layer(x, lengths=[5, 0])
    with pytest.raises(ShapeError, match=r"lengths: expected values in \[1, 5\].*\[3, 7\]"):
        layer(x, lengths=[7, 3])
    with pytest.raises(ShapeError, match=r"lengths: expected a 1D tensor of 2 lengths.*\(3,\)"):
        layer(x, lengths=[5, 3, 1])
    with pytest.raises(ShapeError, match=r"mask: expected shape \(2, 5\)"):
        layer(x, mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ConfigError, match="lengths/mask: expected at most one"):
        layer(x, lengths=[5, 5], mask=torch.ones(2, 5, dtype=torch.bool))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_inf_inputs(bad):
    x = torch.randn(2, 5, 2)
    x[1, 3, 0] = bad
    with pytest.raises(ShapeError, match=r"x: expected finite values, got 1 NaN/inf entries"):
        GRU(2, 3)(x)


def test_state_of_wrong_shape():
    with pytest.raises(StateError, match=r"state: expected shape \(2, 2, 3\).*got \(2, 1, 3\)"):
        GRU(2, 3, num_layers=2)(torch.randn(2, 5, 2), torch.zeros(2, 1, 3))
    with pytest.raises(StateError, match=r"state: expected a tuple \(h, c\), got 1 tensor"):
        LSTM(2, 3)(torch.randn(2, 5, 2), torch.zeros(2, 1, 3))
    with pytest.raises(StateError, match=r"state: expected tensors of shape \(2, 3\)"):
        LSTMCell(2, 3)(torch.randn(2, 2), (torch.zeros(2, 4), torch.zeros(2, 4)))


def test_stateful_batch_change():
    layer = LSTM(2, 3, stateful=True)
    layer(torch.randn(2, 4, 2))
    with pytest.raises(StateError, match="reset_state"):
        layer(torch.randn(3, 4, 2))


def test_unknown_names():
    with pytest.raises(ConfigError, match=r"activation: expected a callable or one of \[.*'relu'.*got 'relux'"):
        SimpleRNN(2, 3, activation="relux")
    with pytest.raises(ConfigError, match=r"recurrent_init: expected a callable or one of .*got 'orthogonol'"):
        LSTM(2, 3, recurrent_init="orthogonol")
    with pytest.raises(ConfigError, match=r"merge_mode: expected one of \['concat', 'sum', 'mean', 'mul'\], got 'avg'"):
        GRU(2, 3, bidirectional=True, merge_mode="avg")
    with pytest.raises(ConfigError, match=r"backend: expected one of"):
        GRU(2, 3, backend="cuda")


def test_bad_hyperparameters():
    with pytest.raises(ConfigError, match=r"hidden_size: expected an integer >= 1, got 0"):
        LSTM(2, 0)
    with pytest.raises(ConfigError, match=r"recurrent_dropout: expected a probability in \[0, 1\), got 1.5"):
        LSTM(2, 3, recurrent_dropout=1.5)


def test_fused_backend_refuses_a_configuration_it_cannot_serve():
    with pytest.raises(ConfigError, match=r"backend: expected 'auto' or 'loop'.*activation='sin'"):
        SimpleRNN(2, 3, activation=torch.sin, backend="fused")
