"""rnnkit.nn.attention_pooling against the textbook equations computed step by step."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.attention_pooling import AttentionPooling, masked_softmax


def _reference(layer: AttentionPooling, h: torch.Tensor, real: list[int]):
    """u_t = tanh(W h_t + b), s_t = v.u_t, alpha = softmax over real steps, c = sum alpha_t h_t."""
    W, b, v = (p.detach() for p in (layer.proj.weight, layer.proj.bias, layer.query))
    s = {t: float(v @ torch.tanh(W @ h[t] + b)) for t in real}
    z = sum(math.exp(x) for x in s.values())
    alpha = [math.exp(s[t]) / z if t in s else 0.0 for t in range(h.shape[0])]
    c = sum(alpha[t] * h[t] for t in real)
    return c, alpha


def test_matches_the_equations_over_real_steps_only():
    torch.manual_seed(0)
    layer = AttentionPooling(4, attention_size=3).double()
    h = torch.randn(2, 5, 4, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 1, 0, 0], [0, 1, 0, 1, 1]], dtype=torch.bool)
    c, w = layer(h, mask)
    assert c.shape == (2, 4) and w.shape == (2, 5)
    for b in range(2):
        real = [t for t in range(5) if bool(mask[b, t])]
        ref_c, ref_w = _reference(layer, h[b], real)
        torch.testing.assert_close(c[b], ref_c, atol=1e-12, rtol=0)
        assert w[b].tolist() == pytest.approx(ref_w, abs=1e-12)
    assert (w[~mask] == 0).all()
    torch.testing.assert_close(w.sum(1), torch.ones(2, dtype=torch.float64))


def test_padding_values_never_leak_and_lengths_equal_mask():
    torch.manual_seed(1)
    layer = AttentionPooling(3)
    h = torch.randn(2, 4, 3)
    lengths = torch.tensor([4, 2])
    c1, w1 = layer(h, lengths=lengths)
    h2 = h.clone()
    h2[1, 2:] = 1e4
    c2, w2 = layer(h2, torch.arange(4) < lengths[:, None])
    torch.testing.assert_close(c1, c2)
    torch.testing.assert_close(w1, w2)
    # a padded sequence pools like the same sequence cut to its length
    c3, _ = layer(h[1:2, :2])
    torch.testing.assert_close(c1[1:2], c3)


def test_a_query_aligned_step_takes_almost_all_weight():
    layer = AttentionPooling(2, attention_size=2)
    with torch.no_grad():
        layer.proj.weight.copy_(torch.eye(2) * 10)
        layer.proj.bias.zero_()
        layer.query.copy_(torch.tensor([10.0, 0.0]))
    h = torch.tensor([[[-1.0, 0.0], [1.0, 5.0], [-1.0, 0.0]]])
    c, w = layer(h)
    assert float(w[0, 1].detach()) > 0.999
    torch.testing.assert_close(c[0], h[0, 1], atol=1e-3, rtol=0)


def test_masked_softmax():
    s = torch.tensor([[1.0, 2.0, 3.0]])
    m = torch.tensor([[True, False, True]])
    out = masked_softmax(s, m)
    e1, e3 = math.exp(1.0), math.exp(3.0)
    assert out[0].tolist() == pytest.approx([e1 / (e1 + e3), 0.0, e3 / (e1 + e3)])
    torch.testing.assert_close(masked_softmax(s, None), torch.softmax(s, -1))


def test_gradcheck_float64():
    torch.manual_seed(2)
    layer = AttentionPooling(3, attention_size=2).double()
    h = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 0, 1], [1, 0, 0, 0]], dtype=torch.bool)
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]

    def f(h, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps)), (h, mask))

    assert torch.autograd.gradcheck(f, (h, *params), eps=1e-6, atol=1e-7)


def test_errors_and_repr():
    layer = AttentionPooling(3)
    with pytest.raises(ShapeError, match=r"h: expected 3 features in the last dimension .* got 5"):
        layer(torch.randn(2, 4, 5))
    with pytest.raises(ShapeError, match=r"h: expected a 3D tensor"):
        layer(torch.randn(4, 3))
    with pytest.raises(ShapeError, match=r"mask: expected at least one real step per sequence, got 1 empty"):
        layer(torch.randn(2, 4, 3), torch.tensor([[1, 0, 0, 0], [0, 0, 0, 0]]))
    with pytest.raises(ShapeError, match=r"mask: expected shape \(2, 4\)"):
        layer(torch.randn(2, 4, 3), torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(ConfigError, match=r"mask/lengths: expected at most one"):
        layer(torch.randn(2, 4, 3), torch.ones(2, 4, dtype=torch.bool), lengths=torch.tensor([4, 4]))
    with pytest.raises(ConfigError, match=r"attention_size: expected an integer >= 1, got 0"):
        AttentionPooling(3, attention_size=0)
    assert AttentionPooling(8).extra_repr() == "8"
    assert AttentionPooling(8, 4).extra_repr() == "8, attention_size=4"
