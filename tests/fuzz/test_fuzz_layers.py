"""Fuzz the layers and cells: every invalid argument or input is a clean rnnkit error; valid
edge inputs (non-contiguous, requires_grad, unsorted lengths, empty batch) match a reference."""

from __future__ import annotations

import math

import numpy as np
import torch
from fuzz_helpers import expect_clean, expect_valid, twin
from hypothesis import strategies as st

from rnnkit import GRU, LSTM, GRUCell, LSTMCell, Recurrent, SimpleRNN, SimpleRNNCell
from rnnkit.nn.recurrent import MAX_LAYERS

LAYERS = {"LSTM": LSTM, "GRU": GRU, "SimpleRNN": SimpleRNN}
CELLS = {"LSTMCell": LSTMCell, "GRUCell": GRUCell, "SimpleRNNCell": SimpleRNNCell}
I, H = 3, 4

BAD_SIZE = st.sampled_from([0, -1, -7, 1.5, 3.0, "3", None, True, False, [3], 10**9, math.nan])
BAD_PROB = st.sampled_from([-0.1, 1.0, 1.5, math.nan, math.inf, "0.1", None, True, [0.1]])
BAD_BOOL = st.sampled_from([2, "yes", "", None, 0.5, [True], torch.tensor([True, False])])
BAD_NAME = st.one_of(st.text(max_size=12).filter(lambda s: s not in {
    "concat", "sum", "mul", "ave", "auto", "fused", "loop", "torch", "glorot_uniform",
    "orthogonal", "zeros"}), st.sampled_from([None, 3, 1.0, ["concat"]]))


@st.composite
def ctor_cases(draw):
    name = draw(st.sampled_from([*LAYERS, "Recurrent", *CELLS]))
    kwargs = {"input_size": I, "hidden_size": H}
    is_cell = name in CELLS
    options = ["input_size", "hidden_size", "unknown keyword"]
    if not is_cell:
        options += ["num_layers", "dropout", "bidirectional", "return_sequences", "stateful",
                    "check_finite", "merge_mode", "backend"]
    if name != "Recurrent":
        options += ["recurrent_dropout", "kernel_init"]
    if name == "Recurrent":
        options += ["cell"]
    what = draw(st.sampled_from(options))
    if what in ("input_size", "hidden_size", "num_layers"):
        kwargs[what] = draw(BAD_SIZE if what != "num_layers" else st.one_of(BAD_SIZE, st.integers(
            MAX_LAYERS + 1, 10**6)))
    elif what in ("dropout", "recurrent_dropout"):
        kwargs[what] = draw(BAD_PROB)
    elif what in ("bidirectional", "return_sequences", "stateful", "check_finite"):
        kwargs[what] = draw(BAD_BOOL)
    elif what in ("merge_mode", "backend", "kernel_init"):
        kwargs[what] = draw(BAD_NAME)
    elif what == "unknown keyword":
        key = draw(st.sampled_from(["hidden", "inputs", "num_layer", "bidirection", "drop_out",
                                    "batch_first", "units", "xyz"]))
        kwargs[key] = 1
    elif what == "cell":
        kwargs["cell"] = draw(st.sampled_from([None, "lstm", LSTM, torch.nn.LSTM, 3, LSTMCell(2, 2)]))
    return name, kwargs


def check_ctor(case):
    name, kwargs = case
    if name == "Recurrent":
        kwargs = dict(kwargs)
        cell = kwargs.pop("cell", LSTMCell)
        expect_clean("layers: constructor", lambda: Recurrent(cell, **kwargs), case)
    else:
        cls = {**LAYERS, **CELLS}[name]
        expect_clean("layers: constructor", lambda: cls(**kwargs), case)


test_constructor_arguments, test_constructor_arguments_deep = twin(ctor_cases(), check_ctor)

_CACHE: dict = {}


def layer(name: str, **kw):
    key = (name, tuple(sorted(kw.items())))
    if key not in _CACHE:
        torch.manual_seed(0)
        _CACHE[key] = LAYERS[name](I, H, **kw).eval()
    return _CACHE[key]


def cell(name: str):
    if name not in _CACHE:
        torch.manual_seed(0)
        _CACHE[name] = CELLS[name](I, H).eval()
    return _CACHE[name]


def _bad_tensor(draw, shape):
    """A tensor that is not a float32 tensor of ``shape`` with finite values."""
    kind = draw(st.sampled_from(["rank", "features", "dtype", "nan", "list", "numpy", "scalar",
                                 "none", "string"]))
    if kind == "rank":
        rank = draw(st.sampled_from([0, 1, 4]) if len(shape) == 3 else st.sampled_from([0, 3, 4]))
        return kind, torch.zeros([2] * rank)
    if kind == "features":
        bad = list(shape)
        bad[-1] = draw(st.sampled_from([0, 1, 2, 5, 17]))
        return kind, torch.zeros(*bad)
    if kind == "dtype":
        dtype = draw(st.sampled_from([torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                      torch.int32, torch.bool, torch.complex64, torch.uint8]))
        return kind, torch.zeros(*shape, dtype=dtype)
    if kind == "nan":
        t = torch.zeros(*shape)
        idx = tuple(draw(st.integers(0, s - 1)) for s in shape)
        t[idx] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
        return kind, t
    if kind == "list":
        return kind, torch.zeros(*shape).tolist()
    if kind == "numpy":
        return kind, np.zeros(shape, dtype=draw(st.sampled_from([np.float32, np.float64])))
    if kind == "scalar":
        return kind, draw(st.sampled_from([0, 1.0, True]))
    if kind == "none":
        return kind, None if len(shape) else 0
    return kind, "x"


@st.composite
def input_cases(draw):
    name = draw(st.sampled_from(list(LAYERS)))
    bidirectional = draw(st.booleans())
    B, T = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    target = draw(st.sampled_from(["x", "timesteps", "lengths", "mask", "both", "state"]))
    x = torch.randn(B, T, I)
    kwargs: dict = {}
    state = None
    if target == "x":
        kind, x = _bad_tensor(draw, (B, T, I))
        if kind == "none":
            x = None
    elif target == "timesteps":
        x = torch.zeros(B, 0, I)
    elif target == "lengths":
        kind = draw(st.sampled_from(["float", "bool", "values", "count", "2d", "list", "string",
                                     "numpy"]))
        if kind == "float":
            kwargs["lengths"] = torch.full((B,), float(T))
        elif kind == "bool":
            kwargs["lengths"] = torch.ones(B, dtype=torch.bool)
        elif kind == "values":
            v = draw(st.sampled_from([0, -1, T + 1, T + 100]))
            lens = torch.full((B,), T)
            lens[draw(st.integers(0, B - 1))] = v
            kwargs["lengths"] = lens
        elif kind == "count":
            kwargs["lengths"] = torch.full((B + draw(st.sampled_from([-1, 1, 2])),), T)
            if B == 1 and kwargs["lengths"].numel() == 0:
                kwargs["lengths"] = torch.zeros(0, dtype=torch.long)
        elif kind == "2d":
            kwargs["lengths"] = torch.full((B, 1), T)
        elif kind == "list":
            kwargs["lengths"] = draw(st.sampled_from([[float(T)] * B, [T] * (B + 1), [0] * B,
                                                      [str(T)] * B, [None] * B]))
        elif kind == "string":
            kwargs["lengths"] = "3"
        else:
            kwargs["lengths"] = np.full((B,), T + 1)
    elif target == "mask":
        kind = draw(st.sampled_from(["dtype", "shape", "empty row", "list", "numpy"]))
        if kind == "dtype":
            kwargs["mask"] = torch.ones(B, T, dtype=draw(st.sampled_from(
                [torch.float32, torch.int64, torch.uint8])))
        elif kind == "shape":
            kwargs["mask"] = torch.ones(*draw(st.sampled_from([(B, T + 1), (B + 1, T), (B,),
                                                               (B, T, 1)])), dtype=torch.bool)
        elif kind == "empty row":
            m = torch.ones(B, T, dtype=torch.bool)
            m[draw(st.integers(0, B - 1))] = False
            kwargs["mask"] = m
        elif kind == "list":
            kwargs["mask"] = [[True] * T] * B
        else:
            kwargs["mask"] = np.ones((B, T), dtype=bool)
    elif target == "both":
        kwargs = {"lengths": torch.full((B,), T), "mask": torch.ones(B, T, dtype=torch.bool)}
    else:
        D = 2 if bidirectional else 1
        kind = draw(st.sampled_from(["shape", "dtype", "type", "count", "nan", "batch-first"]))
        good = torch.zeros(B, D, H)
        if kind == "shape":
            state = torch.zeros(*draw(st.sampled_from([(B, D, H + 1), (B + 1, D, H), (B, D + 1, H),
                                                       (D, B, H), (B, H)])))
            if tuple(state.shape) == (B, D, H):  # (D, B, H) == (B, D, H) when B == D
                state = torch.zeros(B, D, H + 1)
        elif kind == "dtype":
            state = good.to(draw(st.sampled_from([torch.float64, torch.int64, torch.bool])))
        elif kind == "type":
            state = draw(st.sampled_from(["h", 0, [[0.0]], np.zeros((B, D, H), np.float32)]))
        elif kind == "count":
            state = (good,) * draw(st.sampled_from([0, 3] if name == "LSTM" else [0, 2, 3]))
        elif kind == "nan":
            state = good.clone()
            state[0, 0, 0] = math.nan
        else:
            state = torch.zeros(B, H) if B != D else torch.zeros(B, H + 2)
        if name == "LSTM" and kind not in ("count", "type"):
            state = (state, good)
    return name, bidirectional, x, state, kwargs


def check_inputs(case):
    name, bidirectional, x, state, kwargs = case
    m = layer(name, bidirectional=bidirectional)
    expect_clean("layers: forward inputs", lambda: m(x, state, **kwargs), case)


test_forward_inputs, test_forward_inputs_deep = twin(input_cases(), check_inputs)


@st.composite
def cell_cases(draw):
    name = draw(st.sampled_from(list(CELLS)))
    B = draw(st.integers(1, 3))
    target = draw(st.sampled_from(["x", "state"]))
    x, state = torch.randn(B, I), None
    if target == "x":
        kind, x = _bad_tensor(draw, (B, I))
        if kind == "rank" and x.dim() == 1 and x.shape[0] == I:
            x = torch.zeros(2, 2, 2)
    else:
        kind = draw(st.sampled_from(["shape", "dtype", "type", "nan"]))
        good = torch.zeros(B, H)
        if kind == "shape":
            state = torch.zeros(*draw(st.sampled_from([(B, H + 1), (B + 1, H), (B, 1, H), (H,)])))
        elif kind == "dtype":
            state = good.to(draw(st.sampled_from([torch.float64, torch.int64])))
        elif kind == "type":
            state = draw(st.sampled_from(["h", 0, [[0.0] * H] * B, np.zeros((B, H), np.float32)]))
        else:
            state = good.clone()
            state[0, 0] = math.inf
        if name == "LSTMCell" and kind != "type":
            state = (state, good)
    return name, x, state


def check_cell(case):
    name, x, state = case
    c = cell(name)
    expect_clean("cells: step inputs", lambda: c(x, state), case)


test_cell_inputs, test_cell_inputs_deep = twin(cell_cases(), check_cell)


# ------------------------------------------------------------------------------ valid edges
@st.composite
def valid_cases(draw):
    name = draw(st.sampled_from(list(LAYERS)))
    bidirectional = draw(st.booleans())
    num_layers = draw(st.integers(1, 2))
    B, T = draw(st.integers(0, 4)), draw(st.integers(1, 6))
    edge = draw(st.sampled_from(["non-contiguous", "requires_grad", "lengths", "mask", "state"]))
    lengths = draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    seed = draw(st.integers(0, 2**16))
    return name, bidirectional, num_layers, B, T, edge, lengths, seed


def _close(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for u, v in zip(a, b):
            _close(u, v)
        return
    assert a.shape == b.shape, (a.shape, b.shape)
    assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), (a - b).abs().max()


def check_valid(case):
    name, bidirectional, num_layers, B, T, edge, lengths, seed = case
    m = layer(name, bidirectional=bidirectional, num_layers=num_layers)
    g = torch.Generator().manual_seed(seed)

    def run():
        x = torch.randn(B, T, I, generator=g)
        if edge == "non-contiguous":
            xt = torch.randn(B, I, 2 * T, generator=g).transpose(1, 2)[:, ::2]
            assert not xt.is_contiguous() or B * T <= 1
            _close(m(xt), m(xt.contiguous()))
        elif edge == "requires_grad":
            xg = x.clone().requires_grad_(True)
            out, _ = m(xg)
            with torch.no_grad():
                _close(out.detach(), m(x)[0])
            if B:
                out.sum().backward()
                assert xg.grad is not None and xg.grad.shape == x.shape
                assert torch.isfinite(xg.grad).all()
        elif edge in ("lengths", "mask"):
            lens = torch.tensor(lengths, dtype=torch.long)
            if edge == "lengths":
                out, state = m(x, lengths=lens)
            else:
                out, state = m(x, mask=torch.arange(T)[None, :] < lens[:, None])
            assert out.shape[:2] == (B, T)
            for b, n in enumerate(lengths):
                ref_out, ref_state = m(x[b : b + 1, :n])
                _close(out[b : b + 1, :n], ref_out)
                if isinstance(state, tuple):
                    _close(tuple(s[b : b + 1] for s in state), ref_state)
                else:
                    _close(state[b : b + 1], ref_state)
        else:  # a given zero state equals no state
            D = 2 if bidirectional else 1
            z = torch.zeros(B, num_layers * D, H)
            _close(m(x, (z, z) if name == "LSTM" else z), m(x))

    with torch.no_grad() if edge != "requires_grad" else torch.enable_grad():
        expect_valid("layers: valid edge inputs", run, case)


test_valid_edges, test_valid_edges_deep = twin(valid_cases(), check_valid)
