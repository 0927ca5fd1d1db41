r"""A fitted :class:`~rnnkit.tasks.classification.SequenceClassifier` as an ONNX graph.

* numeric series: ``inputs`` (B, T, F) raw float32 and ``lengths`` (B,) int64 (the real
  steps of each padded row) -> ``probabilities`` (B, C). The fitted scaler (in float64, as
  rnnkit computes it) and the ``max_length`` cut are inside the graph.
* texts or tokens: ``ids`` (B, T) int64 (0 on padding) and ``lengths`` -> ``probabilities``.
  The tokenizer and the vocabulary stay outside the graph: the JSON written beside it holds
  them (``vocabulary``, ``tokenizer``), and the encoding is what
  :class:`~rnnkit.tasks.classification.SequenceInputs` does: tokens (lowercased if
  ``lowercase``), cut to ``max_length``, looked up (unknown -> 1, ``<unk>``; an empty text is
  ``[1]``), padded with 0.

Column c of ``probabilities`` is ``classes[c]`` of the JSON. Pooling ``last``, ``mean``,
``max`` and ``attention`` read the real steps only, as in torch; the time axis is dynamic.

``preprocessing=False`` (the network alone, :func:`rnnkit.export.use_onnx`): ``x`` as the
torch network takes it (scaled series or ids) and ``lengths`` -> ``logits`` (B, C).
``step=True``: ``x_t`` (B, F) raw or ``ids_t`` (B,), and the state -> the new state and
``probabilities`` of the sequence read so far (``pooling = "last"``, unidirectional only).

Symbols: B batch, T padded steps, F features, E embedding size, C classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit._validation import expected
from rnnkit.errors import ConfigError
from rnnkit.export._graph import Graph
from rnnkit.export.recurrent import emit_recurrent, emit_step, lengths_mask
from rnnkit.tasks.classification import SequenceClassifier

__all__ = ["classifier_graph"]

_BIG = np.iinfo(np.int64).max


def _np(t: Any) -> np.ndarray:
    return t.detach().cpu().float().numpy()


def _pool(g: Graph, net: Any, h: str, x: str, lengths: str) -> str:
    """ClassifierNet's pooling of the encoder output ``h`` (B, T, W) over the real steps."""
    mode = net.pooling
    if mode == "last":
        return h  # the encoder ran with return_sequences=False: (B, W)
    mask = lengths_mask(g, x, lengths)  # (B, T)
    mask3 = g.op("Unsqueeze", [mask, g.ints([2])])  # (B, T, 1)
    if mode == "max":
        low = g.scalar(float(np.finfo(np.float32).min))
        return g.op("ReduceMax", [g.op("Where", [mask3, h, low])], axes=[1], keepdims=0)
    if mode == "mean":
        m = g.cast(mask3, "float32")
        total = g.op("ReduceSum", [g.op("Mul", [h, m]), g.ints([1])], keepdims=0)  # (B, W)
        count = g.op("Max", [g.op("ReduceSum", [m, g.ints([1])], keepdims=0), g.scalar(1.0)])
        return g.op("Div", [total, count])
    att = net.attention
    proj = g.op("Tanh", [g.linear(h, _np(att.proj.weight), _np(att.proj.bias), key="att")])
    scores = g.op("MatMul", [proj, g.const(_np(att.query), "att_query")])  # (B, T)
    scores = g.op("Where", [mask, scores, g.scalar(float("-inf"))])
    weights = g.op("Where", [mask, g.op("Softmax", [scores], axis=-1), g.scalar(0.0)])
    return g.op("ReduceSum", [g.op("Mul", [g.op("Unsqueeze", [weights, g.ints([2])]), h]),
                              g.ints([1])], keepdims=0)  # (B, W)


def _embed(g: Graph, net: Any, ids: str) -> str:
    return g.op("Gather", [g.const(_np(net.embedding.weight), "embedding"), ids], axis=0)


def classifier_graph(task: SequenceClassifier, *, preprocessing: bool = True,
                     step: bool = False) -> tuple[Graph, dict[str, Any]]:
    """The graph of ``task`` (see the module docstring) and its metadata for the JSON."""
    net, inputs = task._fitted()
    numeric = inputs.kind == "numeric"
    C = len(task.classes_)
    meta: dict[str, Any] = {"task": "classification", "kind": inputs.kind,
                            "classes": [_jsonable(c) for c in task.classes_],
                            "pooling": net.pooling, "max_length": task.config.model.max_length}
    if numeric:
        meta["n_features"] = inputs.n_features
    else:
        meta["vocabulary"] = inputs.vocab.to_dict()  # type: ignore[union-attr]
        meta["lowercase"] = task.config.model.lowercase
        if inputs.tokenizer is not None:
            meta["tokenizer"] = inputs.tokenizer.to_dict()
    g = Graph()
    if step:
        return _step_graph(g, task, net, inputs, meta)
    F = inputs.n_features
    lengths = g.input("lengths", "int64", ["batch"])
    if numeric:
        name = "inputs" if preprocessing else "x"
        x = g.input(name, "float32", ["batch", "time", F])
        if preprocessing:
            cut = task.config.model.max_length
            if cut is not None:
                x = g.op("Slice", [x, g.ints([0]), g.ints([cut]), g.ints([1])])
                lengths = g.op("Min", [lengths, g.ints([cut])])
            x = _scale(g, x, inputs.scaler)
        feats = x
        desc = f"(batch, time, {F}) float32" + (", raw" if preprocessing else ", scaled")
    else:
        name = "ids" if preprocessing else "x"
        x = g.input(name, "int64", ["batch", "time"])
        feats = _embed(g, net, x)  # (B, T, E)
        desc = "(batch, time) int64 token ids, 0 on padding"
    h, _ = emit_recurrent(g, net.encoder, feats, lengths, key="encoder")
    pooled = _pool(g, net, h, x, lengths)
    logits = g.linear(pooled, _np(net.head.weight), _np(net.head.bias), key="head")
    out = "probabilities" if preprocessing else "logits"
    g.output(out, g.op("Softmax", [logits], axis=-1) if preprocessing else logits, "float32",
             ["batch", C])
    meta.update(inputs={name: desc, "lengths": "(batch,) int64, real steps per row"},
                outputs={out: f"(batch, {C}) float32, columns = classes"})
    return g, meta


def _scale(g: Graph, x: str, scaler: Any) -> str:
    x64 = g.cast(x, "float64")
    c = g.const(np.asarray(scaler.center_, np.float64), ("scaler", "center"), dtype="float64")
    s = g.const(np.asarray(scaler.scale_, np.float64), ("scaler", "scale"), dtype="float64")
    return g.cast(g.op("Div", [g.op("Sub", [x64, c]), s]), "float32")


def _step_graph(g: Graph, task: SequenceClassifier, net: Any, inputs: Any,
                meta: dict[str, Any]) -> tuple[Graph, dict[str, Any]]:
    enc = net.encoder
    if net.pooling != "last":
        raise ConfigError(expected("model.pooling", "'last' for a one-step graph", net.pooling,
                                   "export the full graph (step=False) instead"))
    if enc.num_directions != 1:
        raise ConfigError(expected("model.encoder.bidirectional", "False for a one-step graph "
                                   "(the backward direction needs the whole sequence)", True))
    n_layers, hs = enc.num_layers, enc.hidden_size
    if inputs.kind == "numeric":
        x_t = g.input("x_t", "float32", ["batch", inputs.n_features])
        feats, desc = _scale(g, x_t, inputs.scaler), f"(batch, {inputs.n_features}) raw"
        name = "x_t"
    else:
        ids = g.input("ids_t", "int64", ["batch"])
        feats, desc, name = _embed(g, net, ids), "(batch,) int64 token ids", "ids_t"
    names = ["h", "c"][: enc.num_states]
    state = [g.input(n, "float32", ["batch", n_layers, hs]) for n in names]
    h, new = emit_step(g, enc, feats, state, key="encoder")
    logits = g.linear(h, _np(net.head.weight), _np(net.head.bias), key="head")
    for n, value in zip(names, new):
        g.output(f"{n}_out", value, "float32", ["batch", n_layers, hs])
    C = len(task.classes_)
    g.output("probabilities", g.op("Softmax", [logits], axis=-1), "float32", ["batch", C])
    meta.update(inputs={name: desc, **{n: f"(batch, {n_layers}, {hs}) float32 state"
                                        for n in names}},
                outputs={**{f"{n}_out": "the next state" for n in names},
                         "probabilities": f"(batch, {C}) of the sequence read so far"},
                state=names)
    return g, meta


def _jsonable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
