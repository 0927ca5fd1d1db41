"""rnnkit's BPTT kernels (rnnkit.nn.bptt) against the reference loop (rnnkit.nn.loop).

Every cell, every option and their combinations, with masks of every layout, in eval and in
training mode (same seed, same masks): outputs, final states and the gradient of every
input, initial state and parameter must equal run_loop's; gradcheck in float64 on top.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn import GRU, LSTM, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell, bptt
from rnnkit.nn.bptt import run_bptt, unsupported_reason
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.loop import run_loop

CELLS = {
    "lstm": (LSTMCell, {}),
    "gru": (GRUCell, {}),
    "gru_cho": (GRUCell, {"reset_after": False}),
    "rnn_tanh": (SimpleRNNCell, {}),
    "rnn_relu": (SimpleRNNCell, {"activation": "relu"}),
    "rnn_elu": (SimpleRNNCell, {"activation": "elu"}),
}
ACTIVATIONS = ["sigmoid", "hard_tanh", "softsign", "identity", torch.tanh]
VARIANTS = {
    "plain": {},
    "ln": {"layer_norm": True},
    "rdrop": {"recurrent_dropout": 0.3},
    "wdrop": {"weight_drop": 0.3},
    "zoneout": {"zoneout": 0.3},
    "all": {"layer_norm": True, "recurrent_dropout": 0.2, "weight_drop": 0.2, "zoneout": 0.2},
    "ln_zoneout": {"layer_norm": True, "zoneout": 0.4},
}
B, T, I, H = 3, 5, 4, 6
MASKS = {
    "none": None,
    "post": torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool),
    "pre": torch.tensor([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 1]], dtype=torch.bool),
    "ragged": torch.tensor([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1], [1, 1, 0, 0, 1]],
                           dtype=torch.bool),
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors gain nothing from intra-op threads, and on a shared machine OpenMP's
    barriers make them ten times slower: run this module on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _make(name: str, variant: str, dtype=torch.float64, size=(I, H)) -> RecurrentCell:
    cls, extra = CELLS[name]
    torch.manual_seed(1)
    return cls(*size, **extra, **VARIANTS[variant]).to(dtype)


def _run(run, cell: RecurrentCell, x, state, mask, seed: int = 7):
    """Outputs, final state and the gradients of a random linear loss w.r.t. everything."""
    torch.manual_seed(seed)  # the same random masks for both backends
    out, final = run(cell, x, state, mask)
    gen = torch.Generator().manual_seed(3)
    loss = (out * torch.randn(out.shape, generator=gen, dtype=out.dtype)).sum()
    for s in final:
        loss = loss + (s * torch.randn(s.shape, generator=gen, dtype=s.dtype)).sum()
    names = ["x", *(f"state{i}" for i in range(len(state))),
             *(n for n, _ in cell.named_parameters())]
    grads = torch.autograd.grad(loss, [x, *state, *cell.parameters()], allow_unused=True)
    return out, final, dict(zip(names, grads))


def _inputs(cell: RecurrentCell, dtype, batch=B, steps=T):
    torch.manual_seed(2)
    x = torch.randn(batch, steps, cell.input_size, dtype=dtype, requires_grad=True)
    state = tuple(torch.randn(batch, cell.hidden_size, dtype=dtype, requires_grad=True)
                  for _ in range(cell.num_states))
    return x, state


def _assert_same(cell, x, state, mask, rtol: float, atol: float, scaled: bool = False):
    """run_bptt equals run_loop; with ``scaled``, atol is relative to each tensor's largest
    entry (float32 layer norm over 30 steps amplifies rounding in both backends alike)."""
    out_l, fin_l, g_l = _run(run_loop, cell, x, state, mask)
    out_b, fin_b, g_b = _run(run_bptt, cell, x, state, mask)

    def close(actual, expected, what):
        tol = atol * (1 + float(expected.detach().abs().max())) if scaled else atol
        torch.testing.assert_close(actual, expected, rtol=rtol, atol=tol,
                                   msg=lambda m: f"{what}: {m}")

    close(out_b, out_l, "outputs")
    for i, (a, b) in enumerate(zip(fin_b, fin_l)):
        close(a, b, f"final state {i}")
    assert g_b.keys() == g_l.keys()
    for name in g_l:
        assert (g_b[name] is None) == (g_l[name] is None), name
        if g_l[name] is not None:
            close(g_b[name], g_l[name], f"gradient of {name}")


# -------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(CELLS))
def test_equals_loop_float64_every_mask_eval_and_train(name, variant):
    for mask, train in itertools.product(MASKS.values(), [False, True]):
        cell = _make(name, variant).train(train)
        x, state = _inputs(cell, torch.float64)
        _assert_same(cell, x, state, mask, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("variant", ["plain", "all"])
@pytest.mark.parametrize("name", list(CELLS))
def test_blockwise_derivatives_equal_loop(name, variant, monkeypatch):
    """The backward precomputes local derivatives in blocks of steps: blocks of 1 and of 2
    steps (7 steps: a partial last block) give the same gradients as the loop."""
    cell = _make(name, variant).train()
    x, state = _inputs(cell, torch.float64, steps=7)
    mask = torch.tensor([[1] * 7, [1, 0, 1, 1, 1, 1, 0], [1] * 5 + [0] * 2], dtype=torch.bool)
    monkeypatch.setattr(bptt, "_SMALL_TANH", 0)
    for steps_per_block in (1, 2):
        step_bytes = B * H * cell.num_gates * 8
        monkeypatch.setattr(bptt, "_CHUNK_BYTES", steps_per_block * step_bytes)
        _assert_same(cell, x, state, mask, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
@pytest.mark.parametrize("variant", ["plain", "all"])
def test_every_activation_equals_loop(activation, variant):
    torch.manual_seed(1)
    cell = SimpleRNNCell(I, H, activation=activation, **VARIANTS[variant]).double().train()
    x, state = _inputs(cell, torch.float64)
    _assert_same(cell, x, state, MASKS["ragged"], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(CELLS))
def test_equals_loop_float32_longer(name, variant, monkeypatch):
    """Float32 on the paths that large sizes take: oneDNN products, tanh via sigmoid."""
    monkeypatch.setattr(bptt, "_SMALL_PRODUCT", 0)
    monkeypatch.setattr(bptt, "_SMALL_TANH", 0)
    cell = _make(name, variant, torch.float32, size=(7, 32)).train()
    assert bptt._Linear(cell.weight_hh, 8, backward=False).onednn == bptt._ONEDNN
    x, state = _inputs(cell, torch.float32, batch=8, steps=30)
    lengths = torch.tensor([30, 29, 17, 30, 1, 8, 30, 12])
    mask = torch.arange(30) < lengths[:, None]
    _assert_same(cell, x, state, mask, rtol=1e-4, atol=1e-5, scaled=True)


class _Runner(torch.nn.Module):
    """run_bptt as a module, so that torch.func.functional_call can swap the parameters."""

    def __init__(self, cell: RecurrentCell) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x, state, mask):
        return run_bptt(self.cell, x, state, mask)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", list(CELLS))
def test_gradcheck(name, variant):
    runner = _Runner(_make(name, variant, size=(2, 3)).train())
    names = [n for n, _ in runner.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in runner.parameters()]
    x, state = _inputs(runner.cell, torch.float64, batch=2, steps=4)
    mask = torch.tensor([[1, 0, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    S = len(state)

    def f(x, *tensors):
        torch.manual_seed(11)  # the same dropout/zoneout masks at every evaluation
        st, ps = tensors[:S], tensors[S:]
        out, final = torch.func.functional_call(runner, dict(zip(names, ps)), (x, st, mask))
        return out, *final

    # fast mode checks random projections of the Jacobian (full mode: 100x slower here)
    assert torch.autograd.gradcheck(f, (x, *state, *params), eps=1e-6, atol=1e-6,
                                    fast_mode=True)


# ------------------------------------------------------------- through the Recurrent layer
@pytest.mark.parametrize("cls,extra", [(LSTM, {}), (GRU, {}), (GRU, {"reset_after": False}),
                                       (SimpleRNN, {"activation": "elu"})])
@pytest.mark.parametrize("variant", ["ln", "all"])
@pytest.mark.parametrize("padding", ["lengths", "ragged"])
def test_bidirectional_stacked_layer_fused_equals_loop(cls, extra, variant, padding):
    kwargs = dict(num_layers=2, bidirectional=True, dropout=0.2, **extra, **VARIANTS[variant])
    torch.manual_seed(0)
    fused = cls(3, 5, backend="fused", **kwargs).double().train()
    loop = cls(3, 5, backend="loop", **kwargs).double().train()
    loop.load_state_dict(fused.state_dict())
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    lengths = torch.tensor([7, 5, 2, 1])
    call = ({"lengths": lengths} if padding == "lengths" else
            {"mask": torch.tensor([[1, 0, 1, 1, 1, 0, 1]] * 4, dtype=torch.bool)})
    results = []
    for layer in (fused, loop):
        xi = x.clone().requires_grad_()
        torch.manual_seed(5)
        out, state = layer(xi, **call)
        states = state if isinstance(state, tuple) else (state,)
        loss = (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum()
        loss = loss + sum((s ** 2).sum() for s in states)
        loss.backward()
        results.append((out, states, xi.grad, {n: p.grad for n, p in layer.named_parameters()}))
    assert fused.last_backend == "rnnkit" and loop.last_backend == "loop"
    (out_f, st_f, gx_f, gp_f), (out_l, st_l, gx_l, gp_l) = results
    torch.testing.assert_close(out_f, out_l)
    for a, b in zip(st_f, st_l):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(gx_f, gx_l)
    for n in gp_l:
        torch.testing.assert_close(gp_f[n], gp_l[n], msg=lambda m, n=n: f"{n}: {m}")


@pytest.mark.parametrize("name", list(CELLS))
def test_draws_the_same_random_numbers_as_the_loop(name):
    """Same masks, and the generator left in the same state (later draws agree too)."""
    cell = _make(name, "all", torch.float32).train()
    x, state = _inputs(cell, torch.float32)
    after = []
    for run in (run_loop, run_bptt):
        torch.manual_seed(0)
        run(cell, x, state, None)
        after.append(torch.rand(4))
    torch.testing.assert_close(after[0], after[1], rtol=0, atol=0)


def test_auto_routes_regularized_cells_to_rnnkit():
    layer = LSTM(3, 4, zoneout=0.1)
    layer(torch.randn(2, 5, 3))
    assert layer.last_backend == "rnnkit"


# ----------------------------------------------------------------------------- edge cases
@pytest.mark.parametrize("name", ["lstm", "gru", "gru_cho", "rnn_tanh"])
def test_one_step_one_sequence_and_unused_outputs(name):
    cell = _make(name, "all").train()
    x, state = _inputs(cell, torch.float64, batch=1, steps=1)
    _assert_same(cell, x, state, None, rtol=1e-9, atol=1e-10)
    # only the final state is used: the output sequence gets no gradient
    x, state = _inputs(cell, torch.float64)
    torch.manual_seed(0)
    _, final = run_bptt(cell, x, state, None)
    g_b = torch.autograd.grad(final[0].sum(), [x, *state])
    torch.manual_seed(0)
    _, final = run_loop(cell, x, state, None)
    g_l = torch.autograd.grad(final[0].sum(), [x, *state])
    for a, b in zip(g_b, g_l):
        torch.testing.assert_close(a, b)


def test_no_grad_inference_and_frozen_weights():
    cell = _make("lstm", "ln", torch.float32).eval()
    x, state = _inputs(cell, torch.float32)
    with torch.no_grad():
        out, final = run_bptt(cell, x, state, None)
        ref, ref_final = run_loop(cell, x, state, None)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(final[1], ref_final[1])
    cell.requires_grad_(False)
    out, _ = run_bptt(cell, x, state, None)
    (gx,) = torch.autograd.grad(out.sum(), [x])
    assert gx.shape == x.shape


def _second_order(run, cell, x, state, mask):
    """A gradient penalty: d/d(everything) of ||d loss / d x||^2, loss a random linear
    function of the outputs and the final state (the masks seeded alike for both runs)."""
    torch.manual_seed(7)
    out, final = run(cell, x, state, mask)
    gen = torch.Generator().manual_seed(3)
    loss = (out * torch.randn(out.shape, generator=gen, dtype=out.dtype)).sum()
    loss = loss + sum((s * torch.randn(s.shape, generator=gen, dtype=s.dtype)).sum()
                      for s in final)
    (gx,) = torch.autograd.grad(loss, [x], create_graph=True)
    penalty = gx.square().sum()
    wrt = [x, *state, *cell.parameters()]
    return [g if g is not None else torch.zeros_like(w)
            for g, w in zip(torch.autograd.grad(penalty, wrt, allow_unused=True), wrt)]


@pytest.mark.parametrize("name,variant,mask", [
    ("lstm", "plain", "none"), ("lstm", "all", "post"), ("gru", "ln_zoneout", "ragged"),
    ("gru_cho", "rdrop", "none"), ("rnn_tanh", "ln", "post"), ("rnn_elu", "zoneout", "none"),
])
def test_second_order_gradients_equal_the_loops(name, variant, mask):
    """create_graph=True through the kernel replays it with autograd: a gradient penalty's
    gradients equal the per-step loop's in float64."""
    cell = _make(name, variant)
    cell.train()
    x, state = _inputs(cell, torch.float64)
    m = MASKS[mask]
    theirs = _second_order(run_loop, cell, x, state, m)
    ours = _second_order(run_bptt, cell, x, state, m)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


def test_second_order_through_a_layer_with_auto_backend():
    torch.manual_seed(0)
    layer = LSTM(3, 8, layer_norm=True).double()  # auto runs rnnkit's kernel for it
    x = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    out, _ = layer(x)
    assert layer.last_backend == "rnnkit"
    (gx,) = torch.autograd.grad(out.sum(), [x], create_graph=True)
    (hv,) = torch.autograd.grad(gx.sum(), [x])  # a Hessian-vector product
    loop = LSTM(3, 8, layer_norm=True, backend="loop").double()
    loop.load_state_dict(layer.state_dict())
    (gx2,) = torch.autograd.grad(loop(x)[0].sum(), [x], create_graph=True)
    (hv2,) = torch.autograd.grad(gx2.sum(), [x])
    torch.testing.assert_close(hv, hv2)


# ------------------------------------------------------------------------ what is served
@pytest.mark.parametrize("name,variant", list(itertools.product(CELLS, VARIANTS)))
def test_every_option_is_served(name, variant):
    assert unsupported_reason(_make(name, variant)) is None


def test_custom_activation_and_cell_subclass_are_named():
    cell = SimpleRNNCell(2, 3, activation=lambda a: a * torch.sigmoid(a))
    reason = unsupported_reason(cell)
    assert reason is not None and reason.startswith("activation=")
    with pytest.raises(ConfigError, match="activation="):
        run_bptt(cell, torch.randn(1, 2, 2), cell.zero_state(1), None)

    class MyLSTM(LSTMCell):
        pass

    assert unsupported_reason(MyLSTM(2, 3)) == "cell=MyLSTM"
    # an equivalent callable from torch is recognized
    assert unsupported_reason(SimpleRNNCell(2, 3, activation=torch.nn.functional.relu)) is None


def test_the_buffer_pool_has_a_configurable_cap():
    from rnnkit.nn import set_buffer_pool_limit
    from rnnkit.nn.bptt import _WORKSPACE

    torch.manual_seed(0)
    layer = LSTM(16, 256, layer_norm=True)  # a variant: rnnkit's kernel runs it
    x = torch.randn(16, 80, 16, requires_grad=True)
    old = set_buffer_pool_limit(64 << 20)
    try:
        layer(x)[0].sum().backward()
        assert layer.last_backend == "rnnkit"
        assert 0 < _WORKSPACE.pooled_bytes() <= 64 << 20  # large buffers kept, within the cap
        expected = x.grad.clone()
        assert set_buffer_pool_limit(0) == 64 << 20  # off: the pool lets go of everything
        assert _WORKSPACE.pooled_bytes() == 0
        x.grad = None
        layer(x)[0].sum().backward()
        assert _WORKSPACE.pooled_bytes() == 0
        torch.testing.assert_close(x.grad, expected, rtol=0, atol=0)  # same numbers, no pool
    finally:
        set_buffer_pool_limit(old)
    with pytest.raises(ConfigError, match="max_bytes: expected an integer >= 0"):
        set_buffer_pool_limit(-1)


def test_the_pool_cap_is_read_from_the_environment():
    import subprocess
    import sys

    code = "from rnnkit.nn.bptt import _Workspace; print(_Workspace.max_bytes)"
    env = {**__import__("os").environ, "RNNKIT_BUFFER_POOL_MB": "2.5"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == str(int(2.5 * (1 << 20)))
    env["RNNKIT_BUFFER_POOL_MB"] = "lots"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "RNNKIT_BUFFER_POOL_MB: expected a number of MiB >= 0" in bad.stderr
