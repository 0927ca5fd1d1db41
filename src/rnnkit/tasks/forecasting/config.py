"""The forecasting configuration: one validated, serializable description of an experiment.

A :class:`ForecastConfig` is a :class:`~rnnkit.tasks.base.TaskConfig` (``task = "forecasting"``,
the default, so files written before tasks had names still load) whose sections are small
pydantic models that forbid unknown keys, so a typo in a TOML file is an error naming the key
and the allowed ones::

    [data]            where the series comes from (optional in Python): a packaged dataset or
                      a CSV/Parquet file, and how to read it
    [forecast]        look_back, horizon, strategy, scaling, teacher forcing
    [model]           the recurrent encoder (RecurrentSpec fields) and the head's dropout
    [training]        rnnkit.training.TrainerConfig itself (forecasting defaults: 50 epochs,
                      seed 0)
    [early_stopping]  on the validation loss (forecasting default: patience 10)
    [split]           validation and test parts, by fraction (of rows or of windows) or by date
    [evaluation]      baselines, seasonal period m, backtest folds

Every validation failure becomes one :class:`~rnnkit.errors.ConfigError` line naming the key,
what was expected and what was received, e.g.
``forecast.strategy: expected one of ['direct', 'recursive', 'seq2seq'], got 'direkt'``.

Example::

    >>> cfg = ForecastConfig.from_dict({"data": {"dataset": "battery"},
    ...                                 "forecast": {"look_back": 20}})
    >>> cfg.forecast.look_back, cfg.training.epochs, cfg.early_stopping.patience
    (20, 50, 10)
    >>> ForecastConfig.from_toml_string(cfg.to_toml()) == cfg
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

import pandas as pd
from pydantic import Field, field_validator, model_validator

from rnnkit._validation import Described, expected
from rnnkit.config import Section
from rnnkit.data.splitting import ChronoSplit, split_by_date, split_by_fraction
from rnnkit.datasets.registry import list_datasets
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.base import TaskConfig
from rnnkit.tasks.forecasting.calendar import calendar_columns
from rnnkit.tasks.recurrent_section import RecurrentSection

__all__ = [
    "EARLY_STOPPING_DEFAULTS",
    "STRATEGIES",
    "TRAINING_DEFAULTS",
    "DataSection",
    "EvaluationSection",
    "ForecastConfig",
    "ForecastSection",
    "ModelSection",
    "SplitSection",
    "legacy_config",
]

#: How multi-step forecasts are made (see :mod:`rnnkit.tasks.forecasting.model`).
STRATEGIES = ("direct", "recursive", "seq2seq")
#: Scaling choices; ``"window"`` is per-window reversible instance normalization.
SCALINGS = ("minmax", "standard", "robust", "none", "window")
#: Where the forecasting defaults of ``[training]`` differ from TrainerConfig's: the
#: tutorial's 50 epochs, and seed 0 so two runs of one config give the same numbers.
TRAINING_DEFAULTS: dict[str, Any] = {"epochs": 50, "seed": 0}
#: The forecasting default of ``[early_stopping]``: patience 10 on the validation loss.
EARLY_STOPPING_DEFAULTS: dict[str, Any] = {"patience": 10}
#: Keys that ``[training]`` had before it became TrainerConfig, and where they went.
_MOVED = {"early_stopping": "patience", "patience": "patience", "min_delta": "min_delta",
          "restore_best_weights": "restore_best_weights"}

Number = int | float


# -----------------------------------------------------------------------------------------
# sections
# -----------------------------------------------------------------------------------------
class DataSection(Section):
    """Where the series comes from and how to read it.

    At most one source: ``dataset`` names a packaged dataset (:func:`rnnkit.datasets.
    list_datasets`) and ``dataset_args`` go to its generator (``seed``, ``n_cycles``);
    ``path`` is a CSV or Parquet file (relative paths are resolved against the config file's
    folder). Neither is needed in Python, where ``fit`` also takes a TimeSeries or a pandas
    DataFrame; the other keys then say how to read that frame.

    Attributes:
        time_col: the column of time stamps (None: the frame's index; a file gets steps).
        date_format: a ``strftime`` format for the time stamps (e.g. ``"%d/%m/%Y"``), when
            pandas would guess the format wrong.
        targets: the columns to forecast (None: every column that is not a covariate).
        covariates: extra input columns, past-only: observed up to the forecast origin and
            unknown after it (the model reads them over the look-back window).
        future_covariates: input columns whose future values are known when forecasting
            (holidays, a planned price): the model also reads their values at the forecast
            steps. ``predict`` takes those values from ``future=`` or from the trailing rows
            of the input whose targets are empty (see :meth:`Forecaster.predict`).
        calendar: calendar features added as future covariates from the time stamps
            (:mod:`.calendar`: ``"month"``, ``"day_of_week"``, ``"day_of_month"``,
            ``"day_of_year"``, ``"hour"``, ``"minute"``; each a ``<name>_sin`` /
            ``<name>_cos`` pair); known for any time stamp, so ``predict`` needs no input for
            them. Needs a datetime index; allowed with a packaged dataset.
        missing, irregular, freq: see :func:`rnnkit.data.load_series` (``irregular =
            "delta"`` adds the covariate ``delta_t``; ``"resample"`` needs ``freq``).
        max_gap: the longest stretch between two observations that may be filled in
            (interpolated, resampled), in steps of the series or as a pandas offset
            (``"3D"``); windows that reach into a longer gap are dropped (and counted).
            None: no limit.
    """

    dataset: str | None = None
    dataset_args: dict[str, int | float | str | bool] = Field(default_factory=dict)
    path: str | None = None
    time_col: str | None = None
    date_format: str | None = None
    targets: tuple[str, ...] | None = None
    covariates: tuple[str, ...] = ()
    future_covariates: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()
    missing: Literal["error", "interpolate", "ffill"] = "error"
    irregular: Literal["error", "delta", "resample"] = "error"
    freq: str | int | None = None
    max_gap: int | str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.dataset is not None and self.path is not None:
            raise ValueError(expected("dataset/path", "at most one of them", Described("both"),
                                      "name a packaged dataset or a CSV/Parquet file"))
        if isinstance(self.max_gap, int) and not isinstance(self.max_gap, bool) \
                and self.max_gap < 1:
            raise ValueError(expected("max_gap", "a number of steps >= 1, an offset such as "
                                      "'3D', or None", self.max_gap))
        if self.dataset is not None:
            known = sorted(list_datasets())
            if self.dataset not in known:
                raise ValueError(expected("dataset", f"one of {known}", self.dataset))
            file_keys = [k for k in ("time_col", "date_format", "targets", "freq", "max_gap")
                         if getattr(self, k) is not None]
            file_keys += [k for k in ("covariates", "future_covariates") if getattr(self, k)]
            if file_keys:
                raise ValueError(expected(
                    file_keys[0], "unset with a packaged dataset", getattr(self, file_keys[0]),
                    "these keys describe a file given by 'path'"))
        elif self.dataset_args:
            raise ValueError(expected("dataset_args", "unset without 'dataset'",
                                      self.dataset_args))
        return self

    @model_validator(mode="after")
    def _distinct_columns(self) -> Self:
        """Targets, covariates, future covariates and calendar columns never overlap."""
        try:
            calendar = calendar_columns(self.calendar)
        except ConfigError as err:
            raise ValueError(str(err)) from err
        roles = {"targets": tuple(self.targets or ()), "covariates": self.covariates,
                 "future_covariates": self.future_covariates, "calendar": calendar}
        seen: dict[str, str] = {}
        for role, names in roles.items():
            for name in names:
                if name in seen:
                    raise ValueError(expected(
                        role, f"columns that are not also {seen[name]}", list(names),
                        f"{name!r} is in both; a column has one role"
                        + (" (the calendar adds <name>_sin/_cos columns)"
                           if role == "calendar" else "")))
                seen[name] = role
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


class ModelSection(RecurrentSection):
    """The recurrent encoder (:class:`~rnnkit.tasks.recurrent_section.RecurrentSection`;
    defaults: the tutorial's two LSTM layers of 50 units with dropout 0.2 between them) and
    ``head_dropout``, dropout before the linear output head (the tutorial's second Dropout).

    ``cell`` is ``"lstm"``, ``"gru"``, ``"rnn"`` or, in Python, a
    :class:`~rnnkit.nn.RecurrentCell` subclass of your own (written to TOML as
    ``"module:QualName"`` and read back from that form).
    """

    hidden_size: int = Field(50, ge=1)
    num_layers: int = Field(2, ge=1)
    dropout: float = Field(0.2, ge=0.0, lt=1.0)
    head_dropout: float = Field(0.2, ge=0.0, lt=1.0)

    def encoder(self) -> RecurrentSection:
        """The encoder alone (without ``head_dropout``): it ``build``s the layer and knows its
        ``output_size``."""
        fields = {k: getattr(self, k) for k in RecurrentSection.model_fields}
        return RecurrentSection(**fields)


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
        baselines: also fit and score persistence, seasonal naive (when m > 1; one season
            back in the series when m exceeds the look-back), moving average, linear AR (and,
            with ``scaling = "window"``, the ridge AR on window-normalized inputs) and the MLP
            on the same windows.
        statistical_baselines: with ``baselines``, also ETS and (S)ARIMA (statsmodels), fitted
            once on the training rows and rolled forward over the evaluated windows.
        seasonal_period: m for the seasonal naive baseline and the MASE scale; None takes the
            packaged dataset's m, else one from the series' frequency (12 monthly, 4
            quarterly, 7 daily, 24 hourly, 1 otherwise).
        moving_average_window: None: m when m > 1, else the whole look-back.
        backtest_folds: rolling-origin folds run by ``run_experiment`` (0: none).
        mlp_epochs: full-batch epochs of the MLP baseline.
    """

    baselines: bool = True
    statistical_baselines: bool = True
    seasonal_period: int | None = Field(None, ge=1)
    moving_average_window: int | None = Field(None, ge=1)
    backtest_folds: int = Field(0, ge=0)
    mlp_epochs: int = Field(300, ge=1)


# -----------------------------------------------------------------------------------------
# the whole configuration
# -----------------------------------------------------------------------------------------
class ForecastConfig(TaskConfig):
    """A complete forecasting experiment; see the module docstring for the sections."""

    task: Literal["forecasting"] = "forecasting"
    data: DataSection | None = None
    forecast: ForecastSection = Field(default_factory=ForecastSection)
    model: ModelSection = Field(default_factory=ModelSection)
    section_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "training": TRAINING_DEFAULTS, "early_stopping": EARLY_STOPPING_DEFAULTS}
    split: SplitSection = Field(default_factory=SplitSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    @field_validator("training", mode="before")
    @classmethod
    def _training_defaults(cls, value: Any) -> Any:
        """Keys that moved from ``[training]`` to ``[early_stopping]`` are refused, naming the
        right place."""
        if not isinstance(value, Mapping):
            return value
        for key in value:
            if key in _MOVED:
                raise ValueError(expected(
                    key, "it in the [early_stopping] section", Described("a [training] key"),
                    f"early stopping has its own section since the forecaster is a Task: "
                    f"write [early_stopping] {_MOVED[key]} = ..."
                    + (" (patience = 0 turns it off; leave it out for the default 10)"
                       if key == "early_stopping" else "")))
        return value

    @property
    def data_or_default(self) -> DataSection:
        """The ``[data]`` section, or the defaults when the config has none."""
        return self.data if self.data is not None else DataSection()

def legacy_config(data: Mapping[str, Any]) -> dict[str, Any]:
    """A config dict written before the forecaster was a Task (bundles' ``forecast_config``)
    in today's layout: ``training.early_stopping`` / ``patience`` / ``min_delta`` /
    ``restore_best_weights`` move to ``[early_stopping]`` (``early_stopping = false`` becomes
    ``patience = 0``, off)."""
    out = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in data.items()}
    training = out.get("training", {})
    if not isinstance(training, dict) or not any(k in training for k in _MOVED):
        return out
    section = dict(out.get("early_stopping") or {})
    enabled = training.pop("early_stopping", True)
    for key in ("patience", "min_delta", "restore_best_weights"):
        if key in training:
            section[key] = training.pop(key)
    section.setdefault("patience", EARLY_STOPPING_DEFAULTS["patience"])
    if not enabled:
        section["patience"] = 0
    out["early_stopping"] = section
    return out
