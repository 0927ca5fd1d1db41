"""What the two encoder tasks (:mod:`~rnnkit.tasks.classification` and
:mod:`~rnnkit.tasks.tagging`) share: the recurrent encoder section, the data-file section, the
training defaults and the callback that writes their validation metrics.

* :class:`EncoderSection`: the ``[model.encoder]`` table. ``cell`` is a name (``"lstm"``,
  ``"gru"``, ``"rnn"``) or, in Python, a :class:`~rnnkit.nn.RecurrentCell` subclass of your
  own (written to TOML / JSON as ``"module:QualName"``, and read back from that form).
* :class:`DataFiles`: ``[data]``: the user's file (``path``), the test part (a separate
  ``test_path``, else a seeded ``test`` fraction) and the validation fraction ``fit`` holds out.
* :class:`EvaluationSection`: ``[evaluation]``, whether the baselines are fitted and reported.
* :data:`ENCODER_TRAINING`: the ``[training]`` defaults of both tasks (a ``[training]`` table
  overrides them key by key, see :class:`~rnnkit.tasks.base.TaskConfig`); :func:`cross_entropy`.
* :class:`HistoryMetrics`: writes ``val_<name>`` metrics the trainer's loss alone cannot give
  (accuracy, macro F1, Viterbi-decoded token accuracy) into the History.

Example::

    >>> EncoderSection(cell="gru", hidden_size=8).build(3).hidden_size
    8
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_serializer, model_validator

from rnnkit._validation import Described, expected
from rnnkit.config import Section
from rnnkit.errors import ConfigError
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.gru import GRUCell
from rnnkit.nn.lstm import LSTMCell
from rnnkit.nn.recurrent import Recurrent
from rnnkit.nn.simple_rnn import SimpleRNNCell
from rnnkit.nn.spec import CELLS, RecurrentSpec
from rnnkit.training import Callback, Trainer, TrainerConfig

__all__ = [
    "ENCODER_TRAINING",
    "DataFiles",
    "EncoderSection",
    "EvaluationSection",
    "HistoryMetrics",
    "cell_from_name",
    "check_pretrained_source",
    "cross_entropy",
    "legacy_config",
    "resolve_data_paths",
]

# cell-specific keyword of the built-in cells (and of their subclasses)
_CELL_OPTION: tuple[tuple[type[RecurrentCell], str], ...] = (
    (LSTMCell, "unit_forget_bias"), (GRUCell, "reset_after"), (SimpleRNNCell, "activation"))


def cell_from_name(name: str) -> str | type[RecurrentCell]:
    """A cell name as the config holds it: a built-in name, or a ``"module:QualName"`` of a
    :class:`RecurrentCell` subclass (imported)."""
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


class EncoderSection(Section):
    """The recurrent encoder: a cell and the layer arguments of
    :class:`~rnnkit.nn.recurrent.Recurrent` (the fields of
    :class:`~rnnkit.nn.spec.RecurrentSpec`). Defaults: a bidirectional LSTM, 64 units each way.

    Attributes:
        cell: ``"lstm"``, ``"gru"``, ``"rnn"``, or a :class:`~rnnkit.nn.RecurrentCell` subclass
            (in TOML: ``"package.module:MyCell"``). A subclass of a built-in cell gets that
            cell's own option (``unit_forget_bias``, ``reset_after``, ``activation``).
        hidden_size, num_layers, dropout, bidirectional, merge_mode: the layer's arguments.
        recurrent_dropout, weight_drop, zoneout, layer_norm, recurrent_init: every cell's.
        activation, unit_forget_bias, reset_after: the SimpleRNN's, LSTM's and GRU's own.
        backend: ``"auto"``, ``"fused"`` or ``"loop"``.
    """

    cell: str | type[RecurrentCell] = "lstm"
    hidden_size: int = Field(64, ge=1)
    num_layers: int = Field(1, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    bidirectional: bool = True
    merge_mode: Literal["concat", "sum", "mean", "mul"] = "concat"
    recurrent_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    weight_drop: float = Field(0.0, ge=0.0, lt=1.0)
    zoneout: float = Field(0.0, ge=0.0, lt=1.0)
    layer_norm: bool = False
    activation: str = "tanh"
    recurrent_init: str = "orthogonal"
    unit_forget_bias: bool = True
    reset_after: bool = True
    backend: Literal["auto", "fused", "loop"] = "auto"

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
        return value if isinstance(value, str) else f"{value.__module__}:{value.__qualname__}"

    @classmethod
    def from_spec(cls, spec: RecurrentSpec) -> EncoderSection:
        """The section of a :class:`RecurrentSpec` (an older config's ``encoder``)."""
        return cls(**dataclasses.asdict(spec))

    def build(self, input_size: int, **overrides: Any) -> Recurrent:
        """The encoder layer for ``input_size`` features (``overrides``: e.g.
        ``return_sequences=False``)."""
        if isinstance(self.cell, str):
            names = {f.name for f in dataclasses.fields(RecurrentSpec)}
            spec = RecurrentSpec(**{k: getattr(self, k) for k in names})
            return spec.build(input_size, **overrides)
        kwargs: dict[str, Any] = {
            "dropout": self.dropout, "bidirectional": self.bidirectional,
            "merge_mode": self.merge_mode, "backend": self.backend,
            "recurrent_dropout": self.recurrent_dropout, "weight_drop": self.weight_drop,
            "zoneout": self.zoneout, "layer_norm": self.layer_norm,
            "recurrent_init": self.recurrent_init,
        }
        for base, option in _CELL_OPTION:
            if issubclass(self.cell, base):
                kwargs[option] = getattr(self, option)
        kwargs.update(overrides)
        return Recurrent(self.cell, input_size, self.hidden_size, self.num_layers, **kwargs)

    @property
    def output_size(self) -> int:
        """Features of the built layer's output (D·H for ``merge_mode="concat"``)."""
        both = self.bidirectional and self.merge_mode == "concat"
        return self.hidden_size * (2 if both else 1)

    @property
    def cell_name(self) -> str:
        """``"LSTM"``, ``"GRU"``, ``"RNN"`` or the class name of a cell of your own."""
        return self.cell.upper() if isinstance(self.cell, str) else self.cell.__name__


def check_pretrained_source(value: Any, name: str = "pretrained_embeddings") -> Any:
    """None, or a non-empty str (a vector-set name or a file path; resolved in ``fit``)."""
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(expected(name, "a vector-set name or a file path", value))
    return value


class DataFiles(Section):
    """The ``[data]`` table of the encoder tasks: the user's file and how it is split.

    Attributes:
        path: the file :meth:`read_data` reads (relative paths: against the TOML file's folder).
        test_path: a separate test file; when given, ``test`` is not used.
        test: the fraction of ``path`` held out for the test (seeded by ``seed``).
        validation: the fraction of the fitting data ``fit`` holds out for validation (early
            stopping watches it); None: no validation part.
        seed: seeds the test and validation splits.
    """

    path: str | None = None
    test_path: str | None = None
    test: float = Field(0.2, ge=0.0, lt=1.0)
    validation: float | None = Field(None, gt=0.0, lt=1.0)
    seed: int = 0


class EvaluationSection(Section):
    """``[evaluation]``: ``baselines``: ``fit`` also fits the task's baselines on the same
    training data, and ``evaluate`` scores them beside the model. They are fitted state that
    is not saved: a task loaded from a bundle reports the baselines its bundle can rebuild."""

    baselines: bool = True


def resolve_data_paths(data: DataFiles, folder: Path) -> dict[str, str]:
    """The relative file paths of ``data`` made absolute against ``folder`` (changed keys only)."""
    changed = {}
    for key in ("path", "test_path"):
        value = getattr(data, key)
        if value is not None and not Path(value).is_absolute():
            changed[key] = str((folder / value).resolve())
    return changed


#: The ``[training]`` defaults of both encoder tasks: 10 epochs of Adam (lr 2e-3), batches of
#: 32, gradient norm clipped at 5, seed 0, cross-entropy.
ENCODER_TRAINING: dict[str, Any] = {"epochs": 10, "batch_size": 32, "lr": 2e-3,
                                    "clipnorm": 5.0, "seed": 0, "loss": "cross_entropy"}


def cross_entropy(training: TrainerConfig) -> TrainerConfig:
    """``training`` with its loss recorded as ``"cross_entropy"``: the encoder tasks train
    with their own cross-entropy (a CRF's likelihood for the tagger), whatever a
    TrainerConfig passed in Python says."""
    return training if training.loss == "cross_entropy" else training.replace(loss="cross_entropy")


def legacy_config(saved: Mapping[str, Any]) -> dict[str, Any]:
    """The tables of a task config from a bundle written before the one task interface
    (``{"model": ..., "training": ...}``): ``patience`` and ``monitor`` move from ``model`` to
    ``early_stopping``, the rest stays where it was."""
    model = dict(saved.get("model", {}))
    stopping = {k: model.pop(k) for k in ("patience", "monitor") if k in model}
    return {"model": model, "training": dict(saved.get("training", {})),
            "early_stopping": stopping}


class HistoryMetrics(Callback):
    """Adds ``val_<name>`` entries from ``compute() -> {name: value}`` to every History row
    (place it before callbacks that monitor them, such as EarlyStopping).

    The classification and tagging tasks validate through this callback because their
    validation metrics (accuracy, macro F1, token accuracy) need the decoded predictions
    (Viterbi for the CRF), not only the loss that ``Trainer.fit(val_data=...)`` computes; the
    callable runs the model in eval mode.
    """

    def __init__(self, compute: Callable[[], dict[str, float]]) -> None:
        self.compute = compute

    def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
        for k, v in self.compute().items():
            trainer.history.record(f"val_{k}", v)
