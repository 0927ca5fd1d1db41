"""A small ONNX graph builder: named values, shared constants, subgraphs for Scan bodies.

The export writes its graphs by hand (not through PyTorch's exporters) so that the time axis
stays dynamic and every operation is the one rnnkit's equations define. :class:`Graph` keeps
the nodes, the inputs and outputs and the initializers of one graph; a subgraph (a Scan body)
is a :class:`Graph` whose constants live in its root graph, which ONNX lets a body read from
the outer scope.

Symbols: B batch, T timesteps, F features.

Example::

    >>> g = Graph()
    >>> x = g.input("x", "float32", ["B", 3])
    >>> y = g.op("Relu", [g.op("Add", [x, g.const(np.ones(3, np.float32))])])
    >>> g.output("y", y, "float32", ["B", 3])
    >>> model = g.model()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnkit._validation import expected
from rnnkit.errors import MissingDependencyError

__all__ = ["IR_VERSION", "OPSET", "Graph", "onnx_module"]

#: The operator set the graphs use (LayerNormalization needs 17), and its IR version, so that
#: runtimes a few years old load them.
OPSET = 17
IR_VERSION = 8

_FIX = "install the export extra: pip install 'rnnkit[export]'"


def onnx_module() -> Any:
    """The ``onnx`` package, or a MissingDependencyError naming the extra that installs it."""
    try:
        import onnx
    except ImportError as exc:
        raise MissingDependencyError(expected(
            "onnx", "the optional 'onnx' package", "it is not installed", _FIX)) from exc
    return onnx


_DTYPES = {"float32": 1, "int64": 7, "int32": 6, "bool": 9, "float64": 11}


class Graph:
    """Nodes, inputs, outputs and initializers of one ONNX graph.

    Args:
        parent: the graph a subgraph (a Scan body) belongs to; its constants and value names
            are the root's.
    """

    def __init__(self, parent: Graph | None = None) -> None:
        self.parent = parent
        self.root: Graph = self if parent is None else parent.root
        self.nodes: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0
        self._consts: dict[Any, str] = {}
        self.metadata: dict[str, str] = {}

    # ------------------------------------------------------------------------- names
    def name(self, hint: str) -> str:
        """A value name unique in the whole model."""
        root = self.root
        root._count += 1
        return f"{hint}_{root._count}"

    def const(self, value: Any, key: Any = None, *, dtype: str | None = None,
              hint: str = "c") -> str:
        """An initializer of the root graph holding ``value`` (a NumPy array or a scalar);
        the same ``key`` returns the same initializer (weights read by several steps)."""
        onnx = onnx_module()
        root = self.root
        if key is not None and key in root._consts:
            return root._consts[key]
        arr = np.asarray(value)
        if dtype is not None:
            arr = arr.astype(dtype)
        elif arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        name = self.name(hint)
        root.initializers.append(onnx.numpy_helper.from_array(arr.copy(order="C"), name))
        if key is not None:
            root._consts[key] = name
        return name

    def ints(self, values: Sequence[int]) -> str:
        """An int64 vector constant (shapes, axes, slice bounds), shared by value."""
        values = tuple(int(v) for v in values)
        return self.const(np.array(values, dtype=np.int64), ("ints", values), hint="i")

    # ------------------------------------------------------------------------- nodes
    def op(self, op_type: str, inputs: Sequence[str], *, outputs: int = 1,
           hint: str | None = None, **attrs: Any) -> Any:
        """Add a node; returns its output name (or a list of ``outputs`` names). An empty
        string in ``inputs`` skips an optional input."""
        onnx = onnx_module()
        names = [self.name(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(onnx.helper.make_node(op_type, list(inputs), names,
                                                name=self.name(f"n_{op_type}"), **attrs))
        return names[0] if outputs == 1 else names

    def input(self, name: str, dtype: str, shape: Sequence[int | str | None]) -> str:
        """Declare a graph input (a string in ``shape`` names a dynamic axis)."""
        self.inputs.append(_value_info(name, dtype, shape))
        return name

    def output(self, name: str, value: str, dtype: str, shape: Sequence[int | str | None]
               ) -> None:
        """Declare ``value`` as the graph output ``name``."""
        if value != name:
            self.nodes.append(onnx_module().helper.make_node("Identity", [value], [name],
                                                             name=self.name("n_out")))
        self.outputs.append(_value_info(name, dtype, shape))

    # ---------------------------------------------------------------------- building
    def graph(self, name: str = "rnnkit") -> Any:
        """The GraphProto (a subgraph carries no initializers: they are the root's)."""
        onnx = onnx_module()
        return onnx.helper.make_graph(self.nodes, name, self.inputs, self.outputs,
                                      initializer=self.initializers if self.parent is None else [])

    def model(self, name: str = "rnnkit") -> Any:
        """The checked ModelProto of this (root) graph, opset :data:`OPSET`."""
        onnx = onnx_module()
        model = onnx.helper.make_model(self.graph(name),
                                       opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                       producer_name="rnnkit")
        model.ir_version = IR_VERSION
        for key, value in self.metadata.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.checker.check_model(model)
        return model

    # --------------------------------------------------------------------- shortcuts
    def linear(self, x: str, weight: Any, bias: Any = None, key: Any = None) -> str:
        """``x W^T + b`` for ``x`` (..., I), ``weight`` (O, I) and ``bias`` (O,) arrays."""
        w = self.const(np.asarray(weight, np.float32).T, None if key is None else (key, "wT"))
        y = self.op("MatMul", [x, w])
        if bias is None:
            return y
        return self.op("Add", [y, self.const(bias, None if key is None else (key, "b"))])

    def layer_norm(self, x: str, weight: Any, bias: Any = None, key: Any = None,
                   eps: float = 1e-5) -> str:
        """Layer normalization over the last axis with gain ``weight`` and optional ``bias``."""
        w = self.const(weight, None if key is None else (key, "ln_w"))
        b = self.const(np.zeros_like(np.asarray(weight)) if bias is None else bias,
                       None if key is None else (key, "ln_b"))
        return self.op("LayerNormalization", [x, w, b], axis=-1, epsilon=eps)

    def scalar(self, value: float) -> str:
        """A float32 scalar constant, shared by value."""
        return self.const(np.float32(value), ("scalar", float(value)), hint="s")

    def split(self, x: str, parts: int, axis: int = -1) -> list[str]:
        """``x`` cut into ``parts`` equal pieces along ``axis``."""
        return list(self.op("Split", [x], outputs=parts, axis=axis))

    def cast(self, x: str, dtype: str) -> str:
        return self.op("Cast", [x], to=_DTYPES[dtype])


def _value_info(name: str, dtype: str, shape: Sequence[int | str | None]) -> Any:
    return onnx_module().helper.make_tensor_value_info(name, _DTYPES[dtype], list(shape))
