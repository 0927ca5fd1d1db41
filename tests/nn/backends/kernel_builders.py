"""What the kernel tests share (tests/nn/backends/test_*.py): every cell, option and mask
layout, and checks that rnnkit's BPTT kernels equal the reference loop (rnnkit.nn.loop):
outputs, final states and the gradient of every input, initial state and parameter, in eval
and in training mode (same seed, same masks). Imported by bare name (conftest.py puts this
folder on sys.path)."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.nn import GRUCell, LSTMCell, SimpleRNNCell
from rnnkit.nn.backends import common, run_bptt
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


def make(name: str, variant: str, dtype=torch.float64, size=(I, H)) -> RecurrentCell:
    cls, extra = CELLS[name]
    torch.manual_seed(1)
    return cls(*size, **extra, **VARIANTS[variant]).to(dtype)


def run_with_grads(run, cell: RecurrentCell, x, state, mask, seed: int = 7):
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


def inputs(cell: RecurrentCell, dtype, batch=B, steps=T):
    torch.manual_seed(2)
    x = torch.randn(batch, steps, cell.input_size, dtype=dtype, requires_grad=True)
    state = tuple(torch.randn(batch, cell.hidden_size, dtype=dtype, requires_grad=True)
                  for _ in range(cell.num_states))
    return x, state


def assert_same(cell, x, state, mask, rtol: float, atol: float, scaled: bool = False):
    """run_bptt equals run_loop; with ``scaled``, atol is relative to each tensor's largest
    entry (float32 layer norm over 30 steps amplifies rounding in both backends alike)."""
    out_l, fin_l, g_l = run_with_grads(run_loop, cell, x, state, mask)
    out_b, fin_b, g_b = run_with_grads(run_bptt, cell, x, state, mask)

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


# ------------------------------------------------------------- the checks each cell passes
def check_equals_loop_float64_every_mask(name: str, variant: str) -> None:
    for mask, train in itertools.product(MASKS.values(), [False, True]):
        cell = make(name, variant).train(train)
        x, state = inputs(cell, torch.float64)
        assert_same(cell, x, state, mask, rtol=1e-9, atol=1e-10)


def check_blockwise_derivatives(name: str, variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The backward precomputes local derivatives in blocks of steps: blocks of 1 and of 2
    steps (7 steps: a partial last block) give the same gradients as the loop."""
    cell = make(name, variant).train()
    x, state = inputs(cell, torch.float64, steps=7)
    mask = torch.tensor([[1] * 7, [1, 0, 1, 1, 1, 1, 0], [1] * 5 + [0] * 2], dtype=torch.bool)
    monkeypatch.setattr(common, "SMALL_TANH", 0)
    for steps_per_block in (1, 2):
        step_bytes = B * H * cell.num_gates * 8
        monkeypatch.setattr(common, "CHUNK_BYTES", steps_per_block * step_bytes)
        assert_same(cell, x, state, mask, rtol=1e-9, atol=1e-10)


def check_equals_loop_float32_longer(name: str, variant: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Float32 on the paths that large sizes take: oneDNN products, tanh via sigmoid."""
    monkeypatch.setattr(common, "SMALL_PRODUCT", 0)
    monkeypatch.setattr(common, "SMALL_TANH", 0)
    cell = make(name, variant, torch.float32, size=(7, 32)).train()
    assert common.Linear(cell.weight_hh, 8, backward=False).onednn == common.ONEDNN
    x, state = inputs(cell, torch.float32, batch=8, steps=30)
    lengths = torch.tensor([30, 29, 17, 30, 1, 8, 30, 12])
    mask = torch.arange(30) < lengths[:, None]
    assert_same(cell, x, state, mask, rtol=1e-4, atol=1e-5, scaled=True)


class Runner(torch.nn.Module):
    """run_bptt as a module, so that torch.func.functional_call can swap the parameters."""

    def __init__(self, cell: RecurrentCell) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x, state, mask):
        return run_bptt(self.cell, x, state, mask)


def check_gradcheck(name: str, variant: str) -> None:
    runner = Runner(make(name, variant, size=(2, 3)).train())
    names = [n for n, _ in runner.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in runner.parameters()]
    x, state = inputs(runner.cell, torch.float64, batch=2, steps=4)
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


def check_layer_equals_loop(cls, extra: dict, variant: str, padding: str) -> None:
    """A bidirectional, stacked layer with dropout on rnnkit's kernel equals the loop's."""
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


def check_same_random_numbers(name: str) -> None:
    """Same masks, and the generator left in the same state (later draws agree too)."""
    cell = make(name, "all", torch.float32).train()
    x, state = inputs(cell, torch.float32)
    after = []
    for run in (run_loop, run_bptt):
        torch.manual_seed(0)
        run(cell, x, state, None)
        after.append(torch.rand(4))
    torch.testing.assert_close(after[0], after[1], rtol=0, atol=0)


def check_one_step_and_unused_outputs(name: str) -> None:
    cell = make(name, "all").train()
    x, state = inputs(cell, torch.float64, batch=1, steps=1)
    assert_same(cell, x, state, None, rtol=1e-9, atol=1e-10)
    # only the final state is used: the output sequence gets no gradient
    x, state = inputs(cell, torch.float64)
    torch.manual_seed(0)
    _, final = run_bptt(cell, x, state, None)
    g_b = torch.autograd.grad(final[0].sum(), [x, *state])
    torch.manual_seed(0)
    _, final = run_loop(cell, x, state, None)
    g_l = torch.autograd.grad(final[0].sum(), [x, *state])
    for a, b in zip(g_b, g_l):
        torch.testing.assert_close(a, b)


class KernelContract:
    """The tests every kernel passes. A test module subclasses it (``class TestLSTMKernel``)
    with ``NAMES`` (keys of :data:`CELLS` its kernel serves), ``LAYER`` (the layer class) and
    ``LAYER_EXTRAS`` (the layer options to test); conftest.py parametrizes ``name`` and
    ``extra`` from them."""

    NAMES: tuple[str, ...] = ()
    LAYER: type | None = None
    LAYER_EXTRAS: tuple[dict, ...] = ({},)

    @pytest.mark.parametrize("variant", list(VARIANTS))
    def test_equals_loop_float64_every_mask_eval_and_train(self, name, variant):
        check_equals_loop_float64_every_mask(name, variant)

    @pytest.mark.parametrize("variant", ["plain", "all"])
    def test_blockwise_derivatives_equal_loop(self, name, variant, monkeypatch):
        check_blockwise_derivatives(name, variant, monkeypatch)

    @pytest.mark.parametrize("variant", list(VARIANTS))
    def test_equals_loop_float32_longer(self, name, variant, monkeypatch):
        check_equals_loop_float32_longer(name, variant, monkeypatch)

    @pytest.mark.parametrize("variant", list(VARIANTS))
    def test_gradcheck(self, name, variant):
        check_gradcheck(name, variant)

    @pytest.mark.parametrize("variant", ["ln", "all"])
    @pytest.mark.parametrize("padding", ["lengths", "ragged"])
    def test_bidirectional_stacked_layer_fused_equals_loop(self, extra, variant, padding):
        check_layer_equals_loop(self.LAYER, extra, variant, padding)

    def test_draws_the_same_random_numbers_as_the_loop(self, name):
        check_same_random_numbers(name)
