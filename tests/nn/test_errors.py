"""Bad input gets an rnnkit error naming the argument, the expected and the received value."""

import re

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError, DataError, ShapeError, StateError
from rnnkit.nn import GRU, LSTM, GRUCell, LSTMCell, Recurrent, SimpleRNN, SimpleRNNCell


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


def test_a_named_backend_runs_or_says_why_it_cannot():
    """What a user asks for and what last_backend reports are the same words."""
    x = torch.randn(2, 5, 2)
    for backend in ("torch", "rnnkit", "loop"):
        layer = LSTM(2, 3, backend=backend)
        layer(x)
        assert layer.last_backend == backend
    with pytest.raises(ConfigError, match=r"backend: expected 'auto', 'rnnkit' or 'loop' for "
                                          r"this configuration, got 'torch'.*PyTorch's kernel "
                                          r"does not serve"):
        LSTM(2, 3, layer_norm=True, backend="torch")
    with pytest.raises(ConfigError, match=r"got 'rnnkit'.*rnnkit's kernel does not serve "
                                          r"activation='sin'"):
        SimpleRNN(2, 3, activation=torch.sin, backend="rnnkit")
    holes = torch.tensor([[True, False, True, True, True], [True] * 5])
    with pytest.raises(ConfigError, match=r"for a mask with holes, got 'torch'"):
        LSTM(2, 3, backend="torch")(x, mask=holes)
    ragged = LSTM(2, 3, backend="rnnkit")
    ragged(x, mask=holes)
    assert ragged.last_backend == "rnnkit"
    with pytest.raises(ConfigError, match=r"backend: expected one of"):
        LSTM(2, 3, backend="cudnn")


# ----------------------------------------------------------------- issue 9: the boundary policy
LAYERS = [LSTM, GRU, SimpleRNN]
CELLS = [LSTMCell, GRUCell, SimpleRNNCell]


def _state(layer_cls, tensor):
    return (tensor, tensor.clone()) if layer_cls is LSTM else tensor


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("make", [lambda: np.zeros((2, 5, 3), dtype=np.float32),
                                  lambda: [[[0.0] * 3] * 5] * 2])
def test_numpy_and_lists_are_refused_with_the_conversion(cls, make):
    with pytest.raises(ShapeError, match=re.escape(
            "x: expected a torch.Tensor, got ") + r"(ndarray|list)\. convert it with "
            + re.escape("torch.as_tensor(x, dtype=torch.float32)")):
        cls(3, 4)(make())


@pytest.mark.parametrize("cls", LAYERS)
def test_a_floating_dtype_other_than_the_parameters_names_both_fixes(cls):
    with pytest.raises(ShapeError, match=re.escape(
            "x: expected dtype torch.float32 (the layer's parameters), got torch.float64. "
            "convert it with x.float() or the layer with layer.double()")):
        cls(3, 4)(torch.zeros(2, 5, 3, dtype=torch.float64))
    with pytest.raises(ShapeError, match=re.escape(
            "x: expected dtype torch.float64 (the layer's parameters), got torch.float16. "
            "convert it with x.double() or the layer with layer.half()")):
        cls(3, 4).double()(torch.zeros(2, 5, 3, dtype=torch.float16))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64])
def test_integer_bool_and_complex_inputs_are_refused(cls, dtype):
    with pytest.raises(ShapeError, match=re.escape(
            f"x: expected a floating-point tensor of dtype torch.float32, got {dtype}. "
            "convert it with x.float()")):
        cls(3, 4)(torch.zeros(2, 5, 3, dtype=dtype))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.int64, torch.bool, torch.complex64])
def test_states_are_never_cast(cls, dtype):
    bad = _state(cls, torch.zeros(2, 1, 4, dtype=dtype))
    with pytest.raises(StateError, match=r"state: expected (dtype|a floating-point tensor of dtype) "
                       r"torch.float32.*got " + re.escape(str(dtype)) + r"\. convert it with state"):
        cls(3, 4)(torch.zeros(2, 5, 3), bad)


@pytest.mark.parametrize("cls", LAYERS)
def test_a_numpy_state_is_refused(cls):
    with pytest.raises(StateError, match=r"state: expected (a tuple \(h, c\) of tensors|a torch.Tensor), "
                       r"got ndarray\. convert it with torch.as_tensor\(state, dtype=torch.float32\)"):
        cls(3, 4)(torch.zeros(2, 5, 3), np.zeros((2, 1, 4), dtype=np.float32))


def test_lengths_must_be_integers_and_mask_bool():
    layer, x = GRU(3, 4), torch.zeros(2, 5, 3)
    with pytest.raises(ShapeError, match=re.escape(
            "lengths: expected a 1D integer torch.Tensor or a list of ints, got ndarray. "
            "convert it with torch.as_tensor(lengths, dtype=torch.long)")):
        layer(x, lengths=np.array([5, 3]))
    with pytest.raises(ShapeError, match=re.escape("lengths: expected integers, got float 3.0 among them")):
        layer(x, lengths=[5, 3.0])
    with pytest.raises(ShapeError, match=re.escape("lengths: expected integers, got bool True among them")):
        layer(x, lengths=[5, True])
    with pytest.raises(ShapeError, match=re.escape(
            "lengths: expected integers, got torch.float32. convert them with lengths.long()")):
        layer(x, lengths=torch.tensor([5.0, 3.0]))
    with pytest.raises(ShapeError, match=re.escape(
            "mask: expected a bool tensor (True on real steps), got torch.int64. "
            "convert it with mask.bool()")):
        layer(x, mask=torch.ones(2, 5, dtype=torch.long))
    with pytest.raises(ShapeError, match=re.escape(
            "mask: expected a bool torch.Tensor, got list. "
            "convert it with torch.as_tensor(mask, dtype=torch.bool)")):
        layer(x, mask=[[True] * 5] * 2)


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_initial_state_is_a_data_error(cls, bad):
    h = torch.zeros(2, 1, 4)
    h[1, 0, 2] = bad
    with pytest.raises(DataError, match=r"state: expected finite values, got 1 NaN/inf entries\. "
                       r"pass a finite state"):
        cls(3, 4)(torch.zeros(2, 5, 3), _state(cls, h))
    out, _ = cls(3, 4, check_finite=False)(torch.zeros(2, 5, 3), _state(cls, h))  # opted out
    assert out.shape == (2, 5, 4)


@pytest.mark.parametrize("cls", CELLS)
def test_cells_check_their_input_and_state_like_the_layers(cls):
    cell = cls(3, 4)
    state = (torch.zeros(2, 4),) * cell.num_states
    x = torch.zeros(2, 3)
    x[0, 1] = float("nan")
    with pytest.raises(DataError, match=r"x: expected finite values, got 1 NaN/inf entries"):
        cell(x)
    bad = torch.zeros(2, 4)
    bad[0, 0] = float("inf")
    with pytest.raises(DataError, match=r"state: expected finite values, got 1 NaN/inf entries"):
        cell(torch.zeros(2, 3), bad if cell.num_states == 1 else (bad, bad))
    with pytest.raises(ShapeError, match=re.escape(
            "x: expected dtype torch.float32 (the layer's parameters), got torch.float64. "
            "convert it with x.float() or the layer with layer.double()")):
        cell(torch.zeros(2, 3, dtype=torch.float64))
    with pytest.raises(ShapeError, match=re.escape("x: expected a torch.Tensor, got list")):
        cell([0.0, 0.0, 0.0])
    with pytest.raises(StateError, match=re.escape(
            "state: expected dtype torch.float32 (the layer's parameters), got torch.float64. "
            "convert it with state.float()")):
        cell(torch.zeros(2, 3), tuple(s.double() for s in state) if cell.num_states == 2
             else state[0].double())
    with pytest.raises(StateError, match=r"state: expected (a tuple \(h, c\) of tensors|a torch.Tensor), got ndarray"):
        cell(torch.zeros(2, 3), np.zeros((2, 4), dtype=np.float32))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("name", ["bidirectional", "return_sequences", "stateful", "layer_norm",
                                  "check_finite"])
@pytest.mark.parametrize("value", ["no", 1, None])
def test_booleans_must_be_real_booleans(cls, name, value):
    with pytest.raises(ConfigError, match=f"{name}: expected True or False, got {value!r}"):
        cls(3, 4, **{name: value})


@pytest.mark.parametrize(("cls", "name"), [(LSTM, "unit_forget_bias"), (GRU, "reset_after"),
                                           (LSTMCell, "unit_forget_bias"), (GRUCell, "reset_after")])
def test_cell_specific_booleans(cls, name):
    with pytest.raises(ConfigError, match=f"{name}: expected True or False, got 'false'"):
        cls(3, 4, **{name: "false"})


@pytest.mark.parametrize("cls", LAYERS)
def test_integers_are_not_bools_and_probabilities_below_one(cls):
    with pytest.raises(ConfigError, match=r"num_layers: expected an integer >= 1, got True"):
        cls(3, 4, num_layers=True)
    with pytest.raises(ConfigError, match=r"hidden_size: expected an integer >= 1, got 4.0"):
        cls(3, 4.0)
    with pytest.raises(ConfigError, match=r"dropout: expected a probability in \[0, 1\), got 1.0"):
        cls(3, 4, dropout=1.0)
    with pytest.raises(ConfigError, match=r"zoneout: expected a probability in \[0, 1\), got nan"):
        cls(3, 4, zoneout=float("nan"))


@pytest.mark.parametrize("cls", LAYERS)
def test_sizes_that_cannot_fit_fail_fast_with_the_estimate(cls):
    with pytest.raises(ConfigError, match=r"num_layers: expected an integer in \[1, 1024\], got 1000000000"):
        cls(3, 4, num_layers=10**9)
    g = {LSTM: 4, GRU: 3, SimpleRNN: 1}[cls]
    estimate = g * 10**6 * (3 + 10**6 + 1)
    with pytest.raises(ConfigError, match=re.escape(
            f"{cls.__name__}: expected at most ") + r"[\d,]+" + re.escape(
            f" parameters (what fits in memory), got an estimated {estimate:,} parameters "
            "(input_size=3, hidden_size=1000000, num_layers=1, directions=1). reduce")):
        cls(3, 10**6)
    with pytest.raises(ConfigError, match=r"an estimated [\d,]+ parameters \(input_size=1000000000000"):
        cls(10**12, 4)
    with pytest.raises(ConfigError, match=r"an estimated [\d,]+ parameters .*num_layers=1000, directions=2"):
        cls(3, 1000, num_layers=1000, bidirectional=True)


def test_cells_refuse_sizes_that_cannot_fit():
    estimate = 4 * 10**6 * (3 + 10**6 + 1)  # G*H*(I + H + 1)
    with pytest.raises(ConfigError, match=re.escape("LSTMCell: expected at most ") + r"[\d,]+"
                       + re.escape(f" parameters (what fits in memory), got an estimated {estimate:,} "
                                   "parameters (input_size=3, hidden_size=1000000)")):
        LSTMCell(3, 10**6)
    with pytest.raises(ConfigError, match=r"GRUCell: expected at most .* hidden_size=1000000\)"):
        GRUCell(3, 10**6)


@pytest.mark.parametrize("cls", LAYERS)
def test_unknown_keywords_name_the_accepted_ones_and_a_suggestion(cls):
    name = cls.__name__
    with pytest.raises(ConfigError, match=re.escape(f"{name}: expected keyword arguments among [")
                       + r".*'bidirectional'.*'zoneout'\], got unknown 'batch_first'\. "
                       r"rnnkit is batch-first everywhere .*drop batch_first"):
        cls(3, 4, batch_first=True)
    with pytest.raises(ConfigError, match=re.escape(
            "got unknown 'recurent_dropout'. did you mean 'recurrent_dropout'?")):
        cls(3, 4, recurent_dropout=0.1)
    with pytest.raises(ConfigError, match=re.escape("got unknown 'bidirectonal'. did you mean 'bidirectional'?")):
        cls(3, 4, bidirectonal=True)


def test_cell_specific_keywords_belong_to_their_layer():
    with pytest.raises(ConfigError, match=r"GRU: expected keyword arguments among \[.*'reset_after'.*"
                       r"got unknown 'unit_forget_bias'"):
        GRU(3, 4, unit_forget_bias=False)
    with pytest.raises(ConfigError, match=r"got unknown 'nonlinearity'\. did you mean 'activation'\? "
                       r"\(torch's nonlinearity\)"):
        SimpleRNN(3, 4, nonlinearity="relu")
    with pytest.raises(ConfigError, match=r"LSTM: .*got unknown 'nonlinearity'$"):  # no activation
        LSTM(3, 4, nonlinearity="relu")
    with pytest.raises(ConfigError, match=r"Recurrent: expected keyword arguments among .*"
                       r"got unknown 'batch_first'"):
        Recurrent(LSTMCell, 3, 4, batch_first=True)


@pytest.mark.parametrize("cls", CELLS)
def test_cells_answer_unknown_keywords_too(cls):
    with pytest.raises(ConfigError, match=re.escape(f"{cls.__name__}: expected keyword arguments among [")
                       + r".*'zoneout'\], got unknown 'batch_first'\. rnnkit is batch-first"):
        cls(3, 4, batch_first=True)
    with pytest.raises(ConfigError, match=r"got unknown 'zonout'\. did you mean 'zoneout'\?"):
        cls(3, 4, zonout=0.1)


def test_a_custom_cell_forwarding_kwargs_accepts_its_bases_keywords():
    class MyCell(SimpleRNNCell):
        def __init__(self, input_size, hidden_size, *, scale: float = 1.0, **kwargs):
            super().__init__(input_size, hidden_size, **kwargs)
            self.scale = scale

    layer = Recurrent(MyCell, 3, 4, scale=2.0, zoneout=0.1, activation="relu")
    assert layer.cells[0].scale == 2.0 and layer.cells[0].zoneout == 0.1
    with pytest.raises(ConfigError, match=r"Recurrent: expected keyword arguments among \[.*'scale'.*"
                       r"got unknown 'scal'\. did you mean 'scale'\?"):
        Recurrent(MyCell, 3, 4, scal=2.0)

    class Closed(SimpleRNNCell):  # takes no **kwargs: its bases' keywords are not accepted
        def __init__(self, input_size, hidden_size):
            super().__init__(input_size, hidden_size)

    with pytest.raises(ConfigError, match=r"Recurrent: expected keyword arguments among .*got unknown 'zoneout'"):
        Recurrent(Closed, 3, 4, zoneout=0.1)


def test_numpy_booleans_are_booleans():
    layer = LSTM(3, 4, bidirectional=np.bool_(True), return_sequences=np.False_)
    assert layer.bidirectional is True and layer.return_sequences is False
    assert layer(torch.zeros(2, 5, 3))[0].shape == (2, 8)
