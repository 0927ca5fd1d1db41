"""rnnkit.nn.loop: the reference backend against the textbook equations (float64), with a
mask anywhere: a masked step carries the state and outputs zero; the DropConnect and
recurrent-dropout masks are drawn once per call; the steps are taken apart once (no per-step
indexing, whose backward is quadratic in T)."""

import collections

import pytest
import textbook as ref
import torch

from rnnkit.nn import GRUCell, LSTMCell, SimpleRNNCell
from rnnkit.nn.loop import run_loop


def _cell(cls, **options):
    torch.manual_seed(0)
    cell = cls(3, 4, **options).double()
    with torch.no_grad():
        cell.bias.uniform_(-0.5, 0.5)
    return cell


def test_unmasked_run_is_the_textbook_gru():
    cell = _cell(GRUCell)
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    h0 = torch.randn(2, 4, dtype=torch.float64)
    out, (h_n,) = run_loop(cell, x, (h0,), None)
    assert out.shape == (2, 6, 4)
    for b in range(2):
        want = ref.gru(x[b], cell.weight_ih, cell.weight_hh, cell.bias, h0[b],
                       cell.recurrent_bias)
        torch.testing.assert_close(out[b], torch.stack(want), rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(h_n[b], want[-1], rtol=1e-10, atol=1e-10)


def test_masked_steps_carry_the_state_and_output_zero():
    cell = _cell(LSTMCell)
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    h0, c0 = torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 0, 1, 0, 0],  # a hole, then post-padding
                         [0, 0, 1, 1, 1, 1]], dtype=torch.bool)  # pre-padding
    out, (h_n, c_n) = run_loop(cell, x, (h0, c0), mask)
    for b in range(2):
        hs, cs = ref.lstm(x[b, mask[b]], cell.weight_ih, cell.weight_hh, cell.bias, h0[b], c0[b])
        torch.testing.assert_close(out[b, mask[b]], torch.stack(hs), rtol=1e-10, atol=1e-10)
        assert not out[b, ~mask[b]].any()
        torch.testing.assert_close(h_n[b], hs[-1], rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(c_n[b], cs[-1], rtol=1e-10, atol=1e-10)


def test_a_fully_masked_row_keeps_its_initial_state():
    cell = _cell(SimpleRNNCell)
    x = torch.randn(2, 3, 3, dtype=torch.float64)
    h0 = torch.randn(2, 4, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 1], [0, 0, 0]], dtype=torch.bool)
    out, (h_n,) = run_loop(cell, x, (h0,), mask)
    assert torch.equal(h_n[1], h0[1]) and not out[1].any()
    want = ref.simple_rnn(x[0], cell.weight_ih, cell.weight_hh, cell.bias, h0[0])
    torch.testing.assert_close(h_n[0], want[-1], rtol=1e-10, atol=1e-10)


def test_masks_are_drawn_once_per_call(monkeypatch):
    cell = _cell(SimpleRNNCell, weight_drop=0.5, recurrent_dropout=0.5).train()
    calls = {"weight": 0, "dropout": 0}
    weight, dropout = cell.recurrent_weight, cell.recurrent_dropout_mask

    def counted_weight():
        calls["weight"] += 1
        return weight()

    def counted_dropout(batch):
        calls["dropout"] += 1
        return dropout(batch)

    monkeypatch.setattr(cell, "recurrent_weight", counted_weight)
    monkeypatch.setattr(cell, "recurrent_dropout_mask", counted_dropout)
    run_loop(cell, torch.randn(2, 9, 3, dtype=torch.float64), cell.zero_state(2), None)
    assert calls == {"weight": 1, "dropout": 1}


def _backward_nodes(t: torch.Tensor) -> collections.Counter:
    """The autograd graph behind ``t``: node type name -> count."""
    seen, count, stack = set(), collections.Counter(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        count[type(node).__name__] += 1
        stack.extend(f for f, _ in node.next_functions)
    return count


@pytest.mark.parametrize("cls", [SimpleRNNCell, LSTMCell, GRUCell])
@pytest.mark.parametrize("masked", [False, True])
def test_the_steps_are_taken_apart_once_so_the_backward_is_linear_in_time(cls, masked):
    """A per-step ``xp[:, t]`` puts T select nodes in the graph, each writing a full (B, T, G*H)
    zero gradient in the backward (quadratic in T); one unbind is one node."""
    cell = _cell(cls)
    x = torch.randn(2, 9, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.arange(9) < torch.tensor([9, 4])[:, None] if masked else None
    out, _ = run_loop(cell, x, cell.zero_state(2), mask)
    nodes = _backward_nodes(out.sum())
    assert nodes["UnbindBackward0"] == 1
    assert nodes["SelectBackward0"] == 0 and nodes["SliceBackward0"] == 0
