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

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field, model_validator

from rnnkit._validation import expected
from rnnkit.config import Section
from rnnkit.errors import ConfigError
from rnnkit.tasks.recurrent_section import RecurrentSection
from rnnkit.training import Callback, Trainer, TrainerConfig

__all__ = [
    "ENCODER_TRAINING",
    "DataFiles",
    "EncoderSection",
    "EvaluationSection",
    "HistoryMetrics",
    "PretrainedEmbeddings",
    "check_pretrained_source",
    "cross_entropy",
    "legacy_config",
]

class EncoderSection(RecurrentSection):
    """The recurrent encoder of the classifier and the tagger
    (:class:`~rnnkit.tasks.recurrent_section.RecurrentSection`): a bidirectional LSTM, 64 units
    each way, by default."""

    hidden_size: int = Field(64, ge=1)
    bidirectional: bool = True


def check_pretrained_source(value: Any, name: str = "pretrained_embeddings") -> Any:
    """None, or a non-empty str (a vector-set name or a file path; resolved in ``fit``)."""
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(expected(name, "a vector-set name or a file path", value))
    return value


class PretrainedEmbeddings(Section):
    """The token embedding's start, shared by the classifier's and the tagger's ``[model]``:
    ``pretrained_embeddings`` (a vector-set name or a word-vector file; None: random) and
    ``freeze_embeddings`` (keep them fixed while training)."""

    pretrained_embeddings: str | None = None
    freeze_embeddings: bool = False

    @model_validator(mode="before")
    @classmethod
    def _check_vectors(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            check_pretrained_source(data.get("pretrained_embeddings"))
        return data


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
    training data, and ``evaluate`` scores them beside the model. They are saved in the
    bundle; one written before they were reports the baselines it can rebuild."""

    baselines: bool = True


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
