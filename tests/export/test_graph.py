"""The graph builder: unique names, constants shared by key, outputs, a checked model with
its metadata, and a MissingDependencyError naming the extra without onnx."""

import sys

import numpy as np
import onnxruntime as ort
import pytest

from rnnkit.errors import MissingDependencyError
from rnnkit.export._graph import IR_VERSION, OPSET, Graph, onnx_module


def test_a_small_graph_runs_with_shared_constants_and_dynamic_batch():
    g = Graph()
    x = g.input("x", "float32", ["B", 3])
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    a = g.linear(x, w, np.ones(2, np.float32), key="lin")
    b = g.linear(x, w, np.ones(2, np.float32), key="lin")
    assert g.ints([1, 2]) == g.ints([1, 2]) and g.scalar(0.5) == g.scalar(0.5)
    g.output("y", g.op("Add", [a, b]), "float32", ["B", 2])
    g.metadata["rnnkit.task"] = "test"
    model = g.model()
    assert len(model.graph.initializer) == 4  # W^T, b, the ints and the scalar, once each
    assert model.opset_import[0].version == OPSET and model.ir_version == IR_VERSION
    assert {p.key: p.value for p in model.metadata_props} == {"rnnkit.task": "test"}
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for batch in (1, 4):
        xv = np.random.default_rng(batch).normal(size=(batch, 3)).astype(np.float32)
        (y,) = sess.run(None, {"x": xv})
        np.testing.assert_allclose(y, 2 * (xv @ w.T + 1), atol=1e-6)


def test_names_are_unique_across_subgraphs_and_scalars_keep_their_shape():
    g = Graph()
    body = Graph(parent=g)
    assert len({g.name("v"), body.name("v"), g.name("v")}) == 3
    body.const(np.float32(2.0), hint="two")
    assert g.initializers and not body.initializers  # a body reads the root's constants
    assert list(g.initializers[0].dims) == []


def test_missing_onnx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'rnnkit\[export\]'"):
        onnx_module()
