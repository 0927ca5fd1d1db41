"""rnnkit.nn.fused: which cells PyTorch's kernels serve (and the option that rules one out),
rnnkit's single bias in PyTorch's weight layout, and run_fused against the reference loop
with and without lengths; padded batches (one kernel call per layer and direction, the LSTM's
cell state held by a saturating input column) equal the reference loop in outputs, final states
and every gradient, on PyTorch's kernel and on rnnkit's, and pass gradcheck."""

import pytest
import torch
from torch import _VF

from rnnkit.errors import ConfigError
from rnnkit.nn import GRU, LSTM, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from rnnkit.nn.fused import _run_packed, flat_weights, run_fused, run_padded, unfusable_reason
from rnnkit.nn.loop import run_loop


class MyGRUCell(GRUCell):
    """A subclass: its step may differ, so no kernel serves it."""


@pytest.mark.parametrize("cell,reason", [
    (LSTMCell(2, 3), None),
    (GRUCell(2, 3), None),
    (SimpleRNNCell(2, 3, activation="relu"), None),
    (MyGRUCell(2, 3), "cell=MyGRUCell"),
    (LSTMCell(2, 3, layer_norm=True), "layer_norm=True"),
    (LSTMCell(2, 3, recurrent_dropout=0.2), "recurrent_dropout=0.2"),
    (GRUCell(2, 3, weight_drop=0.1), "weight_drop=0.1"),
    (SimpleRNNCell(2, 3, zoneout=0.3), "zoneout=0.3"),
    (SimpleRNNCell(2, 3, activation="elu"), "activation='elu'"),
    (GRUCell(2, 3, reset_after=False), "reset_after=False"),
])
def test_unfusable_reason_names_the_option(cell, reason):
    assert unfusable_reason(cell) == reason


def test_flat_weights_put_the_single_bias_in_b_ih():
    lstm = LSTMCell(2, 3)
    w_ih, w_hh, b_ih, b_hh = flat_weights(lstm)
    assert w_ih is lstm.weight_ih and w_hh is lstm.weight_hh and b_ih is lstm.bias
    assert torch.equal(b_hh, torch.zeros(12))
    gru = GRUCell(2, 3)
    with torch.no_grad():
        gru.recurrent_bias.copy_(torch.tensor([1.0, 2.0, 3.0]))
    b_hh = flat_weights(gru)[3]  # (r, z, n): b_hn in the n third
    assert b_hh.tolist() == [0.0] * 6 + [1.0, 2.0, 3.0]


def test_flat_weights_of_an_unserved_cell_is_an_error():
    with pytest.raises(ConfigError) as info:
        flat_weights(MyGRUCell(2, 3))
    assert str(info.value) == ("cell: expected a cell that PyTorch's kernels serve, got "
                               "cell=MyGRUCell. run it with backend='loop'")


@pytest.mark.parametrize("cls", [SimpleRNNCell, LSTMCell, GRUCell])
@pytest.mark.parametrize("lengths", [None, [5, 2, 4]])
def test_run_fused_equals_the_reference_loop(cls, lengths):
    torch.manual_seed(0)
    cell = cls(3, 4).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.uniform_(-0.5, 0.5)
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    state = tuple(torch.randn(3, 4, dtype=torch.float64) for _ in range(cell.num_states))
    mask = None
    if lengths is not None:
        lengths = torch.tensor(lengths)
        mask = torch.arange(5) < lengths[:, None]  # (B, T) post-padding
    want_out, want_state = run_loop(cell, x, state, mask)
    out, final = run_fused([cell], x, tuple(s[None] for s in state), num_layers=1,
                           bidirectional=False, dropout=0.0, training=False, lengths=lengths)
    torch.testing.assert_close(out, want_out)
    assert len(final) == cell.num_states
    for got, want in zip(final, want_state):
        torch.testing.assert_close(got[0], want)  # (L*D, B, H) -> (B, H)


# ------------------------------------------- padded batches: one kernel call, no PackedSequence
def _layers(cls, backend, **options):
    """(layer on ``backend``, the same weights on the reference loop), float64."""
    torch.manual_seed(0)
    ref = cls(3, 4, backend="loop", **options).double()
    with torch.no_grad():
        for p in ref.parameters():
            p.uniform_(-0.6, 0.6)
    layer = cls(3, 4, backend=backend, **options).double()
    layer.load_state_dict(ref.state_dict())
    return layer, ref


def _run(layer, x, state, lengths):
    """Outputs, final state and the gradients of x, the state and every parameter."""
    x = x.clone().requires_grad_()
    state = tuple(s.clone().requires_grad_() for s in state)
    out, final = layer(x, state if len(state) == 2 else state[0], lengths=lengths)
    final = final if isinstance(final, tuple) else (final,)
    weights = torch.linspace(-1, 1, out.shape[-1], dtype=out.dtype)
    loss = (out * weights).square().sum() + sum((f * weights[:f.shape[-1]]).sum() for f in final)
    grads = torch.autograd.grad(loss, [x, *state, *layer.parameters()])
    return out.detach(), tuple(f.detach() for f in final), grads


LENGTHS = {
    "unsorted": [3, 7, 1, 5, 7, 2],
    "ties": [4, 4, 2, 2, 7, 7],
    "all equal, below T": [5, 5, 5, 5, 5, 5],
    "all equal to T": [7, 7, 7, 7, 7, 7],
    "length 1": [1, 1, 1, 7, 1, 1],
}


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("case", list(LENGTHS))
@pytest.mark.parametrize("backend", ["torch", "rnnkit"])
def test_padded_batches_equal_the_reference_loop(cls, bidirectional, case, backend):
    layer, ref = _layers(cls, backend, num_layers=2, bidirectional=bidirectional)
    lengths = torch.tensor(LENGTHS[case])
    x = torch.randn(6, 7, 3, dtype=torch.float64)
    x[torch.arange(7) >= lengths[:, None]] = 1e3  # padding: its values must not matter
    rows = layer.num_layers * layer.num_directions
    state = tuple(torch.randn(6, rows, 4, dtype=torch.float64) for _ in range(layer.num_states))
    got, want = _run(layer, x, state, lengths), _run(ref, x, state, lengths)
    assert layer.last_backend == backend and ref.last_backend == "loop"
    torch.testing.assert_close(got[0], want[0], rtol=1e-10, atol=1e-10)  # outputs
    assert not got[0][torch.arange(7) >= lengths[:, None]].any()  # zero at padded steps
    for g, w in zip(got[1], want[1]):  # final states
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-10)
    for g, w in zip(got[2], want[2]):  # gradients of x, the state and every parameter
        torch.testing.assert_close(g, w, rtol=1e-9, atol=1e-10)
    assert not got[2][0][torch.arange(7) >= lengths[:, None]].any()  # none for the padding


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_run_padded_ends_each_sequence_where_it_would_end_alone(dtype):
    torch.manual_seed(0)
    cell = LSTMCell(3, 4).to(dtype)
    lengths = torch.tensor([6, 2, 4])
    x = torch.randn(3, 6, 3, dtype=dtype)
    state = (torch.randn(3, 4, dtype=dtype), torch.randn(3, 4, dtype=dtype))
    out, (h, c) = run_padded(_VF.lstm, flat_weights(cell), x, state, lengths)
    for b, n in enumerate(lengths.tolist()):  # each sequence alone, unpadded
        out_b, (h_b, c_b) = run_padded(_VF.lstm, flat_weights(cell), x[b:b + 1, :n],
                                       tuple(s[b:b + 1] for s in state), lengths[b:b + 1])
        torch.testing.assert_close(out[b, :n], out_b[0])
        torch.testing.assert_close(h[b], h_b[0])
        torch.testing.assert_close(c[b], c_b[0])  # c held through the padding


def test_run_padded_reads_padding_as_zeros_even_when_it_is_not_finite():
    torch.manual_seed(0)
    for cell in (LSTMCell(3, 4), GRUCell(3, 4)):
        x = torch.randn(2, 5, 3)
        x[1, 3:] = float("nan")  # padding of a layer built with check_finite=False
        kernel = _VF.lstm if cell.num_states == 2 else _VF.gru
        state = tuple(torch.zeros(2, 4) for _ in range(cell.num_states))
        out, final = run_padded(kernel, flat_weights(cell), x, state, torch.tensor([5, 3]))
        assert torch.isfinite(out).all() and all(torch.isfinite(s).all() for s in final)
        assert not out[1, 3:].any()


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_padded_batches_gradcheck_on_pytorchs_kernel(cls):
    torch.manual_seed(0)
    layer = cls(2, 3, bidirectional=True, backend="torch").double()  # auto: GRU, RNN on rnnkit's
    x = torch.randn(3, 4, 2, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([2, 4, 1])

    def f(x, *params):
        out, final = torch.func.functional_call(
            layer, dict(zip([n for n, _ in layer.named_parameters()], params)), (x,),
            {"lengths": lengths})
        return (out, *final) if isinstance(final, tuple) else (out, final)
    assert torch.autograd.gradcheck(f, (x, *layer.parameters()), eps=1e-6, atol=1e-6)
    assert layer.last_backend == "torch"


@pytest.mark.parametrize("cls", [LSTMCell, GRUCell])
def test_the_gpu_path_on_packed_sequences_equals_the_cpu_path(cls):
    """Run here on the CPU (no GPU in the test machines): the packed-sequence path kept for
    cuDNN computes what run_padded does, two layers, both directions."""
    torch.manual_seed(0)
    cells = [cls(3, 4).double(), cls(3, 4).double(), cls(8, 4).double(), cls(8, 4).double()]
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    state = tuple(torch.randn(4, 3, 4, dtype=torch.float64) for _ in range(cells[0].num_states))
    lengths = torch.tensor([2, 5, 3])
    options = {"num_layers": 2, "bidirectional": True, "dropout": 0.0, "training": False}
    want = run_fused(cells, x, state, lengths=lengths, **options)
    kernel = _VF.lstm if cls is LSTMCell else _VF.gru
    weights = [w for cell in cells for w in flat_weights(cell)]
    got = _run_packed(kernel, weights, x, state, lengths, **options)
    torch.testing.assert_close(got[0], want[0])
    for g, w in zip(got[1], want[1]):
        torch.testing.assert_close(g, w)
