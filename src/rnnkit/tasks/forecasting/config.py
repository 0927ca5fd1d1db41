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
from pathlib import Path
from typing import Literal, Self

import pandas as pd
from pydantic import Field, model_validator

from rnnkit._validation import Described, expected
from rnnkit.config import ConfigFile, Section
from rnnkit.data.splitting import ChronoSplit, split_by_date, split_by_fraction
from rnnkit.datasets.registry import list_datasets
from rnnkit.errors import DataError
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


# -----------------------------------------------------------------------------------------
# sections
# -----------------------------------------------------------------------------------------
class DataSection(Section):
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


class ForecastSection(Section):
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


class ModelSection(Section):
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


class TrainingSection(Section):
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


class SplitSection(Section):
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


class EvaluationSection(Section):
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
class ForecastConfig(ConfigFile):
    """A complete forecasting experiment; see the module docstring for the sections."""

    name: str | None = None
    data: DataSection
    forecast: ForecastSection = Field(default_factory=ForecastSection)
    model: ModelSection = Field(default_factory=ModelSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    split: SplitSection = Field(default_factory=SplitSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    def resolve_paths(self, folder: Path) -> ForecastConfig:
        """A relative ``data.path`` is resolved against ``folder`` (the config file's)."""
        if self.data.path is not None and not Path(self.data.path).is_absolute():
            resolved = str((folder / self.data.path).resolve())
            return self.with_overrides({"data": {"path": resolved}})
        return self
