"""TrainerConfig: everything that defines a training run, validated when it is built.

The config is a :class:`~rnnkit.config.Section` (rnnkit's one pydantic machinery): frozen,
compared and hashed by value, unknown keys rejected with the closest known one as a
suggestion, and it round-trips through JSON (:meth:`TrainerConfig.to_json` /
:meth:`TrainerConfig.from_json`). Every field is checked when the config is built; a bad value
raises :class:`~rnnkit.errors.ConfigError` naming the field, what was expected and what was
received, in one line. A task config holds one as its ``training`` section.

Example:
    >>> cfg = TrainerConfig(epochs=5, optimizer="sgd", momentum=0.5)
    >>> cfg
    TrainerConfig(epochs=5, optimizer='sgd', momentum=0.5)
    >>> TrainerConfig.from_json(cfg.to_json()) == cfg
    True
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import model_validator

from rnnkit._validation import Described, expected
from rnnkit.config import Section
from rnnkit.errors import ConfigError
from rnnkit.training.losses import LOSSES, LossFn
from rnnkit.training.schedules import SCHEDULES
from rnnkit.training.seeding import DEVICES

__all__ = ["OPTIMIZERS", "PRECISIONS", "PROGRESS_MODES", "ProgressMode", "TrainerConfig"]

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
PRECISIONS = (None, "bf16", "fp16")
ProgressMode = Literal["auto", "bar", "epochs", "off"]
PROGRESS_MODES = ("auto", "bar", "epochs", "off")  # see rnnkit.training.progress


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int)


class TrainerConfig(Section):
    """Everything that defines a training run; frozen and JSON-serializable.

    Attributes:
        epochs: passes over the training data.
        batch_size: training batch size (in-memory data and Datasets).
        eval_batch_size: batch size for validation / evaluate / predict;
            None uses ``max(batch_size, 256)``.
        shuffle: reshuffle the training rows every epoch (must be False with ``tbptt_steps``).
        optimizer: ``"adam"``, ``"adamw"``, ``"rmsprop"`` or ``"sgd"``.
        lr: initial learning rate.
        weight_decay: L2 penalty (decoupled for ``"adamw"``).
        momentum: for ``"sgd"`` (None means 0.9) and ``"rmsprop"`` (None means 0).
        clipnorm: clip the global gradient L2 norm to this value (None: off).
        clipvalue: clip every gradient element to [-clipvalue, clipvalue] (None: off).
            Both may be set; values are clipped first, then the norm.
        schedule: None, ``"plateau"``, ``"cosine"`` or ``"step"`` (see
            :mod:`rnnkit.training.schedules`), stepped once per epoch.
        monitor: the History key ``"plateau"`` watches (``val_loss``; falls back to ``loss``).
        warmup_epochs: linear warm-up epochs before the cosine decay.
        min_lr: the floor of ``"cosine"`` and ``"plateau"``.
        step_size, step_gamma: ``"step"`` multiplies the rate by ``step_gamma`` every
            ``step_size`` epochs.
        plateau_factor, plateau_patience: ``"plateau"`` multiplies the rate by
            ``plateau_factor`` after ``plateau_patience`` epochs without improvement.
        loss: a name in :data:`LOSSES` or a callable ``loss(y_pred, y_true) -> 0-d tensor``
            (a callable cannot be written to JSON; prefer ``Trainer(loss=...)``).
        huber_delta: the ``"huber"`` threshold.
        train_metrics: also compute the metrics on the training predictions of each epoch
            (keeps them in memory; off by default, validation metrics are always computed).
        tbptt_steps: truncated BPTT segment length; None trains on whole sequences.
        seed: seeds Python, NumPy, torch and the shuffle generator at the start of ``fit``;
            None leaves the global generators alone.
        deterministic: ask torch for deterministic kernels (see ``seed_everything``).
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) or ``"mps"``.
        mixed_precision: None, ``"bf16"`` or ``"fp16"`` autocast (CUDA only; fp16 adds a
            GradScaler).
        max_time: a wall-clock budget in seconds for ``fit``: the run stops at the end of the
            epoch that crosses it, and that epoch's History row gets
            ``stop_reason="max_time"`` (:class:`~rnnkit.training.callbacks.TimeBudget`).
            None: no budget.
        progress: ``"bar"`` (a live bar), ``"epochs"`` (a line per epoch), ``"off"`` or
            ``"auto"`` (the bar on a terminal, else lines), on stderr
            (:mod:`rnnkit.training.progress`).
        num_threads: torch intra-op threads during ``fit`` (restored after it); None leaves
            torch's setting. Small recurrent models often run fastest on one thread.
    """

    epochs: int = 10
    batch_size: int = 32
    eval_batch_size: int | None = None
    shuffle: bool = True
    optimizer: Literal["adam", "adamw", "rmsprop", "sgd"] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float | None = None
    clipnorm: float | None = None
    clipvalue: float | None = None
    schedule: Literal["plateau", "cosine", "step"] | None = None
    monitor: str = "val_loss"
    warmup_epochs: int = 0
    min_lr: float = 0.0
    step_size: int = 10
    step_gamma: float = 0.1
    plateau_factor: float = 0.1
    plateau_patience: int = 5
    loss: str | LossFn = "mse"
    huber_delta: float = 1.0
    train_metrics: bool = False
    tbptt_steps: int | None = None
    seed: int | None = None
    deterministic: bool = False
    device: str = "auto"
    mixed_precision: Literal["bf16", "fp16"] | None = None
    max_time: float | None = None
    progress: ProgressMode = "auto"
    num_threads: int | None = None

    # Each field is checked here, before pydantic's coercion, so that the messages name what
    # rnnkit expects (an integer >= 1, not "a valid integer") and bools never pass as numbers.
    # A ValueError raised by a validator becomes Section's one-line ConfigError.
    @model_validator(mode="before")
    @classmethod
    def _fields_valid(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        values = {name: data.get(name, field.default) for name, field in cls.model_fields.items()}
        _check_values(values)
        return data

    @model_validator(mode="after")
    def _combinations_valid(self) -> Self:
        _check_combinations(self)
        return self

    def __str__(self) -> str:
        return repr(self)

    # -- serialization -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain values; raises ConfigError when ``loss`` is a callable."""
        if callable(self.loss):
            raise ConfigError(expected("loss", f"a loss name {list(LOSSES)} to serialize the config",
                                       self.loss, "pass the callable as Trainer(loss=...) instead"))
        return self._fields_dict()

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainerConfig:
        """Build from plain values (e.g. :meth:`to_dict`); an unknown key is a ConfigError that
        suggests the closest field."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(expected("TrainerConfig", "a dict of fields",
                                       Described(type(data).__name__)))
        known = sorted(cls.model_fields)
        unknown = sorted(set(data) - set(known))
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), known, n=1)
            raise ConfigError(expected("TrainerConfig keys", f"a subset of {known}", unknown,
                                       f"did you mean {close[0]!r}?" if close else None))
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> TrainerConfig:
        return cls.from_dict(json.loads(text))


# -------------------------------------------------------------------------------- checks
def _check_values(v: dict[str, Any]) -> None:
    """Each field on its own (``v``: every field, defaults filled in); raises ValueError."""

    def positive_int(name: str, minimum: int = 1, optional: bool = False) -> None:
        value = v[name]
        if optional and value is None:
            return
        if not _is_int(value) or value < minimum:
            what = f"an integer >= {minimum}" + (" or None" if optional else "")
            raise ValueError(expected(name, what, value))

    def number(name: str, low: float, *, strict: bool = False, high: float | None = None,
               optional: bool = False) -> None:
        value = v[name]
        if optional and value is None:
            return
        ok = _is_number(value) and (value > low if strict else value >= low) and (
            high is None or value < high)
        if not ok:
            bound = f"{'>' if strict else '>='} {low}" + (f" and < {high}" if high is not None else "")
            raise ValueError(expected(name, f"a finite number {bound}"
                                      + (" or None" if optional else ""), value))

    def boolean(name: str) -> None:
        if not isinstance(v[name], bool):
            raise ValueError(expected(name, "True or False", v[name]))

    def choice(name: str, choices: tuple[Any, ...]) -> None:
        try:
            ok = v[name] in choices
        except TypeError:  # an unhashable or uncomparable value
            ok = False
        if not ok:
            raise ValueError(expected(name, f"one of {list(choices)}", v[name]))

    positive_int("epochs")
    positive_int("batch_size")
    positive_int("eval_batch_size", optional=True)
    boolean("shuffle")
    choice("optimizer", OPTIMIZERS)
    number("lr", 0.0, strict=True)
    number("weight_decay", 0.0)
    number("momentum", 0.0, high=1.0, optional=True)
    number("clipnorm", 0.0, strict=True, optional=True)
    number("clipvalue", 0.0, strict=True, optional=True)
    choice("schedule", SCHEDULES)
    if not isinstance(v["monitor"], str) or not v["monitor"]:
        raise ValueError(expected("monitor", "a History key such as 'val_loss'", v["monitor"]))
    positive_int("warmup_epochs", minimum=0)
    number("min_lr", 0.0)
    positive_int("step_size")
    number("step_gamma", 0.0, strict=True)
    number("plateau_factor", 0.0, strict=True, high=1.0)
    positive_int("plateau_patience", minimum=0)
    loss = v["loss"]
    if not (callable(loss) or (isinstance(loss, str) and loss in LOSSES)):
        raise ValueError(expected("loss", f"one of {list(LOSSES)} or a callable", loss))
    number("huber_delta", 0.0, strict=True)
    boolean("train_metrics")
    positive_int("tbptt_steps", optional=True)
    seed = v["seed"]
    if seed is not None and (not _is_int(seed) or not 0 <= seed < 2**32):
        raise ValueError(expected("seed", "an integer in [0, 2**32) or None", seed))
    boolean("deterministic")
    device = v["device"]
    kind = device.split(":", 1)[0] if isinstance(device, str) else None
    if kind not in DEVICES or (kind == "auto" and device != "auto"):
        raise ValueError(expected("device", f"one of {list(DEVICES)} (or 'cuda:N')", device))
    choice("mixed_precision", PRECISIONS)
    number("max_time", 0.0, strict=True, optional=True)
    choice("progress", PROGRESS_MODES)
    positive_int("num_threads", optional=True)


def _check_combinations(c: TrainerConfig) -> None:
    """The fields that constrain each other; raises ValueError."""
    if c.momentum is not None and c.optimizer not in ("sgd", "rmsprop"):
        raise ValueError(expected("momentum", f"None for optimizer={c.optimizer!r}", c.momentum,
                                  "momentum applies to 'sgd' and 'rmsprop'"))
    if c.warmup_epochs and c.schedule != "cosine":
        raise ValueError(expected("warmup_epochs", f"0 with schedule={c.schedule!r}",
                                  c.warmup_epochs, "warm-up is part of schedule='cosine'"))
    if c.warmup_epochs > c.epochs:
        raise ValueError(expected("warmup_epochs", f"at most epochs={c.epochs}", c.warmup_epochs))
    if c.min_lr >= c.lr and c.schedule in ("cosine", "plateau"):
        raise ValueError(expected("min_lr", f"a value below lr={c.lr}", c.min_lr))
    if c.tbptt_steps is not None and c.shuffle:
        raise ValueError(expected(
            "shuffle", "False with tbptt_steps", c.shuffle,
            "TBPTT carries each row's state into the same row of the next batch; "
            "pass shuffle=False"))
