r"""The recurrent stack (:class:`rnnkit.nn.recurrent.Recurrent`) as ONNX operators.

Two emissions of the same equations, both with a dynamic batch and time axis:

* **native**: ONNX's own ``LSTM``, ``GRU`` and ``RNN`` operators, one per layer (both
  directions in one node), for the plain cells: LSTM, GRU in both forms (``reset_after=True``
  is ``linear_before_reset=1``; Cho's form is ``0``), SimpleRNN with ``tanh``, ``relu`` or
  ``sigmoid``. Gate blocks are reordered from rnnkit's (PyTorch's) order, LSTM (i, f, g, o)
  to ONNX's (i, o, f, c) and GRU (r, z, n) to (z, r, h). ``lengths`` become
  ``sequence_lens``, which ONNX defines as rnnkit does: the backward direction reads each
  sequence's real steps only, and the final state is the one after the last real step.
* **scan**: a ``Scan`` whose body is the cell's step (:func:`emit_cell_step`), for what has
  no native operator: layer normalization, zoneout (its eval-mode expectation
  ``p * old + (1 - p) * new``) and the other activations. The body holds the state where the
  mask is False, exactly as :func:`rnnkit.nn.loop.run_loop` does, and the backward direction
  scans the padded sequence in reverse, as the loop backend reads ``x.flip(1)``.

Recurrent dropout and DropConnect (``weight_drop``) act in training only, so the graph is
the plain cell, as rnnkit computes it in eval mode. Cells of your own and stateful layers are
refused with a ConfigError naming the setting (:func:`check_exportable`).

:func:`emit_step` writes one time step of a unidirectional stack with the state as input and
output (the streaming graph, and the seq2seq decoder).

Symbols: B batch, T timesteps, I input features, H hidden units, L layers, D directions,
G gates (1 SimpleRNN, 4 LSTM, 3 GRU), S state tensors (2 for the LSTM).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError
from rnnkit.export._graph import Graph, onnx_module
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.gru import GRUCell
from rnnkit.nn.lstm import LSTMCell
from rnnkit.nn.recurrent import Recurrent
from rnnkit.nn.simple_rnn import SimpleRNNCell

__all__ = ["ACTIVATIONS", "check_exportable", "emit_cell_step", "emit_recurrent", "emit_step",
           "lengths_mask", "uses_native"]

#: rnnkit activation name -> how the step writes it (the native RNN operator takes the
#: first three).
ACTIVATIONS = ("tanh", "relu", "sigmoid", "elu", "hard_tanh", "softsign", "identity")
_NATIVE_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}
_CELLS = (SimpleRNNCell, LSTMCell, GRUCell)
_LSTM_ORDER = (0, 3, 1, 2)  # rnnkit (i, f, g, o) -> ONNX (i, o, f, c)
_GRU_ORDER = (1, 0, 2)  # rnnkit (r, z, n) -> ONNX (z, r, h)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy()


def check_exportable(layer: Recurrent, name: str = "encoder") -> None:
    """Raise a ConfigError naming the setting if ``layer`` cannot be exported exactly."""
    if not isinstance(layer, Recurrent):
        raise ConfigError(expected(name, "an rnnkit Recurrent layer",
                                   Described(type(layer).__name__)))
    if layer.stateful:
        raise ConfigError(expected(f"{name}.stateful", "False to export (the graph starts "
                                   "from a zero state; use step=True to stream a state)", True))
    for cell in layer.cells:
        if type(cell) not in _CELLS:
            raise ConfigError(expected(
                f"{name}.cell", "a built-in cell (SimpleRNNCell, LSTMCell, GRUCell) to export "
                "to ONNX", Described(type(cell).__name__),
                "a cell of your own has no ONNX equivalent here; serve it with the torch "
                "runtime"))
        if isinstance(cell, SimpleRNNCell) and cell.activation_name not in ACTIVATIONS:
            raise ConfigError(expected(f"{name}.activation", f"one of {list(ACTIVATIONS)} to "
                                       "export", Described(cell.activation_name)))


def uses_native(cell: RecurrentCell) -> bool:
    """Whether ONNX's own operator computes ``cell`` exactly (else a Scan of its step)."""
    if cell.layer_norm or cell.zoneout > 0:
        return False
    if isinstance(cell, SimpleRNNCell):
        return cell.activation_name in _NATIVE_ACTIVATIONS
    return True


# ------------------------------------------------------------------------------ helpers
def _batch_zeros(g: Graph, like: str, width: int) -> str:
    """Zeros (B, width), B taken from ``like`` (B, ...)."""
    batch = g.op("Slice", [g.op("Shape", [like]), g.ints([0]), g.ints([1])])
    shape = g.op("Concat", [batch, g.ints([width])], axis=0)
    return g.op("ConstantOfShape", [shape], value=onnx_module().helper.make_tensor(
        "zero", 1, [1], [0.0]))


def lengths_mask(g: Graph, x: str, lengths: str) -> str:
    """The bool mask (B, T), True on the first ``lengths[b]`` steps of ``x`` (B, T, ...)."""
    steps = g.op("Squeeze", [g.op("Slice", [g.op("Shape", [x]), g.ints([1]), g.ints([2])]),
                             g.ints([0])])
    zero, one = (g.const(np.int64(v), ("i64", v)) for v in (0, 1))
    t = g.op("Range", [zero, steps, one])  # (T,)
    return g.op("Less", [g.op("Unsqueeze", [t, g.ints([0])]),
                         g.op("Unsqueeze", [lengths, g.ints([1])])])  # (B, T)


def _activation(g: Graph, name: str, x: str) -> str:
    if name == "identity":
        return x
    if name == "hard_tanh":
        return g.op("Clip", [x, g.scalar(-1.0), g.scalar(1.0)])
    if name == "elu":
        return g.op("Elu", [x], alpha=1.0)
    op = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid", "softsign": "Softsign"}[name]
    return g.op(op, [x])


def _project(g: Graph, cell: RecurrentCell, x: str, key: Any) -> str:
    """``cell.project_input``: (..., I) -> (..., G*H)."""
    if isinstance(cell, SimpleRNNCell):
        return g.linear(x, _np(cell.weight_ih), None if cell.layer_norm else _np(cell.bias),
                        key=(key, "ih"))
    if not cell.layer_norm:
        return g.linear(x, _np(cell.weight_ih), _np(cell.bias), key=(key, "ih"))
    y = g.linear(x, _np(cell.weight_ih), key=(key, "ih"))
    return g.layer_norm(y, _np(cell.ln_ih_weight), _np(cell.bias), key=(key, "ln_ih"))


def emit_cell_step(g: Graph, cell: RecurrentCell, xp: str, state: list[str], key: Any
                   ) -> list[str]:
    """``cell.step`` in eval mode (and zoneout's expectation): projected input ``xp``
    (B, G*H) and S states (B, H) -> S new states (B, H)."""
    hs = cell.hidden_size
    w_hh = _np(cell.weight_hh)  # (G*H, H)
    if isinstance(cell, SimpleRNNCell):
        (h,) = state
        a = g.op("Add", [xp, g.linear(h, w_hh, key=(key, "hh"))])
        if cell.layer_norm:
            a = g.layer_norm(a, _np(cell.ln_weight), _np(cell.bias), key=(key, "ln"))
        new = [_activation(g, cell.activation_name, a)]
    elif isinstance(cell, LSTMCell):
        h, c = state
        rec = g.linear(h, w_hh, key=(key, "hh"))  # (B, 4H)
        if cell.layer_norm:
            rec = g.layer_norm(rec, _np(cell.ln_hh_weight), key=(key, "ln_hh"))
        i, f, gg, o = g.split(g.op("Add", [xp, rec]), 4)
        c_new = g.op("Add", [g.op("Mul", [g.op("Sigmoid", [f]), c]),
                             g.op("Mul", [g.op("Sigmoid", [i]), g.op("Tanh", [gg])])])
        c_out = c_new
        if cell.layer_norm:
            c_out = g.layer_norm(c_new, _np(cell.ln_cell_weight), _np(cell.ln_cell_bias),
                                 key=(key, "ln_c"))
        new = [g.op("Mul", [g.op("Sigmoid", [o]), g.op("Tanh", [c_out])]), c_new]
    else:  # a GRUCell: check_exportable refused anything else
        (h,) = state
        x_r, x_z, x_n = g.split(xp, 3)
        ln = _np(cell.ln_hh_weight) if cell.layer_norm else None
        if cell.reset_after:
            rec = g.linear(h, w_hh, key=(key, "hh"))  # (B, 3H)
            if ln is not None:
                rec = g.layer_norm(rec, ln, key=(key, "ln_hh"))
            h_r, h_z, h_n = g.split(rec, 3)
            r = g.op("Sigmoid", [g.op("Add", [x_r, h_r])])
            z = g.op("Sigmoid", [g.op("Add", [x_z, h_z])])
            b_hn = g.const(_np(cell.recurrent_bias), (key, "b_hn"))
            n = g.op("Tanh", [g.op("Add", [x_n, g.op("Mul", [r, g.op("Add", [h_n, b_hn])])])])
        else:
            rec = g.linear(h, w_hh[: 2 * hs], key=(key, "hh_rz"))  # (B, 2H)
            if ln is not None:
                rec = g.layer_norm(rec, ln[: 2 * hs], key=(key, "ln_rz"))
            h_r, h_z = g.split(rec, 2)
            r = g.op("Sigmoid", [g.op("Add", [x_r, h_r])])
            z = g.op("Sigmoid", [g.op("Add", [x_z, h_z])])
            rec_n = g.linear(g.op("Mul", [r, h]), w_hh[2 * hs :], key=(key, "hh_n"))
            if ln is not None:
                rec_n = g.layer_norm(rec_n, ln[2 * hs :], key=(key, "ln_n"))
            n = g.op("Tanh", [g.op("Add", [x_n, rec_n])])
        new = [g.op("Add", [n, g.op("Mul", [z, g.op("Sub", [h, n])])])]
    if cell.zoneout > 0:  # eval: the expectation of the stochastic update
        p = cell.zoneout
        new = [g.op("Add", [g.op("Mul", [g.scalar(p), old]), g.op("Mul", [g.scalar(1 - p), n])])
               for old, n in zip(state, new)]
    return new


# ------------------------------------------------------------------------- the stack
def _scan_direction(g: Graph, cell: RecurrentCell, x: str, mask3: str | None, reverse: bool,
                    key: Any) -> tuple[str, list[str]]:
    """One direction of one layer as a Scan: ``x`` (B, T, I) -> outputs (B, T, H) (zero at
    masked steps) and the S final states (B, H)."""
    hs, n_states = cell.hidden_size, cell.num_states
    xp = _project(g, cell, x, key)  # (B, T, G*H), every step at once
    body = Graph(parent=g)
    state = [body.input(body.name("state"), "float32", ["B", hs]) for _ in range(n_states)]
    xp_t = body.input(body.name("xp_t"), "float32", ["B", cell.num_gates * hs])
    m_t = body.input(body.name("m_t"), "bool", ["B", 1]) if mask3 is not None else None
    new = emit_cell_step(body, cell, xp_t, state, key)
    out = new[0]
    if m_t is not None:
        out = body.op("Where", [m_t, new[0], body.scalar(0.0)])
        new = [body.op("Where", [m_t, n, s]) for n, s in zip(new, state)]
    for value in new:
        body.output(body.name("state_out"), value, "float32", ["B", hs])
    body.output(body.name("h_t"), out, "float32", ["B", hs])
    scans = [xp] + ([mask3] if mask3 is not None else [])
    init = [_batch_zeros(g, x, hs) for _ in range(n_states)]
    d = 1 if reverse else 0
    results = g.op("Scan", init + scans, outputs=n_states + 1, body=body.graph("step"),
                   num_scan_inputs=len(scans), scan_input_axes=[1] * len(scans),
                   scan_input_directions=[d] * len(scans), scan_output_axes=[1],
                   scan_output_directions=[d])
    return results[-1], list(results[:-1])


def _native_layer(g: Graph, cells: list[RecurrentCell], x: str, seq_lens: str | None,
                  mask_f: str | None, key: Any) -> tuple[str, list[str]]:
    """One layer, both directions, as ONNX's LSTM/GRU/RNN: ``x`` (B, T, I) ->
    output (B, T, D*H) and S final states (B, D, H)."""
    cell = cells[0]
    hs, D = cell.hidden_size, len(cells)
    if isinstance(cell, LSTMCell):
        op, order, extra = "LSTM", _LSTM_ORDER, {}
    elif isinstance(cell, GRUCell):
        op, order, extra = "GRU", _GRU_ORDER, {"linear_before_reset": int(cell.reset_after)}
    else:
        op, order = "RNN", (0,)
        extra = {"activations": [_NATIVE_ACTIVATIONS[cell.activation_name]] * D}

    def blocks(a: np.ndarray) -> np.ndarray:  # gate blocks in ONNX's order
        return np.concatenate([a[k * hs : (k + 1) * hs] for k in order], axis=0)

    W = np.stack([blocks(_np(c.weight_ih)) for c in cells])  # (D, G*H, I)
    R = np.stack([blocks(_np(c.weight_hh)) for c in cells])  # (D, G*H, H)
    biases = []
    for c in cells:
        rb = np.zeros(c.num_gates * hs, np.float32)
        if isinstance(c, GRUCell) and c.reset_after:
            rb[2 * hs :] = _np(c.recurrent_bias)  # b_hn sits in the candidate's Rb
        biases.append(np.concatenate([blocks(_np(c.bias)), rb]))
    B = np.stack(biases)  # (D, 2*G*H)
    x_tm = g.op("Transpose", [x], perm=[1, 0, 2])  # (T, B, I)
    inputs = [x_tm, g.const(W, (key, "W")), g.const(R, (key, "R")), g.const(B, (key, "B")),
              seq_lens or ""]
    n_out = 3 if op == "LSTM" else 2
    outs = g.op(op, inputs, outputs=n_out, hidden_size=hs,
                direction="bidirectional" if D == 2 else "forward", **extra)
    y = g.op("Transpose", [outs[0]], perm=[2, 0, 1, 3])  # (T, D, B, H) -> (B, T, D, H)
    y = g.op("Reshape", [y, g.ints([0, 0, D * hs])])  # (B, T, D*H)
    if mask_f is not None:
        y = g.op("Mul", [y, mask_f])  # padded steps are zero, as in rnnkit
    finals = [g.op("Transpose", [s], perm=[1, 0, 2]) for s in outs[1:]]  # (B, D, H)
    return y, finals


def emit_recurrent(g: Graph, layer: Recurrent, x: str, lengths: str | None = None, *,
                   key: Any = "rec", native: bool = True) -> tuple[str, list[str]]:
    """``layer(x, lengths=lengths)`` in eval mode: ``x`` (B, T, I), ``lengths`` (B,) int64
    or None -> ``(output, finals)``: the output as the layer returns it ((B, T, D*H), or
    (B, D*H) with ``return_sequences=False``, merged by ``merge_mode``) and the S final states
    (B, L*D, H). ``native=False`` writes Scans for every cell (the tests compare both)."""
    check_exportable(layer)
    D, L = layer.num_directions, layer.num_layers
    mask3 = mask_f = seq_lens = None
    if lengths is not None:
        mask = lengths_mask(g, x, lengths)
        mask3 = g.op("Unsqueeze", [mask, g.ints([2])])  # (B, T, 1) bool
        mask_f = g.cast(mask3, "float32")
        seq_lens = g.cast(lengths, "int32")
    layer_in = x
    finals: list[list[str]] = [[] for _ in range(layer.num_states)]  # S x per layer (B, D, H)
    parts: list[str] = []
    last: list[str] = []  # the last layer's final h per direction (B, H)
    for l in range(L):
        cells = [layer.cells[l * D + d] for d in range(D)]
        if native and all(uses_native(c) for c in cells):
            layer_in, fin = _native_layer(g, cells, layer_in, seq_lens, mask_f, (key, l))
            parts = g.split(layer_in, D) if D == 2 else [layer_in]
            for s, value in enumerate(fin):
                finals[s].append(value)
            last = [g.op("Gather", [fin[0], g.const(np.int64(d), ("i64", d))], axis=1)
                    for d in range(D)]
        else:
            parts, per_dir = [], []
            for d, cell in enumerate(cells):
                out, fin = _scan_direction(g, cell, layer_in, mask3, d == 1, (key, l, d))
                parts.append(out)
                per_dir.append(fin)
            for s in range(layer.num_states):
                finals[s].append(g.op("Concat", [g.op("Unsqueeze", [f[s], g.ints([1])])
                                                 for f in per_dir], axis=1))  # (B, D, H)
            last = [f[0] for f in per_dir]
            layer_in = parts[0] if D == 1 else g.op("Concat", parts, axis=-1)
    stacked = [f[0] if len(f) == 1 else g.op("Concat", f, axis=1) for f in finals]
    output = _merge(g, layer, parts if layer.return_sequences else last)
    return output, stacked


def _merge(g: Graph, layer: Recurrent, parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    a, b = parts
    mode = layer.merge_mode
    if mode == "concat":
        return g.op("Concat", [a, b], axis=-1)
    if mode == "sum":
        return g.op("Add", [a, b])
    if mode == "mean":
        return g.op("Mul", [g.op("Add", [a, b]), g.scalar(0.5)])
    return g.op("Mul", [a, b])


def emit_step(g: Graph, layer: Recurrent, x_t: str, state: list[str], *, key: Any = "rec"
              ) -> tuple[str, list[str]]:
    """One step of a unidirectional stack: ``x_t`` (B, I) and S states (B, L, H) ->
    the last layer's output (B, H) and the S new states (B, L, H)."""
    check_exportable(layer)
    if layer.num_directions != 1:
        raise ConfigError(expected("bidirectional", "False for a one-step graph (the backward "
                                   "direction needs the whole sequence)", True))
    layer_in = x_t
    new_states: list[list[str]] = [[] for _ in state]
    for l, cell in enumerate(layer.cells):
        idx = g.const(np.int64(l), ("i64", l))
        st = [g.op("Gather", [s, idx], axis=1) for s in state]  # S x (B, H)
        xp = _project(g, cell, layer_in, (key, l, 0))
        new = emit_cell_step(g, cell, xp, st, (key, l, 0))
        for s, value in enumerate(new):
            new_states[s].append(g.op("Unsqueeze", [value, g.ints([1])]))  # (B, 1, H)
        layer_in = new[0]
    stacked = [v[0] if len(v) == 1 else g.op("Concat", v, axis=1) for v in new_states]
    return layer_in, stacked
