r"""A fitted :class:`~rnnkit.tasks.tagging.SequenceTagger` as an ONNX graph.

* inputs: ``ids`` (B, T, 3) int64, each token's (word id, suffix id, shape id), 0 on
  padding, and ``lengths`` (B,) int64. The ids are what
  :class:`~rnnkit.tasks.tagging.TokenFeatures` computes; its vocabularies and the shape
  classes are in the JSON written beside the graph (``features``), with the tag names.
* outputs: ``emissions`` (B, T, K), each token's tag scores (at padded steps: the head's
  bias, as in torch), and, without a CRF, ``tags`` (B, T) int64: the argmax, -100 on padding.
  A CRF tagger decodes outside the graph: the JSON holds ``crf`` (``transitions`` (K, K),
  from tag i to tag j at [i][j], ``start`` (K,) and ``end`` (K,)); the best path maximizes
  ``start[y_1] + sum_t emissions[t, y_t] + sum_t transitions[y_{t-1}, y_t] + end[y_n]``
  over the real tokens (Viterbi), which is what :meth:`SequenceTagger.predict` returns.

``preprocessing=False`` (:func:`rnnkit.export.use_onnx`): ``x`` and ``lengths`` ->
``emissions``. ``step=True`` (a unidirectional encoder): ``ids_t`` (B, 3) and the state ->
the new state and ``emissions`` (B, K) of that token.

Symbols: B batch, T padded tokens, K tags.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit._validation import expected
from rnnkit.errors import ConfigError
from rnnkit.export._graph import Graph
from rnnkit.export.recurrent import emit_recurrent, emit_step, lengths_mask
from rnnkit.tasks.tagging import SequenceTagger

__all__ = ["IGNORE", "tagger_graph"]

#: The tag id of padded tokens in ``tags`` (PyTorch's ignore index, as rnnkit's tagger).
IGNORE = -100


def _np(t: Any) -> np.ndarray:
    return t.detach().cpu().float().numpy()


def _features(g: Graph, net: Any, ids: str, axis: int) -> str:
    """Word, suffix and shape embeddings of ``ids`` (..., 3) concatenated: (..., E)."""
    tables = [("words", net.words), ("suffixes", net.suffixes), ("shapes", net.shapes)]
    parts = []
    for k, (name, table) in enumerate(tables):
        if table is None:
            continue
        col = g.op("Gather", [ids, g.const(np.int64(k), ("i64", k))], axis=axis)
        parts.append(g.op("Gather", [g.const(_np(table.weight), name), col], axis=0))
    return parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=-1)


def tagger_graph(task: SequenceTagger, *, preprocessing: bool = True, step: bool = False
                 ) -> tuple[Graph, dict[str, Any]]:
    """The graph of ``task`` (see the module docstring) and its metadata for the JSON."""
    net, feats = task._fitted()
    K = len(task.tags_)
    cfg = task.config.model
    meta: dict[str, Any] = {
        "task": "tagging", "tags": list(task.tags_), "features": feats.to_dict(),
        "lowercase": cfg.lowercase, "suffix_length": cfg.suffix_length, "ignore": IGNORE,
    }
    if net.crf is not None:
        meta["crf"] = {"transitions": _np(net.crf.transitions).tolist(),
                       "start": _np(net.crf.start_transitions).tolist(),
                       "end": _np(net.crf.end_transitions).tolist()}
    g = Graph()
    if step:
        enc = net.encoder
        if enc.num_directions != 1:
            raise ConfigError(expected("model.encoder.bidirectional", "False for a one-step "
                                       "graph (the backward direction needs the whole "
                                       "sentence)", True))
        ids = g.input("ids_t", "int64", ["batch", 3])
        names = ["h", "c"][: enc.num_states]
        state = [g.input(n, "float32", ["batch", enc.num_layers, enc.hidden_size])
                 for n in names]
        h, new = emit_step(g, enc, _features(g, net, ids, 1), state, key="encoder")
        for n, value in zip(names, new):
            g.output(f"{n}_out", value, "float32", ["batch", enc.num_layers, enc.hidden_size])
        g.output("emissions", g.linear(h, _np(net.head.weight), _np(net.head.bias), key="head"),
                 "float32", ["batch", K])
        meta.update(inputs={"ids_t": "(batch, 3) int64: word, suffix, shape ids",
                            **{n: "(batch, layers, hidden) float32 state" for n in names}},
                    outputs={**{f"{n}_out": "the next state" for n in names},
                             "emissions": f"(batch, {K}) float32 tag scores"},
                    state=names)
        return g, meta
    name = "ids" if preprocessing else "x"
    ids = g.input(name, "int64", ["batch", "time", 3])
    lengths = g.input("lengths", "int64", ["batch"])
    out, _ = emit_recurrent(g, net.encoder, _features(g, net, ids, 2), lengths, key="encoder")
    emissions = g.linear(out, _np(net.head.weight), _np(net.head.bias), key="head")
    g.output("emissions", emissions, "float32", ["batch", "time", K])
    outputs = {"emissions": f"(batch, time, {K}) float32 tag scores"}
    if preprocessing and net.crf is None:
        best = g.op("ArgMax", [emissions], axis=-1, keepdims=0)  # (B, T)
        mask = lengths_mask(g, ids, lengths)
        g.output("tags", g.op("Where", [mask, best, g.const(np.int64(IGNORE), ("i64", IGNORE))]),
                 "int64", ["batch", "time"])
        outputs["tags"] = f"(batch, time) int64 tag ids, {IGNORE} on padding"
    meta.update(inputs={name: "(batch, time, 3) int64: word, suffix, shape ids, 0 on padding",
                        "lengths": "(batch,) int64 tokens per sentence"}, outputs=outputs)
    return g, meta
