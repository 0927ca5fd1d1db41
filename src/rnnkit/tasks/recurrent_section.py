"""The recurrent stack as a config section: one definition for every task's encoder (and the
seq2seq decoder).

:class:`RecurrentSection` holds ``cell`` and the layer arguments of
:class:`~rnnkit.nn.recurrent.Recurrent` (the fields of :class:`~rnnkit.nn.spec.RecurrentSpec`).
``cell`` is a built-in name (``"lstm"``, ``"gru"``, ``"rnn"``) or, in Python, a
:class:`~rnnkit.nn.RecurrentCell` subclass of your own, written to TOML and JSON as
``"package.module:MyCell"`` and imported again when read (the class must live in an importable
module). A task's section subclasses it and changes only its defaults::

    class EncoderSection(RecurrentSection):
        hidden_size: int = Field(64, ge=1)
        bidirectional: bool = True

Example::

    >>> RecurrentSection(cell="gru", hidden_size=8).build(3).hidden_size
    8
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import Field, field_serializer, model_validator

from rnnkit._validation import Described, expected
from rnnkit.config import Section
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.recurrent import Recurrent
from rnnkit.nn.spec import CELLS, RecurrentSpec

__all__ = ["RecurrentSection", "cell_from_name", "cell_to_name"]

#: every RecurrentCell's arguments, and those of the built-in cells alone
_GENERIC = ("recurrent_dropout", "weight_drop", "zoneout", "layer_norm", "recurrent_init")
_OWN = ("activation", "unit_forget_bias", "reset_after")


def cell_from_name(name: str) -> str | type[RecurrentCell]:
    """A cell as a config holds it: a built-in name, or the :class:`RecurrentCell` subclass
    that a ``"module:QualName"`` names (imported)."""
    if name in CELLS:
        return name
    if ":" not in name:
        close = difflib.get_close_matches(name, list(CELLS), n=1)
        raise ValueError(expected("cell", f"one of {list(CELLS)}, a RecurrentCell subclass or "
                                  "'module:ClassName'", name,
                                  f"did you mean {close[0]!r}?" if close else None))
    module, _, qualname = name.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(expected("cell", "an importable 'module:ClassName'", name,
                                  f"({type(exc).__name__}: {exc})")) from None
    if not (isinstance(obj, type) and issubclass(obj, RecurrentCell)):
        raise ValueError(expected("cell", "a RecurrentCell subclass", Described(repr(obj))))
    return obj


def cell_to_name(cell: str | type[RecurrentCell]) -> str:
    """The text form of a cell: its name, or ``"module:QualName"`` of a class."""
    return cell if isinstance(cell, str) else f"{cell.__module__}:{cell.__qualname__}"


class RecurrentSection(Section):
    """A recurrent stack: a cell and the layer arguments (see the module docstring).

    Attributes:
        cell: ``"lstm"``, ``"gru"``, ``"rnn"``, or a :class:`~rnnkit.nn.RecurrentCell` subclass.
        hidden_size, num_layers, dropout, bidirectional, merge_mode: the layer's arguments.
        recurrent_dropout, weight_drop, zoneout, layer_norm, recurrent_init: every cell's.
        activation, unit_forget_bias, reset_after: the SimpleRNN's, LSTM's and GRU's own (a
            cell class gets those its ``__init__`` takes).
        backend: ``"auto"``, ``"torch"``, ``"rnnkit"``, ``"fused"`` or ``"loop"``.
    """

    cell: str | type[RecurrentCell] = "lstm"
    hidden_size: int = Field(64, ge=1)
    num_layers: int = Field(1, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    bidirectional: bool = False
    merge_mode: Literal["concat", "sum", "mean", "mul"] = "concat"
    recurrent_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    weight_drop: float = Field(0.0, ge=0.0, lt=1.0)
    zoneout: float = Field(0.0, ge=0.0, lt=1.0)
    layer_norm: bool = False
    activation: str = "tanh"
    recurrent_init: str = "orthogonal"
    unit_forget_bias: bool = True
    reset_after: bool = True
    backend: Literal["auto", "torch", "rnnkit", "fused", "loop"] = "auto"

    @model_validator(mode="before")
    @classmethod
    def _known_cell(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "cell" not in data:
            return data
        value = data["cell"]
        if isinstance(value, str):
            return {**data, "cell": cell_from_name(value)}
        if isinstance(value, type) and issubclass(value, RecurrentCell):
            return data
        raise ValueError(expected("cell", f"one of {list(CELLS)} or a RecurrentCell subclass",
                                  Described(repr(value))))

    @field_serializer("cell")
    def _cell_name(self, value: str | type[RecurrentCell]) -> str:
        return cell_to_name(value)

    @classmethod
    def from_spec(cls, spec: RecurrentSpec) -> Self:
        """The section of a :class:`RecurrentSpec` (an older config's ``encoder``)."""
        return cls(**dataclasses.asdict(spec))

    def spec(self) -> RecurrentSpec:
        """The :class:`RecurrentSpec` of a stack of a built-in cell."""
        if not isinstance(self.cell, str):
            raise ValueError(expected("cell", "a cell name for a RecurrentSpec",
                                      Described(self.cell.__name__)))
        names = [f.name for f in dataclasses.fields(RecurrentSpec)]
        return RecurrentSpec(**{k: getattr(self, k) for k in names})

    def build(self, input_size: int, **overrides: Any) -> Recurrent:
        """The stack reading ``input_size`` features per step (``overrides``: layer arguments
        such as ``return_sequences=False`` or ``check_finite=False``)."""
        if isinstance(self.cell, str):
            return self.spec().build(input_size, **overrides)
        params = inspect.signature(self.cell.__init__).parameters
        forwards = any(p.kind is p.VAR_KEYWORD for p in params.values())  # to RecurrentCell
        cell_kwargs = {k: getattr(self, k) for k in _GENERIC if k in params or forwards}
        cell_kwargs |= {k: getattr(self, k) for k in _OWN if k in params}
        return Recurrent(self.cell, input_size, self.hidden_size, self.num_layers,
                         dropout=self.dropout, bidirectional=self.bidirectional,
                         merge_mode=self.merge_mode, backend=self.backend,
                         **{**cell_kwargs, **overrides})

    @property
    def output_size(self) -> int:
        """Features of the built stack's output (D·H for ``merge_mode="concat"``)."""
        both = self.bidirectional and self.merge_mode == "concat"
        return self.hidden_size * (2 if both else 1)

    @property
    def num_states(self) -> int:
        """State tensors per layer: 2 for an LSTM-like cell, else 1."""
        if isinstance(self.cell, type):
            return int(self.cell.num_states)
        return 2 if self.cell == "lstm" else 1

    @property
    def cell_name(self) -> str:
        """``"LSTM"``, ``"GRU"``, ``"RNN"`` or the class name of a cell of your own."""
        return self.cell.upper() if isinstance(self.cell, str) else self.cell.__name__
