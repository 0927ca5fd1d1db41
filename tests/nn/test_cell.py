"""rnnkit.nn.cell: what every cell shares: the parameter layout (G·H rows per matrix),
one step through forward (batched and unbatched), the state checks, the regularizers' masks
and the repr."""

import pytest
import torch

from rnnkit.errors import ShapeError, StateError
from rnnkit.nn import LSTM, GRUCell, LSTMCell, SimpleRNNCell
from rnnkit.nn.cell import RecurrentCell

I, H = 3, 5


def test_parameter_counts():
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(SimpleRNNCell(50, 128)) == 22_912  # 50*128 + 128*128 + 128
    assert count(LSTMCell(50, 128)) == 4 * (128 * 50 + 128 * 128 + 128)
    assert count(GRUCell(50, 128)) == 3 * (128 * 50 + 128 * 128) + 4 * 128
    assert count(GRUCell(50, 128, reset_after=False)) == 3 * (128 * 50 + 128 * 128 + 128)
    assert count(LSTMCell(50, 128, layer_norm=True)) == count(LSTMCell(50, 128)) + 10 * 128
    # the tutorial's battery model: LSTM(50) -> LSTM(50) on 1 feature, as in Keras
    assert count(LSTM(1, 50, num_layers=2)) == 10_400 + 20_200


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


def test_repr_names_every_non_default_option():
    cell = SimpleRNNCell(3, 4, recurrent_dropout=0.2, weight_drop=0.1, layer_norm=True,
                         kernel_init="zeros", recurrent_init="identity", bias_init="ones")
    assert repr(cell) == ("SimpleRNNCell(3, 4, recurrent_dropout=0.2, weight_drop=0.1, "
                          "layer_norm=True, kernel_init='zeros', recurrent_init='identity', "
                          "bias_init='ones')")


def test_state_size_and_zero_state():
    assert SimpleRNNCell(I, H).state_size == (H,) and LSTMCell(I, H).state_size == (H, H)
    h, c = LSTMCell(I, H).double().zero_state(4)
    assert h.shape == c.shape == (4, H) and h.dtype == torch.float64
    assert not h.any() and not c.any()
    (h,) = GRUCell(I, H).zero_state(2, dtype=torch.float16)
    assert h.shape == (2, H) and h.dtype == torch.float16


def test_forward_returns_the_output_and_the_state_batched_and_unbatched():
    torch.manual_seed(0)
    cell = GRUCell(I, H)
    x, h0 = torch.randn(2, I), torch.randn(2, H)
    h, state = cell(x, h0)
    assert h.shape == (2, H) and state is h  # one-state cells return a tensor
    h_one, state_one = cell(x[1], h0[1])  # unbatched: (I,) and (H,)
    assert h_one.shape == (H,)
    torch.testing.assert_close(h_one, h[1])
    lstm = LSTMCell(I, H)
    h, (h_again, c) = lstm(x)  # from the zero state
    assert h is h_again and c.shape == (2, H)


def test_forward_checks_the_input_and_the_state():
    cell = LSTMCell(I, H)
    with pytest.raises(ShapeError) as info:
        cell(torch.randn(2, 4))
    assert str(info.value) == "x: expected shape (batch, 3), got (2, 4)"
    with pytest.raises(StateError) as info:
        cell(torch.randn(2, I), (torch.zeros(2, H),))
    assert str(info.value) == "state: expected 2 tensor(s), got 1"
    with pytest.raises(StateError, match=r"^state: expected tensors of shape \(2, 5\), got \(3, 5\)$"):
        GRUCell(I, H)(torch.randn(2, I), torch.zeros(3, H))


def test_the_base_cell_has_no_step():
    cell = RecurrentCell(I, H)
    cell.reset_parameters()
    assert (cell.num_gates, cell.num_states) == (1, 1)
    with pytest.raises(NotImplementedError):
        cell(torch.randn(1, I))


def test_regularizer_masks_only_in_training():
    cell = SimpleRNNCell(I, H, weight_drop=0.5, zoneout=0.3)
    assert cell.is_regularized and not SimpleRNNCell(I, H).is_regularized
    cell.eval()
    assert cell.recurrent_weight() is cell.weight_hh
    assert cell.zoneout_masks(4, 2) is None
    cell.train()
    torch.manual_seed(0)
    w = cell.recurrent_weight()  # DropConnect: each weight dropped or doubled (1 / keep)
    kept = w != 0
    torch.testing.assert_close(w[kept], cell.weight_hh[kept] * 2)
    masks = cell.zoneout_masks(4, 2)
    assert masks.shape == (4, 1, 2, H) and set(masks.unique().tolist()) <= {0.0, 1.0}


def test_zoneout_mixes_old_and_new_state():
    cell = SimpleRNNCell(I, 2, zoneout=0.25)
    old, new = (torch.tensor([[4.0, 8.0]]),), (torch.tensor([[0.0, 4.0]]),)
    torch.testing.assert_close(cell.apply_zoneout(old, new, None)[0],
                               torch.tensor([[1.0, 5.0]]))  # eval: 0.25 old + 0.75 new
    keep_old = torch.tensor([[[1.0, 0.0]]])  # (S, B, H): unit 0 keeps its old value
    torch.testing.assert_close(cell.apply_zoneout(old, new, keep_old)[0],
                               torch.tensor([[4.0, 4.0]]))
    assert SimpleRNNCell(I, 2).apply_zoneout(old, new, None) is new
