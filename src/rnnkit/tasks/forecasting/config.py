"""The forecasting configuration: one validated, serializable description of an experiment.

A :class:`ForecastConfig` has six sections, each a small pydantic model that forbids unknown
keys, so a typo in a TOML file is an error naming the key and the allowed ones::

    [data]        where the series comes from: a packaged dataset or a CSV/Parquet file
    [forecast]    look_back, horizon, strategy, scaling, teacher forcing
    [model]       the recurrent encoder (RecurrentSpec fields) and the head's dropout
    [training]    TrainerConfig fields, early stopping, CPU threads
    [split]       validation and test parts, by fraction (of rows or of windows) or by date
    [evaluation]  baselines, seasonal period m, backtest folds

Every validation failure becomes one :class:`~rnnkit.errors.ConfigError` line naming the key,
what was expected and what was received, e.g.
``forecast.strategy: expected one of ['direct', 'recursive', 'seq2seq'], got 'direkt'``.

Example::

    >>> cfg = ForecastConfig.from_dict({"data": {"dataset": "battery"},
    ...                                 "forecast": {"look_back": 20}})
    >>> cfg.forecast.look_back, cfg.training.epochs
    (20, 50)
    >>> ForecastConfig.from_toml_string(cfg.to_toml()) == cfg
    True
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from pathlib import Path
from typing import Any, Literal, Self, get_args, get_origin

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rnnkit._validation import Described, expected
from rnnkit.data.datasets import list_datasets
from rnnkit.data.splitting import ChronoSplit, split_by_date, split_by_fraction
from rnnkit.errors import ConfigError, DataError
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.training import TrainerConfig

__all__ = [
    "STRATEGIES",
    "DataSection",
    "EvaluationSection",
    "ForecastConfig",
    "ForecastSection",
    "ModelSection",
    "SplitSection",
    "TrainingSection",
]

#: How multi-step forecasts are made (see :mod:`rnnkit.tasks.forecasting.model`).
STRATEGIES = ("direct", "recursive", "seq2seq")
#: Scaling choices; ``"window"`` is per-window reversible instance normalization.
SCALINGS = ("minmax", "standard", "robust", "none", "window")

Number = int | float


class _Section(BaseModel):
    """A frozen config section that rejects unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise ConfigError(_one_line(err, type(self))) from None


# -----------------------------------------------------------------------------------------
# sections
# -----------------------------------------------------------------------------------------
class DataSection(_Section):
    """Where the series comes from: exactly one of ``dataset`` or ``path``.

    ``dataset`` names a packaged dataset (:func:`rnnkit.data.list_datasets`) and
    ``dataset_args`` go to its generator (``seed``, ``n_cycles``); ``path`` is a CSV or Parquet
    file (relative paths are resolved against the config file's folder) read with
    :func:`rnnkit.data.load_series` and the other keys.
    """

    dataset: str | None = None
    dataset_args: dict[str, int | float | str | bool] = Field(default_factory=dict)
    path: str | None = None
    time_col: str | None = None
    targets: tuple[str, ...] | None = None
    covariates: tuple[str, ...] = ()
    missing: Literal["error", "interpolate", "ffill"] = "error"
    irregular: Literal["error", "delta", "resample"] = "error"
    freq: str | int | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.dataset is None) == (self.path is None):
            got = "both" if self.dataset is not None else "neither"
            raise ValueError(expected("dataset/path", "exactly one of them", Described(got),
                                      "name a packaged dataset or a CSV/Parquet file"))
        if self.dataset is not None:
            known = sorted(list_datasets())
            if self.dataset not in known:
                raise ValueError(expected("dataset", f"one of {known}", self.dataset))
            file_keys = [k for k in ("time_col", "targets", "freq")
                         if getattr(self, k) is not None]
            if file_keys or self.covariates:
                raise ValueError(expected(
                    (file_keys or ["covariates"])[0], "unset with a packaged dataset",
                    getattr(self, (file_keys or ["covariates"])[0]),
                    "these keys describe a file given by 'path'"))
        elif self.dataset_args:
            raise ValueError(expected("dataset_args", "unset with 'path'", self.dataset_args))
        return self


class ForecastSection(_Section):
    """The forecasting problem.

    Attributes:
        look_back: L, past steps the model reads.
        horizon: H, future steps it forecasts.
        strategy: ``"direct"`` (one head emits all H steps), ``"recursive"`` (a one-step model
            fed its own forecasts H times) or ``"seq2seq"`` (an encoder-decoder that decodes
            the H steps one by one).
        scaling: ``"minmax"``, ``"standard"``, ``"robust"``, ``"none"`` (a global scaler fitted
            on the training rows) or ``"window"`` (each window normalized by its own
            statistics inside the model, outputs de-normalized: reversible instance
            normalization; the loss is then measured in training-standardized units).
        window_mode: for ``scaling="window"``: ``"standard"`` (subtract the window mean,
            divide by its std) or ``"last"`` (subtract the last value).
        teacher_forcing: seq2seq only: the probability, per sample and decoder step, of
            feeding the true previous value instead of the model's own forecast in training.
    """

    look_back: int = Field(20, ge=1)
    horizon: int = Field(1, ge=1)
    strategy: Literal["direct", "recursive", "seq2seq"] = "direct"
    scaling: Literal["minmax", "standard", "robust", "none", "window"] = "window"
    window_mode: Literal["standard", "last"] = "standard"
    teacher_forcing: float = Field(0.5, ge=0.0, le=1.0)


class ModelSection(_Section):
    """The recurrent encoder: the fields of :class:`~rnnkit.nn.spec.RecurrentSpec` (defaults:
    the tutorial's two LSTM layers of 50 units with dropout 0.2 between them) and
    ``head_dropout``, dropout before the linear output head (the tutorial's second Dropout)."""

    cell: Literal["lstm", "gru", "rnn"] = "lstm"
    hidden_size: int = Field(50, ge=1)
    num_layers: int = Field(2, ge=1)
    dropout: float = Field(0.2, ge=0.0, lt=1.0)
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
    backend: Literal["auto", "fused", "loop"] = "auto"
    head_dropout: float = Field(0.2, ge=0.0, lt=1.0)

    def spec(self) -> RecurrentSpec:
        """The :class:`RecurrentSpec` of the encoder."""
        names = {f.name for f in dataclasses.fields(RecurrentSpec)}
        return RecurrentSpec(**{k: v for k, v in self.model_dump().items() if k in names})


_TRAINING_EXTRAS = ("early_stopping", "patience", "min_delta", "restore_best_weights",
                    "num_threads")


class TrainingSection(_Section):
    """The fields of :class:`~rnnkit.training.TrainerConfig` (validated by it; ``loss`` by name
    only) plus early stopping on the validation loss and the CPU thread count.

    Defaults follow the tutorial (Adam, lr 1e-3, batch 32, 50 epochs) and seed 0, so two runs
    of one config give the same numbers. ``num_threads``: torch intra-op threads while
    fitting (None: leave torch's setting); these models are small, and on a busy 2-core
    machine one thread is the fastest.
    """

    epochs: int = 50
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
    loss: Literal["mse", "mae", "huber"] = "mse"
    huber_delta: float = 1.0
    train_metrics: bool = False
    tbptt_steps: int | None = None
    seed: int = 0
    deterministic: bool = False
    device: str = "auto"
    mixed_precision: Literal["bf16", "fp16"] | None = None
    early_stopping: bool = True
    patience: int = Field(10, ge=1)
    min_delta: float = Field(0.0, ge=0.0)
    restore_best_weights: bool = True
    num_threads: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _valid_for_trainer(self) -> Self:
        self.trainer_config()  # TrainerConfig's own checks, message prefixed by the converter
        return self

    def trainer_config(self) -> TrainerConfig:
        """The :class:`TrainerConfig` these fields describe."""
        fields = {k: v for k, v in self.model_dump().items() if k not in _TRAINING_EXTRAS}
        return TrainerConfig(**fields)


class SplitSection(_Section):
    """The validation and test parts (the training part is everything before them).

    By fraction: the last ``test`` fraction is the test part and the ``val`` fraction before it
    the validation part (early stopping watches it; it never overlaps the test part).
    ``unit="rows"`` cuts the time steps; ``unit="windows"`` cuts the list of one-step windows
    the way the tutorials do (the last 20 % of windows), so results compare with theirs
    (with horizon H > 1, the windows whose H targets straddle a boundary belong to no part).
    By date: ``val_start`` / ``test_start`` (a date, or an integer step for an integer index)
    override the fractions.
    """

    val: float = Field(0.1, ge=0.0, lt=1.0)
    test: float = Field(0.2, ge=0.0, lt=1.0)
    unit: Literal["rows", "windows"] = "rows"
    val_start: str | int | None = None
    test_start: str | int | None = None

    @model_validator(mode="after")
    def _room_for_training(self) -> Self:
        if self.val + self.test >= 1.0:
            raise ValueError(expected("val + test", "a total below 1 (training needs rows)",
                                      round(self.val + self.test, 9)))
        return self

    def chrono_split(self, index: pd.Index, look_back: int, horizon: int) -> ChronoSplit:
        """Row boundaries for a series with time index ``index``."""
        n_steps = len(index)
        if self.val_start is not None or self.test_start is not None:
            return split_by_date(index, val_start=self.val_start, test_start=self.test_start)
        if self.unit == "rows":
            return split_by_fraction(n_steps, val=self.val, test=self.test)
        n_windows = n_steps - look_back - horizon + 1  # one-step-apart windows of the series
        if n_windows < 1:
            raise DataError(expected(
                "series", f"at least look_back + horizon = {look_back + horizon} rows",
                Described(f"{n_steps} rows"), "shorten look_back or horizon"))
        n_train_val = int(n_windows * (1.0 - self.test))
        n_train = int(n_train_val * (1.0 - self.val / (1.0 - self.test)))
        if n_train < 1:
            raise DataError(expected("series", "enough windows for a training part",
                                     Described(f"{n_windows} windows"),
                                     "lower split.val/split.test or use a longer series"))
        # window i's first target is row look_back + i
        return ChronoSplit(look_back + n_train, look_back + n_train_val, n_steps)


class EvaluationSection(_Section):
    """What :meth:`Forecaster.evaluate` reports next to the model.

    Attributes:
        baselines: also fit and score persistence, seasonal naive (when m > 1 and
            look_back >= m), moving average, linear AR and the MLP on the same windows.
        seasonal_period: m for the seasonal naive baseline and the MASE scale; None takes the
            packaged dataset's m, else one from the series' frequency (12 monthly, 4
            quarterly, 7 daily, 24 hourly, 1 otherwise).
        moving_average_window: None: m when m > 1, else the whole look-back.
        backtest_folds: rolling-origin folds run by ``run_experiment`` (0: none).
        mlp_epochs: full-batch epochs of the MLP baseline.
    """

    baselines: bool = True
    seasonal_period: int | None = Field(None, ge=1)
    moving_average_window: int | None = Field(None, ge=1)
    backtest_folds: int = Field(0, ge=0)
    mlp_epochs: int = Field(300, ge=1)


# -----------------------------------------------------------------------------------------
# the whole configuration
# -----------------------------------------------------------------------------------------
class ForecastConfig(_Section):
    """A complete forecasting experiment; see the module docstring for the sections."""

    name: str | None = None
    data: DataSection
    forecast: ForecastSection = Field(default_factory=ForecastSection)
    model: ModelSection = Field(default_factory=ModelSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    split: SplitSection = Field(default_factory=SplitSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any) -> ForecastConfig:
        """Validate a nested dict (e.g. parsed TOML or JSON)."""
        if isinstance(data, ForecastConfig):
            return data
        if not isinstance(data, dict):
            raise ConfigError(expected("config", "a dict of sections",
                                       Described(type(data).__name__)))
        return cls(**data)

    @classmethod
    def from_toml_string(cls, text: str, *, source: str = "<string>") -> ForecastConfig:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{source}: not valid TOML: {err}") from None
        return cls.from_dict(data)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> ForecastConfig:
        """Read a TOML file; a relative ``data.path`` is resolved against the file's folder."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError(expected("config path", "an existing TOML file", str(p)))
        config = cls.from_toml_string(p.read_text(encoding="utf-8"), source=str(p))
        if config.data.path is not None and not Path(config.data.path).is_absolute():
            resolved = str((p.parent / config.data.path).resolve())
            config = config.with_overrides({"data": {"path": resolved}})
        return config

    def with_overrides(self, overrides: dict[str, Any] | None) -> ForecastConfig:
        """A new config with ``overrides`` (a nested dict, sections merged key by key)."""
        if not overrides:
            return self
        return ForecastConfig.from_dict(_merge(self.to_dict(), overrides))

    # -- serialization -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (lists, not tuples), ``None`` values included."""
        return self.model_dump(mode="json")

    def to_toml(self) -> str:
        """TOML text that :meth:`from_toml_string` reads back to an equal config.

        TOML has no null, so ``None`` values are left out; every key that may be ``None``
        defaults to ``None``, so leaving it out restores it.
        """
        data = self.to_dict()
        lines: list[str] = []
        if data.get("name") is not None:
            lines += [f"name = {_toml_value(data['name'])}", ""]
        for section, values in data.items():
            if not isinstance(values, dict):
                continue
            lines.append(f"[{section}]")
            nested = []
            for key, value in values.items():
                if value is None:
                    continue
                if isinstance(value, dict):
                    nested.append((key, value))
                    continue
                lines.append(f"{key} = {_toml_value(value)}")
            for key, value in nested:
                if value:
                    items = ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items())
                    lines.append(f"{key} = {{ {items} }}")
            lines.append("")
        return "\n".join(lines)

    def __repr__(self) -> str:
        changed = _non_defaults(self)
        return f"ForecastConfig({changed})"


# -----------------------------------------------------------------------------------------
# helpers
# -----------------------------------------------------------------------------------------
def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "dataset_args":
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(expected("config value", "a TOML scalar or list", value))


def _non_defaults(model: BaseModel, prefix: str = "") -> str:
    parts = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            inner = _non_defaults(value, f"{prefix}{name}.")
            if inner:
                parts.append(inner)
        else:
            default = (field.default if field.default_factory is None
                       else field.default_factory())  # type: ignore[call-arg]
            if value != default:
                parts.append(f"{prefix}{name}={value!r}")
    return ", ".join(parts)


def _model_at(root: type[BaseModel], loc: tuple[str, ...]) -> type[BaseModel] | None:
    """The section class found by following ``loc`` from ``root`` (None if not a section)."""
    current: Any = root
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _literal_choices(annotation: Any) -> list[Any]:
    """The values of the ``Literal`` inside ``annotation`` (also inside ``Literal[...] | None``)."""
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    return [v for arg in get_args(annotation) for v in _literal_choices(arg)]


_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
           "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}


def _one_line(err: ValidationError, root: type[BaseModel]) -> str:
    """The first error of ``err`` as rnnkit's one-line message, naming the dotted key.

    Sections validate themselves (their ``__init__`` converts), so an error from a nested
    section arrives here already converted, as a ``value_error`` whose key gets the prefix.
    """
    first = err.errors()[0]
    loc = tuple(str(p) for p in first["loc"])
    key = ".".join(loc) or root.__name__
    kind = first["type"]
    received = first.get("input")
    ctx = first.get("ctx", {})
    section = _model_at(root, loc[:-1])
    if kind == "extra_forbidden":
        allowed = sorted(section.model_fields) if section is not None else []
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        return expected(key, f"one of the keys {allowed}", Described("an unknown key"),
                        f"did you mean {close[0]!r}?" if close else None)
    if kind == "missing":
        return expected(key, "a value (this key is required)", Described("nothing"))
    if kind == "literal_error" and section is not None and loc[-1] in section.model_fields:
        choices = _literal_choices(section.model_fields[loc[-1]].annotation)
        return expected(key, f"one of {choices}", received)
    if kind in _BOUNDS:
        op, name = _BOUNDS[kind]
        return expected(key, f"a number {op} {ctx.get(name)}", received)
    if kind == "value_error":  # from a validator: already "field: expected ..."
        error = ctx.get("error")
        inner = str(error) if error is not None else str(first["msg"])
        inner = inner.removeprefix("Value error, ")
        return f"{key}.{inner}" if loc else inner
    what = str(first["msg"]).removeprefix("Input should be ")
    if isinstance(received, dict):
        received = Described("a table")
    return expected(key, what, received)
