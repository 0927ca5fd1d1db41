"""Attention: masking, normalization, and the three scores against hand computations."""

import math

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.attention import (
    ATTENTIONS,
    AdditiveAttention,
    MultiplicativeAttention,
    build_attention,
    masked_softmax,
)


def _make(kind: str, q: int = 6, k: int = 6):
    torch.manual_seed(0)
    return build_attention(kind, q, k, attn_size=5).double()


@pytest.mark.parametrize("kind", ATTENTIONS)
@pytest.mark.parametrize("steps", [None, 3])
def test_weights_sum_to_one_and_are_zero_on_padding(kind, steps):
    attn = _make(kind)
    B, S = 3, 7
    keys = torch.randn(B, S, 6, dtype=torch.float64)
    lengths = torch.tensor([7, 4, 1])
    query = torch.randn(B, 6, dtype=torch.float64) if steps is None else torch.randn(
        B, steps, 6, dtype=torch.float64)
    context, weights = attn(query, keys, lengths=lengths)
    assert weights.shape == ((B, S) if steps is None else (B, steps, S))
    assert context.shape == ((B, 6) if steps is None else (B, steps, 6))
    w = weights if steps is not None else weights.unsqueeze(1)
    torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:2], dtype=torch.float64))
    for b, n in enumerate(lengths.tolist()):
        assert bool((w[b, :, n:] == 0).all())  # exactly zero, not just small
        assert bool((w[b, :, :n] > 0).all())
    # padded keys cannot leak into the context: change them, nothing changes
    keys2 = keys.clone()
    keys2[1, 4:] = 1e3
    keys2[2, 1:] = -1e3
    context2, _ = attn(query, keys2, lengths=lengths)
    torch.testing.assert_close(context, context2)


def test_mask_and_lengths_agree():
    attn = _make("general")
    keys, query = torch.randn(2, 5, 6, dtype=torch.float64), torch.randn(2, 6, dtype=torch.float64)
    lengths = torch.tensor([5, 2])
    mask = torch.arange(5) < lengths[:, None]
    a = attn(query, keys, lengths=lengths)
    b = attn(query, keys, mask=mask)
    torch.testing.assert_close(a, b)


def test_bahdanau_against_hand_computation():
    attn = _make("bahdanau")
    assert isinstance(attn, AdditiveAttention)
    B, S = 2, 4
    keys = torch.randn(B, S, 6, dtype=torch.float64)
    query = torch.randn(B, 6, dtype=torch.float64)
    lengths = [4, 3]
    context, weights = attn(query, keys, lengths=torch.tensor(lengths))
    Wq, Wk = attn.query_proj.weight.detach(), attn.key_proj.weight.detach()
    bk, v = attn.key_proj.bias.detach(), attn.v.detach()
    for b in range(B):
        scores = [float(v @ torch.tanh(Wq @ query[b] + Wk @ keys[b, j] + bk))
                  for j in range(lengths[b])]
        z = sum(math.exp(s) for s in scores)
        alpha = [math.exp(s) / z for s in scores]
        ctx = sum(a * keys[b, j] for j, a in enumerate(alpha))
        torch.testing.assert_close(weights[b, : lengths[b]],
                                   torch.tensor(alpha, dtype=torch.float64))
        torch.testing.assert_close(context[b], ctx)


@pytest.mark.parametrize("score", ["dot", "general"])
def test_luong_against_hand_computation(score):
    attn = _make(score)
    assert isinstance(attn, MultiplicativeAttention)
    keys = torch.randn(1, 3, 6, dtype=torch.float64)
    values = torch.randn(1, 3, 2, dtype=torch.float64)
    query = torch.randn(1, 6, dtype=torch.float64)
    context, weights = attn(query, keys, values)
    W = attn.weight.detach() if score == "general" else torch.eye(6, dtype=torch.float64)
    scores = [float(query[0] @ W @ keys[0, j]) for j in range(3)]
    z = sum(math.exp(s) for s in scores)
    alpha = torch.tensor([math.exp(s) / z for s in scores], dtype=torch.float64)
    torch.testing.assert_close(weights[0], alpha)
    torch.testing.assert_close(context[0], alpha @ values[0])  # values, not keys


def test_multi_step_query_equals_one_step_at_a_time():
    attn = _make("bahdanau")
    keys = torch.randn(2, 5, 6, dtype=torch.float64)
    q = torch.randn(2, 3, 6, dtype=torch.float64)
    lengths = torch.tensor([5, 3])
    ctx, w = attn(q, keys, lengths=lengths)
    proj = attn.precompute(keys)
    for t in range(3):
        c_t, w_t = attn(q[:, t], keys, lengths=lengths, keys_proj=proj)
        torch.testing.assert_close(ctx[:, t], c_t)
        torch.testing.assert_close(w[:, t], w_t)


def test_gradients_are_finite_with_padding():
    attn = _make("general")
    keys = torch.randn(2, 4, 6, dtype=torch.float64, requires_grad=True)
    query = torch.randn(2, 6, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2])
    assert torch.autograd.gradcheck(lambda q, k: attn(q, k, lengths=lengths)[0], (query, keys))
    context, _ = attn(query, keys, lengths=lengths)
    context.sum().backward()
    assert bool(torch.isfinite(keys.grad).all())
    assert bool((keys.grad[1, 2:] == 0).all())  # padded keys get no gradient


def test_masked_softmax_without_mask_is_softmax():
    x = torch.randn(3, 4)
    torch.testing.assert_close(masked_softmax(x, None), torch.softmax(x, -1))


def test_errors_name_the_argument():
    with pytest.raises(ConfigError, match="attention: expected one of"):
        build_attention("cosine", 4, 4)
    with pytest.raises(ConfigError, match="key_size: expected 4 .*score='general'"):
        build_attention("dot", 4, 6)
    attn = build_attention("general", 4, 6)
    keys = torch.randn(2, 3, 6)
    with pytest.raises(ShapeError, match=r"query: expected shape \(2, 4\)"):
        attn(torch.randn(2, 5), keys)
    with pytest.raises(ShapeError, match="keys: expected shape"):
        attn(torch.randn(2, 4), torch.randn(2, 3, 5))
    with pytest.raises(ShapeError, match="mask: expected at least one real source step"):
        attn(torch.randn(2, 4), keys, mask=torch.tensor([[True, False, False], [False] * 3]))
    with pytest.raises(ShapeError, match=r"lengths: expected values in \[1, 3\]"):
        attn(torch.randn(2, 4), keys, lengths=torch.tensor([0, 3]))
    with pytest.raises(ConfigError, match="lengths/mask: expected at most one"):
        attn(torch.randn(2, 4), keys, lengths=torch.tensor([1, 3]),
             mask=torch.ones(2, 3, dtype=torch.bool))
