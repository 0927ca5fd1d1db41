"""The kernels' shared helpers (rnnkit.nn.backends.common) against plain torch."""

from __future__ import annotations

import pytest
import torch

from rnnkit.nn.backends import common


@pytest.mark.parametrize("n", [10, 1 << 13])  # torch.tanh below SMALL_TANH, sigmoid above
def test_fast_tanh_equals_torch_tanh(n):
    x = torch.randn(n) * 4
    out = torch.empty_like(x)
    assert common.fast_tanh(x, out) is out
    torch.testing.assert_close(out, torch.tanh(x), rtol=0, atol=1e-6)


def test_chunks_cover_every_step_once_last_first(monkeypatch):
    monkeypatch.setattr(common, "CHUNK_BYTES", 300)
    blocks = common.chunks(7, 100)  # 3 steps per block
    assert blocks == [range(6, 7), range(3, 6), range(0, 3)]
    assert common.chunks(3, 1 << 30) == [range(2, 3), range(1, 2), range(0, 1)]  # >= 1 step
    assert common.chunks(3, 1) == [range(0, 3)]  # at most every step


@pytest.mark.parametrize("small", [True, False])
def test_linear_forward_and_backward(small, monkeypatch):
    if not small:
        monkeypatch.setattr(common, "SMALL_PRODUCT", 0)  # oneDNN where available
    torch.manual_seed(0)
    w, h, d = torch.randn(12, 5), torch.randn(4, 5), torch.randn(4, 12)
    base, bias, base_h = torch.randn(4, 12), torch.randn(12), torch.randn(4, 5)
    fwd, bwd = common.Linear(w, 4, backward=False), common.Linear(w, 4, backward=True)
    assert fwd.onednn == (not small and common.ONEDNN)
    torch.testing.assert_close(fwd.fwd(h), h @ w.t())
    torch.testing.assert_close(fwd.fwd(h, base, bias), base + h @ w.t() + bias)
    torch.testing.assert_close(bwd.bwd(d), d @ w)
    torch.testing.assert_close(bwd.bwd(d, base_h), base_h + d @ w)


def test_weight_grad_is_the_sum_over_steps():
    d, x = torch.randn(3, 4, 6, dtype=torch.float64), torch.randn(3, 4, 5, dtype=torch.float64)
    expected = sum(d[t].t() @ x[t] for t in range(3))
    torch.testing.assert_close(common.weight_grad(d, x), expected)


def test_step_grads_and_final_grad():
    like = torch.empty(3, 2, 4)  # (T, B, H)
    zeros = common.step_grads(None, like)
    assert len(zeros) == 3 and all(z.shape == (2, 4) and not z.any() for z in zeros)
    d_out = torch.randn(2, 3, 4)  # (B, T, H)
    for t, g in enumerate(common.step_grads(d_out, like)):
        torch.testing.assert_close(g, d_out[:, t])
    d = torch.randn(4, 2).t()  # not contiguous
    got = common.final_grad(d, like[0])
    assert got.is_contiguous() and torch.equal(got, d) and got is not d


def test_step_norm_equals_layer_norm_and_its_gradients():
    torch.manual_seed(0)
    T, B, N = 3, 2, 6
    x = torch.randn(T, B, N, dtype=torch.float64, requires_grad=True)
    w = torch.randn(N, dtype=torch.float64, requires_grad=True)
    b = torch.randn(N, dtype=torch.float64, requires_grad=True)
    norm = common.StepNorm(w.detach(), b.detach())
    ys = torch.stack([norm.forward(x[t].detach()) for t in range(T)])
    ref = torch.nn.functional.layer_norm(x, (N,), w, b, common.EPS)
    torch.testing.assert_close(ys, ref)
    d_y = torch.randn(T, B, N, dtype=torch.float64)
    gx, gw, gb = torch.autograd.grad(ref, [x, w, b], d_y)
    back = common.StepNorm(w.detach(), b.detach(), *norm.stats())
    for t in range(T):
        torch.testing.assert_close(back.backward(t, d_y[t], x[t].detach()), gx[t])
    d_w, d_b = back.param_grads(d_y, x.detach())
    torch.testing.assert_close(d_w, gw)
    torch.testing.assert_close(d_b, gb)


def test_carry_back_adds_the_recurrent_products_gradient_masked():
    torch.manual_seed(1)
    w, d = torch.randn(12, 5), torch.randn(4, 12)
    base, hm = torch.randn(4, 5), (torch.rand(4, 5) > 0.3).float() * 2
    lin = common.Linear(w, 4, backward=True)
    out = torch.empty(4, 5)
    torch.testing.assert_close(common.carry_back(lin, d, base, None, out), base + d @ w)
    torch.testing.assert_close(common.carry_back(lin, d, base, hm, out), base + (d @ w) * hm)
