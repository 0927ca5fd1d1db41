"""A serializable description of a recurrent encoder, so tasks and bundles can rebuild it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rnnkit._validation import check_choice
from rnnkit.nn.gru import GRU
from rnnkit.nn.lstm import LSTM
from rnnkit.nn.recurrent import Recurrent
from rnnkit.nn.simple_rnn import SimpleRNN

__all__ = ["CELLS", "RecurrentSpec"]

CELLS: dict[str, type[Recurrent]] = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}


@dataclass(frozen=True)
class RecurrentSpec:
    """Everything needed to build a recurrent stack, JSON-serializable via :meth:`to_dict`.

    ``cell`` is ``"lstm"``, ``"gru"`` or ``"rnn"``; the other fields are the layer arguments of
    the same names (see :class:`rnnkit.nn.recurrent.Recurrent` and the cells).
    """

    cell: str = "lstm"
    hidden_size: int = 50
    num_layers: int = 1
    dropout: float = 0.0
    bidirectional: bool = False
    merge_mode: str = "concat"
    recurrent_dropout: float = 0.0
    weight_drop: float = 0.0
    zoneout: float = 0.0
    layer_norm: bool = False
    activation: str = "tanh"
    recurrent_init: str = "orthogonal"
    unit_forget_bias: bool = True
    reset_after: bool = True
    backend: str = "auto"

    def __post_init__(self) -> None:
        check_choice("cell", self.cell, CELLS)

    def build(self, input_size: int, **overrides: Any) -> Recurrent:
        """Build the layer for ``input_size`` features (``overrides``: e.g. return_sequences)."""
        kwargs: dict[str, Any] = {
            "num_layers": self.num_layers, "dropout": self.dropout,
            "bidirectional": self.bidirectional, "merge_mode": self.merge_mode,
            "recurrent_dropout": self.recurrent_dropout, "weight_drop": self.weight_drop,
            "zoneout": self.zoneout, "layer_norm": self.layer_norm,
            "recurrent_init": self.recurrent_init, "backend": self.backend,
        }
        if self.cell == "rnn":
            kwargs["activation"] = self.activation
        if self.cell == "lstm":
            kwargs["unit_forget_bias"] = self.unit_forget_bias
        if self.cell == "gru":
            kwargs["reset_after"] = self.reset_after
        kwargs.update(overrides)
        return CELLS[self.cell](input_size, self.hidden_size, **kwargs)

    @property
    def output_size(self) -> int:
        """Features of the built layer's output."""
        both = self.bidirectional and self.merge_mode == "concat"
        return self.hidden_size * (2 if both else 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecurrentSpec:
        return cls(**data)
