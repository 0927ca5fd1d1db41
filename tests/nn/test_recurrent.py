"""The runner: masks, direction, stacking, merge modes, state, dropout and backend choice."""

import logging

import pytest
import torch

from rnnkit.nn import GRU, LSTM, GRUCell, LSTMCell, Recurrent, SimpleRNN, SimpleRNNCell
from rnnkit.nn import recurrent as recurrent_module

VARIANTS = [
    {},
    {"layer_norm": True},
    {"recurrent_dropout": 0.3},
    {"weight_drop": 0.3},
    {"zoneout": 0.2},
    {"layer_norm": True, "recurrent_dropout": 0.2, "zoneout": 0.1, "weight_drop": 0.2},
]


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("variant", VARIANTS)
def test_padding_invariance_bidirectional_stacked(cls, variant):
    torch.manual_seed(0)
    layer = cls(3, 4, num_layers=2, bidirectional=True, **variant).eval()
    x = torch.randn(4, 8, 3)
    lengths = torch.tensor([8, 5, 2, 1])
    out, state = layer(x, lengths=lengths)
    states = state if isinstance(state, tuple) else (state,)
    for b, n in enumerate(lengths.tolist()):
        alone, st = layer(x[b : b + 1, :n])
        torch.testing.assert_close(out[b, :n], alone[0])
        assert not out[b, n:].any()
        for s_b, s_alone in zip(states, st if isinstance(st, tuple) else (st,)):
            torch.testing.assert_close(s_b[b], s_alone[0])


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_pre_post_and_ragged_masks(cls):
    torch.manual_seed(0)
    layer = cls(2, 3, bidirectional=True).eval()
    x = torch.randn(2, 6, 2)
    # post-padding via lengths and via mask, pre-padding via mask
    post, _ = layer(x, lengths=[6, 3])
    post_mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=torch.bool)
    torch.testing.assert_close(layer(x, mask=post_mask)[0], post)
    x_pre = x.clone()
    x_pre[1] = torch.cat([torch.zeros(3, 2), x[1, :3]])
    pre_mask = torch.tensor([[1] * 6, [0, 0, 0, 1, 1, 1]], dtype=torch.bool)
    pre, _ = layer(x_pre, mask=pre_mask)
    torch.testing.assert_close(pre[1, 3:], post[1, :3])
    assert layer.last_backend == ("torch" if cls is LSTM else "rnnkit")
    # a ragged mask (a hole in the middle) skips that step entirely
    ragged = torch.tensor([[1, 1, 0, 1, 1, 1]] * 2, dtype=torch.bool)
    out_r, _ = layer(x, mask=ragged)
    keep = [0, 1, 3, 4, 5]
    dense, _ = layer(x[:, keep])
    torch.testing.assert_close(out_r[:, keep], dense)
    assert not out_r[:, 2].any()


def test_return_sequences_false_and_merge_modes():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 2)
    base = GRU(2, 4, bidirectional=True).eval()
    seq, h = base(x)
    fwd, bwd = seq[..., :4], seq[..., 4:]
    for mode, merged in [("concat", seq), ("sum", fwd + bwd), ("mean", (fwd + bwd) / 2),
                         ("mul", fwd * bwd)]:
        layer = GRU(2, 4, bidirectional=True, merge_mode=mode).eval()
        layer.load_state_dict(base.state_dict())
        torch.testing.assert_close(layer(x)[0], merged)
        last = GRU(2, 4, bidirectional=True, merge_mode=mode, return_sequences=False).eval()
        last.load_state_dict(base.state_dict())
        want = layer._merge([h[:, 0], h[:, 1]])
        torch.testing.assert_close(last(x)[0], want)
    # the backward direction's "last" output is its state after reading back to step 0
    torch.testing.assert_close(h[:, 1], bwd[:, 0])
    torch.testing.assert_close(h[:, 0], fwd[:, -1])


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("backend", ["auto", "loop"])
def test_stateful_chunks_equal_one_pass_and_detach(cls, backend):
    torch.manual_seed(0)
    layer = cls(2, 3, num_layers=2, stateful=True, backend=backend).eval()
    x = torch.randn(2, 12, 2)
    full, _ = cls(2, 3, num_layers=2).eval().load_state_dict(layer.state_dict()) and (None, None)
    ref = cls(2, 3, num_layers=2).eval()
    ref.load_state_dict(layer.state_dict())
    full, full_state = ref(x)
    chunks = [layer(x[:, i : i + 4])[0] for i in range(0, 12, 4)]
    torch.testing.assert_close(torch.cat(chunks, 1), full)
    carried = layer.carried_state
    for c in carried if isinstance(carried, tuple) else (carried,):
        assert not c.requires_grad  # detached: truncated BPTT
    layer.reset_state()
    assert layer.carried_state is None
    torch.testing.assert_close(layer(x[:, :4])[0], full[:, :4])


def test_given_initial_state_is_used():
    torch.manual_seed(0)
    layer = LSTM(2, 3, num_layers=2).eval()
    x = torch.randn(2, 4, 2)
    h0, c0 = torch.randn(2, 2, 3), torch.randn(2, 2, 3)
    out, _ = layer(x, (h0, c0))
    out_zero, _ = layer(x)
    assert not torch.allclose(out, out_zero)
    # continuing from a returned state equals one pass
    first, st = layer(x[:, :2])
    second, _ = layer(x[:, 2:], st)
    torch.testing.assert_close(torch.cat([first, second], 1), out_zero)


@pytest.mark.parametrize("variant", [*VARIANTS[2:], {"dropout": 0.5, "num_layers": 2}])
def test_no_dropout_in_eval_and_random_in_training(variant):
    torch.manual_seed(0)
    layer = LSTM(3, 8, **variant)
    x = torch.randn(4, 6, 3)
    layer.eval()
    torch.testing.assert_close(layer(x)[0], layer(x)[0], rtol=0, atol=0)
    layer.train()
    assert not torch.allclose(layer(x)[0], layer(x)[0])


def test_recurrent_dropout_mask_is_one_per_sequence():
    cell = SimpleRNNCell(2, 1000, recurrent_dropout=0.25)
    cell.train()
    mask = cell.recurrent_dropout_mask(3)
    assert mask.shape == (3, 1000)
    assert set(mask.unique().tolist()) == {0.0, torch.tensor(1 / 0.75).item()}
    assert abs(float((mask == 0).float().mean()) - 0.25) < 0.03
    cell.eval()
    assert cell.recurrent_dropout_mask(3) is None


def test_zoneout_eval_uses_expectation():
    torch.manual_seed(0)
    z = GRU(2, 3, zoneout=0.3, backend="loop").eval()
    plain = GRU(2, 3, backend="loop").eval()
    plain.load_state_dict(z.state_dict())
    x = torch.randn(1, 1, 2)
    new, _ = plain(x)  # from h0 = 0: zoneout in eval gives 0.3 * 0 + 0.7 * new
    torch.testing.assert_close(z(x)[0], 0.7 * new)


def test_auto_backend_falls_back_to_loop_once_with_the_reason(caplog):
    recurrent_module._LOGGED.clear()
    layer = SimpleRNN(2, 3, activation=torch.sin)
    with caplog.at_level(logging.WARNING, logger="rnnkit.nn"):
        layer(torch.randn(1, 3, 2))
        layer(torch.randn(1, 3, 2))
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "activation='sin'" in messages[0]
    assert layer.last_backend == "loop"


def test_custom_cell_through_recurrent():
    class Doubler(SimpleRNNCell):
        def step(self, xp, state, w_hh, h_mask):
            return (torch.tanh(xp + state[0] @ w_hh.t()) * 2,)

    layer = Recurrent(Doubler, 2, 3)
    out, h = layer(torch.randn(2, 4, 2))
    assert layer.last_backend == "loop" and out.shape == (2, 4, 3)
    assert out.abs().max() <= 2


def test_auto_routes_to_the_faster_kernel_on_cpu():
    x = torch.randn(2, 5, 3)
    lengths = torch.tensor([5, 3])
    for hidden in (4, 128):  # at every size (bench/padded_batches.py, BENCHMARKS.md)
        gru, rnn, lstm = GRU(3, hidden), SimpleRNN(3, hidden), LSTM(3, hidden)
        for layer in (gru, rnn, lstm):
            layer(x)
        # no oneDNN kernel for GRU and SimpleRNN: rnnkit's; the LSTM on oneDNN's
        assert (gru.last_backend, rnn.last_backend, lstm.last_backend) == \
            ("rnnkit", "rnnkit", "torch")
        for layer in (gru, rnn, lstm):
            layer(x, lengths=lengths)  # lengths change nothing: no packed sequences
        assert (gru.last_backend, rnn.last_backend, lstm.last_backend) == \
            ("rnnkit", "rnnkit", "torch")
    # both routes compute the same function
    ref = LSTM(3, 128, backend="loop")
    ref.load_state_dict(lstm.state_dict())
    torch.testing.assert_close(lstm(x, lengths=lengths)[0], ref(x, lengths=lengths)[0])


# ------------------------------------------------- valid edge inputs equal the reference (issue 9)
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("backend", ["auto", "loop"])
def test_non_contiguous_and_requires_grad_inputs_equal_the_contiguous_ones(cls, backend):
    torch.manual_seed(0)
    layer = cls(3, 4, num_layers=2, bidirectional=True, backend=backend).eval()
    x_bit = torch.randn(2, 3, 6).transpose(1, 2)  # (B, T, I), not contiguous
    assert not x_bit.is_contiguous()
    ref, ref_state = layer(x_bit.contiguous())
    out, state = layer(x_bit)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    x_grad = x_bit.clone().requires_grad_(True)
    out_g, _ = layer(x_grad)
    torch.testing.assert_close(out_g, ref, rtol=0, atol=0)
    out_g.sum().backward()
    assert x_grad.grad is not None and x_grad.grad.shape == (2, 6, 3)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_unsorted_lengths_equal_each_sequence_run_alone(cls):
    torch.manual_seed(0)
    layer = cls(3, 4, bidirectional=True).eval()
    x = torch.randn(3, 7, 3)
    lengths = torch.tensor([2, 7, 4])  # not sorted
    out, state = layer(x, lengths=lengths)
    final = state if isinstance(state, torch.Tensor) else state[0]
    for b, n in enumerate(lengths.tolist()):
        alone, alone_state = layer(x[b : b + 1, :n])
        alone_h = alone_state if isinstance(alone_state, torch.Tensor) else alone_state[0]
        torch.testing.assert_close(out[b, :n], alone[0])
        assert not out[b, n:].any()
        torch.testing.assert_close(final[b], alone_h[0])


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_a_batch_of_zero_sequences_returns_empty_outputs(cls):
    layer = cls(3, 4, num_layers=2)
    out, state = layer(torch.zeros(0, 5, 3))
    assert out.shape == (0, 5, 4)
    h = state if isinstance(state, torch.Tensor) else state[0]
    assert h.shape == (0, 2, 4)
    assert layer(torch.zeros(0, 5, 3), lengths=torch.zeros(0, dtype=torch.long))[0].shape == (0, 5, 4)
    assert layer(torch.zeros(0, 5, 3), lengths=[])[0].shape == (0, 5, 4)
    assert layer(torch.zeros(0, 5, 3), mask=torch.zeros(0, 5, dtype=torch.bool))[0].shape == (0, 5, 4)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_a_float64_layer_takes_float64_input_and_state(cls):
    torch.manual_seed(0)
    layer = cls(3, 4).eval()
    x = torch.randn(2, 5, 3)
    ref, _ = layer(x)
    layer64 = layer.double()
    h = torch.zeros(2, 1, 4, dtype=torch.float64)
    out, _ = layer64(x.double(), (h, h) if cls is LSTM else h)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out.float(), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_the_layers_spell_out_every_option_with_the_cells_defaults(cls):
    import inspect

    layer_params = inspect.signature(cls).parameters
    cell = {SimpleRNN: SimpleRNNCell, LSTM: LSTMCell, GRU: GRUCell}[cls]
    cell_defaults = recurrent_module.cell_keywords(cell)
    runner = inspect.signature(Recurrent).parameters
    for name in [*cell_defaults, *recurrent_module._LAYER_KEYWORDS]:
        assert name in layer_params, name
        want = cell_defaults[name] if name in cell_defaults else runner[name].default
        assert layer_params[name].default == want, name
    assert layer_params["num_layers"].default == 1
