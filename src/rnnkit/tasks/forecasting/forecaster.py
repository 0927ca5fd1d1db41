"""The forecasting task: a series in, forecasts in original units out.

:class:`Forecaster` is the :class:`~rnnkit.tasks.base.Task` of forecasting. It ties the pieces
together: windows cut without leakage (:func:`rnnkit.data.split_windows`), a scaler fitted on
the training rows only (or per-window normalization inside the network), a recurrent network
(:mod:`.model`), the shared :class:`~rnnkit.training.Trainer` with early stopping on the
validation part, scoring against baselines on the same windows (:mod:`.evaluation`), and one
bundle directory on disk (:mod:`rnnkit.bundle`).

It takes a :class:`~rnnkit.data.TimeSeries` or a pandas DataFrame (a datetime index and one
column per variable: every column is a target unless ``data.targets`` / ``data.covariates``
say otherwise); a DataFrame goes through :func:`rnnkit.data.load_series` with the ``[data]``
settings, the same code that reads the config's file.

**Known-future covariates.** ``data.future_covariates`` (columns whose future values are
known: holidays, a price schedule) and ``data.calendar`` (calendar features computed from the
time stamps, :mod:`.calendar`) are inputs the model also reads at the forecast steps
(:mod:`.model` says how each strategy does). Fitting and scoring take their values from the
series itself: a window's future covariates are the rows of its targets. A forecast from the
end of a series needs them for the steps after it: ``predict(data, future=frame)``, or the
rows after the history in the same input, their targets empty (what ``rnnkit predict RUN
--input FILE`` reads from one CSV); the calendar's are computed.

Symbols: T rows, L ``look_back``, H ``horizon``, F features (targets, past-only covariates,
future covariates), K targets, N windows, F_u future covariates.

Example::

    >>> import numpy as np, pandas as pd
    >>> frame = pd.DataFrame({"load": np.sin(np.arange(120) / 4), "temp": np.arange(120.0)},
    ...                      index=pd.date_range("2024-01-01", periods=120, freq="h"))
    >>> forecaster = Forecaster({"forecast": {"horizon": 3},
    ...                          "model": {"hidden_size": 8, "num_layers": 1},
    ...                          "training": {"epochs": 2, "device": "cpu", "progress": "off"}})
    >>> forecaster.fit(frame).predict(frame).shape
    (3, 2)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Self, cast

import numpy as np
import pandas as pd
import torch
from torch import nn

from rnnkit._validation import Described, expected
from rnnkit.bundle import Bundle
from rnnkit.data.scalers import Scaler, WindowNormalizer
from rnnkit.data.splitting import PARTS, ChronoSplit, SplitWindows, split_windows
from rnnkit.data.timeseries import TimeSeries
from rnnkit.errors import ConfigError, DataError
from rnnkit.monitoring.profile import Profile, series_profile
from rnnkit.tasks.base import Report, Task, TaskConfig
from rnnkit.tasks.forecasting.calendar import add_calendar, calendar_columns
from rnnkit.tasks.forecasting.config import ForecastConfig, legacy_config
from rnnkit.tasks.forecasting.evaluation import (
    backtest_splits,
    evaluate_windows,
    make_baselines,
    mean_reports,
    results_dict,
    results_table,
    seasonal_period,
)
from rnnkit.tasks.forecasting.model import (
    Seq2SeqForecaster,
    WindowForecaster,
    with_future,
    with_teacher,
)
from rnnkit.tasks.forecasting.preprocessing import Preprocessing
from rnnkit.tasks.forecasting.reading import check_series, known_future, read_series
from rnnkit.tasks.forecasting.windows import (
    forecast_windows,
    future_index,
    future_steps,
    window_frame,
    without_gaps,
)
from rnnkit.training import Callback, ModelCheckpoint, Trainer, seed_everything

__all__ = ["TASK", "ForecastReport", "Forecaster"]

logger = logging.getLogger(__name__)

#: The task name written into bundles.
TASK = "forecasting"
Part = Literal["train", "val", "test", "all"]
SeriesLike = TimeSeries | pd.DataFrame | pd.Series


class ForecastReport(Report):
    """A :class:`~rnnkit.tasks.base.Report` whose table is the forecasting table: the
    model and every baseline, the best RMSE marked, skipped baselines named, and with
    horizon H > 1 the RMSE of each forecast step (:func:`.evaluation.results_table`)."""

    def __rich__(self) -> Any:
        return results_table(self, title=self.summary())


class Forecaster(Task):
    """Fit, forecast, evaluate, backtest, save and load a recurrent forecaster.

    Args:
        config: a :class:`ForecastConfig`, a dict of its sections, or None for the defaults
            (``[data]`` is optional in Python: ``fit`` takes a TimeSeries or a DataFrame).

    Attributes (after :meth:`fit` or :meth:`load`):
        model_: the network (:class:`~.model.WindowForecaster` or
            :class:`~.model.Seq2SeqForecaster`), in eval mode.
        history_: the training :class:`~rnnkit.training.History`.
        fit_seconds_: seconds spent in ``Trainer.fit``.
        split_: the row boundaries of the last fit (None after :meth:`load`).
        preprocessing_: the fitted columns, scaler and window sizes.
    """

    name = TASK
    primary_metric = "rmse"
    higher_is_better = False
    config_class = ForecastConfig
    config: ForecastConfig

    def __init__(self, config: ForecastConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.split_: ChronoSplit | None = None
        self.preprocessing_: Preprocessing | None = None

    @property
    def targets(self) -> tuple[str, ...]:
        """Names of the forecast columns, in order (after fit or load)."""
        return self._prep().targets

    @property
    def covariates(self) -> tuple[str, ...]:
        """Names of the past-only covariate columns the model reads (after fit or load)."""
        return self._prep().covariates

    @property
    def future_covariates(self) -> tuple[str, ...]:
        """Names of the known-future covariate columns, calendar columns included (after
        fit or load)."""
        return self._prep().future_covariates

    @property
    def time_column(self) -> str | None:
        """Name of the time index the model was fitted on (None for an unnamed index)."""
        return self._prep().time_name

    # --------------------------------------------------------------------------- data
    def read_data(self, path: str | os.PathLike[str] | None = None, *,
                  labelled: bool = True) -> TimeSeries:
        """Read a CSV/Parquet file (``path``, else the config's ``data.path`` or packaged
        ``data.dataset``) into a TimeSeries with the ``[data]`` settings.

        A fitted forecaster reads its own columns (targets, covariates, time column) and
        applies the fitted preprocessing (freq, irregular and missing policies, max_gap), so
        a prediction input is read exactly like the training data. ``labelled`` makes no
        difference: a forecast's history is its input. With future covariates, the trailing
        rows whose targets are empty are the known future of the forecast
        (:attr:`~rnnkit.data.TimeSeries.future`, which :meth:`predict` reads); calendar
        columns are added.
        """
        del labelled  # the history is the input and the label alike
        return self._as_series(path, fitted=self.preprocessing_ is not None, source_is_path=True)

    def split(self, data: SeriesLike) -> tuple[TimeSeries, TimeSeries]:
        """``(series, series)``: the forecaster cuts its own parts by the ``[split]`` section
        (train and validation for :meth:`fit`, the test part for ``evaluate(part="test")``),
        because every window reads the rows before it."""
        series = self._as_series(data, fitted=self.preprocessing_ is not None)
        return series, series

    def _as_series(self, data: Any, *, fitted: bool, source_is_path: bool = False
                   ) -> TimeSeries:
        """The series of ``data``, with the calendar columns (fitted: the fitted ones)."""
        series = self._read(data, fitted=fitted, source_is_path=source_is_path)
        calendar = self._prep().calendar if fitted else self.config.data_or_default.calendar
        return add_calendar(series, calendar)

    def _read(self, data: Any, *, fitted: bool, source_is_path: bool) -> TimeSeries:
        if isinstance(data, TimeSeries):
            return data
        readable = (pd.DataFrame, pd.Series, str, os.PathLike) if source_is_path else (
            pd.DataFrame, pd.Series)
        if not (isinstance(data, readable) or (source_is_path and data is None)):
            raise ConfigError(expected("series", "a TimeSeries or a pandas DataFrame (a "
                                       "datetime index, one column per variable)",
                                       Described(type(data).__name__)))
        section = self.config.data_or_default
        if fitted:
            prep = self._prep()
            return read_series(data, section, targets=prep.targets,
                               covariates=prep.covariates,
                               future_covariates=prep.supplied_future,
                               time_name=prep.time_name)
        return read_series(data, section)

    # ------------------------------------------------------------------------ fitting
    def fit(self, data: SeriesLike, *, callbacks: Sequence[Callback] = (),
            run_dir: str | os.PathLike[str] | None = None,
            resume_from: str | os.PathLike[str] | None = None) -> Self:
        """Train on the training part of ``data``, early-stopping on its validation part.

        Args:
            data: a TimeSeries (targets first, then covariates, then future covariates) or a
                DataFrame (read with the ``[data]`` settings: every column a target unless
                they say otherwise). Trailing known-future rows are ignored.
            callbacks: extra trainer callbacks.
            run_dir: when given, resumable checkpoints go to ``run_dir/checkpoints``
                (``last.pt`` every epoch, ``best.pt`` when the validation loss improves; each
                holds the History so far).
            resume_from: a checkpoint of an interrupted fit of the same config and series;
                training continues where it stopped.

        Returns:
            the forecaster itself; the record is :attr:`history_`.
        """
        series = self._as_series(data, fitted=False)
        self._check_series(series, fitted=False)
        split = self.config.split.chrono_split(series.time_index, self.config.forecast.look_back,
                                               self.config.forecast.horizon)
        self._fit_split(series, split, callbacks=callbacks, run_dir=run_dir,
                        resume_from=resume_from)
        return self

    def _fit_split(self, series: TimeSeries, split: ChronoSplit, *,
                   callbacks: Sequence[Callback] = (),
                   run_dir: str | os.PathLike[str] | None = None,
                   resume_from: str | os.PathLike[str] | None = None) -> None:
        cfg = self.config
        L, H = cfg.forecast.look_back, cfg.forecast.horizon
        strategy = cfg.forecast.strategy
        if strategy == "recursive" and series.covariates:
            raise ConfigError(expected(
                "forecast.strategy", "'direct' or 'seq2seq' for a series with covariates",
                "recursive", f"covariates {list(series.covariates)} have no future values to "
                "feed back"))
        train_h = 1 if strategy == "recursive" else H
        scaling = cfg.forecast.scaling
        windows = split_windows(series, L, train_h, split=split,
                                scaler="standard" if scaling == "window" else scaling)
        if series.future_covariates:  # a window's future covariates: its target rows, scaled
            scaled = cast(Scaler, windows.scaler).transform(series.values[: split.stop])
            windows = dataclasses.replace(windows, **{
                part: windows.part(part).with_future(scaled, series.future_idx)
                for part in PARTS})
        windows, dropped = without_gaps(windows, series.gap_mask, L)
        if sum(dropped.values()):
            logger.warning("data.max_gap: dropped %s windows that reach a longer gap",
                           ", ".join(f"{n} {part}" for part, n in dropped.items()))
        if windows.train.n_samples == 0:
            raise DataError(expected("series", "training windows outside the long gaps",
                                     Described("none left"), "raise data.max_gap"))
        scaler = cast(Scaler, windows.scaler)  # every scaling fits one ("none": identity)
        self.preprocessing_ = Preprocessing(
            series.columns, series.targets, series.covariates, scaler, L, H, train_h,
            series.freq, "datetime" if series.is_datetime else "integer",
            None if series.time_index.name is None else str(series.time_index.name),
            seasonal_period(cfg, series), series.future_covariates,
            tuple(cfg.data_or_default.calendar))
        self.split_ = split

        # the initial weights depend on the seed only
        seed = cfg.training.seed
        if seed is not None:
            seed_everything(seed, deterministic=cfg.training.deterministic)
        model = self._build()
        calls: list[Callback] = []
        has_val = windows.val.n_samples > 0
        stopper = cfg.early_stopping.callback() if has_val else None
        if stopper is not None:
            calls.append(stopper)
        elif cfg.early_stopping.enabled:
            logger.info("no validation windows: early stopping is off for this fit")
        if run_dir is not None:
            calls.append(ModelCheckpoint(Path(run_dir) / "checkpoints",
                                         monitor="val_loss" if has_val else "loss"))
        calls += list(callbacks)
        trainer = Trainer(model, cfg.training, callbacks=calls)
        x, y = torch.from_numpy(windows.train.x), torch.from_numpy(windows.train.y)
        prep = self.preprocessing_
        if strategy == "seq2seq":  # (N, L + H, F): teacher values and future covariates
            x = with_teacher(x, y, prep.target_idx, future=_tensor(windows.train.future),
                             future_idx=prep.future_idx)
        elif prep.future_idx:
            x = with_future(x, _tensor(windows.train.future), prep.future_idx)  # (N, L + H, F)
        val = None
        if has_val:
            val = (windows.val.x if not prep.future_idx else with_future(
                torch.from_numpy(windows.val.x), _tensor(windows.val.future), prep.future_idx),
                windows.val.y)
        start = time.perf_counter()
        self.history_ = trainer.fit((x, y), val_data=val, resume_from=resume_from)
        self.fit_seconds_ = time.perf_counter() - start
        self.model_ = model.eval()
        self.profile_ = self._fit_profile(series, split)

    def _fit_profile(self, series: TimeSeries, split: ChronoSplit) -> Profile:
        """The reference profile (:mod:`rnnkit.monitoring.profile`): the training rows'
        distributions and window statistics, the validation forecasts and residuals. Calendar
        columns are left out: they follow the clock, and a short window of live traffic
        covers only part of their cycle without any drift."""
        prep = self._prep()
        val, _ = self._raw_windows(series, split)
        w = val.val
        pred = self._forecast(w.x, prep.horizon, w.future) if w.n_samples else None
        clock = set(calendar_columns(prep.calendar))
        keep = [i for i, c in enumerate(series.columns) if c not in clock]
        return series_profile(self.name, [series.columns[i] for i in keep],
                              series.values[: split.val_start, keep],
                              targets=series.targets, look_back=prep.look_back,
                              val_actual=w.y if w.n_samples else None, val_pred=pred)

    def _build(self) -> nn.Module:
        prep = self._prep()
        cfg = self.config
        spec = cfg.model.encoder()
        normalizer = (WindowNormalizer(cfg.forecast.window_mode)
                      if cfg.forecast.scaling == "window" else None)
        F, K = len(prep.columns), len(prep.targets)
        if cfg.forecast.strategy == "seq2seq":
            return Seq2SeqForecaster(spec, F, prep.look_back, prep.horizon, K,
                                     target_idx=prep.target_idx, future_idx=prep.future_idx,
                                     normalizer=normalizer,
                                     head_dropout=cfg.model.head_dropout,
                                     teacher_forcing=cfg.forecast.teacher_forcing)
        return WindowForecaster(spec, F, prep.train_horizon, K, target_idx=prep.target_idx,
                                future_idx=prep.future_idx, normalizer=normalizer,
                                head_dropout=cfg.model.head_dropout)

    # --------------------------------------------------------------------- forecasting
    def predict(self, data: SeriesLike, *, horizon: int | None = None,
                future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of ``data`` (default: the configured
        horizon) from its last ``look_back`` rows.

        Beyond the trained horizon (and always for the recursive strategy) forecasts are fed
        back as inputs, which needs a series without past-only covariates.

        A model with known-future covariates reads their values at ``max(horizon, H)`` steps
        after the end of ``data`` (H: the trained horizon): from ``future``, a DataFrame
        indexed by those time stamps (or with the time column) holding the
        :attr:`future_covariates` (calendar columns are computed, not needed), looked up by
        time stamp; else from the rows after the history in ``data`` itself, whose targets are
        empty (a file or DataFrame read by :meth:`read_data`: the one-CSV story of
        ``rnnkit predict RUN --input FILE``). A missing row, column or value is a DataError
        naming the time stamps and columns needed.

        Returns:
            a DataFrame of shape (horizon, K) in original units, indexed by the forecast time
            stamps (continuing the series' index at its frequency), one column per target.
        """
        prep = self._prep()
        series = self._as_series(data, fitted=True)
        self._check_series(series, fitted=True)
        steps = prep.horizon if horizon is None else horizon
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(expected("horizon", "an integer >= 1", steps))
        if series.n_steps < prep.look_back:
            raise DataError(expected("series", f"at least look_back = {prep.look_back} rows",
                                     Described(f"{series.n_steps} rows")))
        if series.gap_mask is not None and series.gap_mask[-prep.look_back:].any():
            logger.warning("the last look_back = %d rows reach a gap longer than "
                           "data.max_gap: the forecast reads filled-in values", prep.look_back)
        window = series.values[-prep.look_back:][None]  # (1, L, F)
        known = known_future(prep, series, future, future_steps(prep, steps))
        forecast = self._forecast(window, steps, known)[0]  # (steps, K)
        index = future_index(series, steps, prep.freq)
        return pd.DataFrame(forecast, index=index, columns=list(prep.targets))

    def predict_frame(self, data: SeriesLike) -> pd.DataFrame:
        """The forecast rows of :meth:`predict` (what ``rnnkit predict --output`` writes);
        known-future covariates come from the rows after the history in ``data``."""
        return self.predict(data)

    def _forecast(self, x_raw: np.ndarray, steps: int, future_raw: np.ndarray | None = None
                  ) -> np.ndarray:
        """Forecasts (N, steps, K) in original units for raw windows ``x_raw`` (N, L, F) and
        their known-future covariates ``future_raw`` (N, S, F_u)."""
        prep = self._prep()
        return forecast_windows(self._require_fitted(), prep, x_raw, steps, future_raw)

    def _raw_windows(self, series: TimeSeries, split: ChronoSplit
                     ) -> tuple[SplitWindows, dict[str, int]]:
        """Raw-unit windows of every part, without those that reach a long gap (and how
        many were dropped, by part)."""
        prep = self._prep()
        raw = split_windows(series, prep.look_back, prep.horizon, split=split, scaler=None,
                            dtype=np.float64)
        if prep.future_idx:  # the true future covariates: they are known
            values = series.values[: split.stop]
            raw = dataclasses.replace(raw, **{
                part: raw.part(part).with_future(values, prep.future_idx) for part in PARTS})
        return without_gaps(raw, series.gap_mask, prep.look_back)

    def predict_windows(self, data: SeriesLike, part: Part = "test") -> pd.DataFrame:
        """Forecasts from true history for every window of ``part`` (``"train"``, ``"val"``,
        ``"test"`` or ``"all"``) of the configured split: each window reads the true
        ``look_back`` rows before its origin and forecasts the next ``horizon`` steps.

        Returns:
            one row per window and forecast step, indexed by the forecast's target time, with
            columns ``origin`` (time of the last observed step), ``step`` (1 .. H), ``part``,
            and for each target its actual value and ``<target>_pred``, in original units.
        """
        prep = self._prep()
        series = self._as_series(data, fitted=True)
        self._check_series(series, fitted=True)
        split = self.config.split.chrono_split(series.time_index, prep.look_back, prep.horizon)
        parts = list(PARTS) if part == "all" else [part]
        if any(p not in PARTS for p in parts):
            raise ConfigError(expected("part", f"one of {[*PARTS, 'all']}", part))
        raw, _ = self._raw_windows(series, split)
        frames = []
        for name in parts:
            w = raw.part(name)  # type: ignore[arg-type]
            if w.n_samples == 0:
                continue
            pred = self._forecast(w.x, prep.horizon, w.future)  # (N, H, K)
            frames.append(window_frame(series, w, pred, prep, name))
        if not frames:
            raise DataError(expected("part", "a part with windows", part))
        return pd.concat(frames)

    # ---------------------------------------------------------------------- evaluation
    def evaluate(self, data: SeriesLike, part: Literal["train", "val", "test"] = "test"
                 ) -> ForecastReport:
        """Score forecasts from true history on ``part`` against the baselines.

        Returns:
            a :class:`~rnnkit.tasks.base.Report`: ``model`` and each of ``baselines`` with
            ``mse, rmse, mae, r2, mape, smape, mase`` in original units (MASE scaled by the
            in-sample seasonal-naive error of the training rows), primary ``rmse`` (lower is
            better); ``details``: ``part``, ``n_windows``, ``horizon``, ``seasonal_period``,
            ``skipped`` (baseline -> why), ``per_step`` (forecast -> ``{"rmse": [H],
            "mae": [H]}``) and ``gap_windows_dropped``. As a mapping it still reads
            ``report["model"]["rmse"]``, ``report["baselines"]``, ``report["n_windows"]``.
        """
        prep = self._prep()
        series = self._as_series(data, fitted=True)
        self._check_series(series, fitted=True)
        split = self.config.split.chrono_split(series.time_index, prep.look_back, prep.horizon)
        return self._evaluate_split(series, split, part)

    def _evaluate_split(self, series: TimeSeries, split: ChronoSplit, part: str
                        ) -> ForecastReport:
        prep = self._prep()
        if part not in PARTS:
            raise ConfigError(expected("part", f"one of {list(PARTS)}", part))
        raw, dropped = self._raw_windows(series, split)
        windows = raw.part(part)  # type: ignore[arg-type]
        if windows.n_samples == 0:
            raise DataError(expected("part", "a part with at least one window", part))
        pred = self._forecast(windows.x, prep.horizon, windows.future)
        ev = self.config.evaluation
        window_mode = (self.config.forecast.window_mode
                       if self.config.forecast.scaling == "window" else None)
        baselines, skipped = (make_baselines(
            prep.seasonal_period, prep.look_back, len(prep.targets),
            window=ev.moving_average_window, mlp_epochs=ev.mlp_epochs,
            seed=self.config.training.seed or 0, window_mode=window_mode,
            statistical=ev.statistical_baselines) if ev.baselines else ({}, {}))
        series_train = series.target_values[: split.val_start]
        scores = evaluate_windows(windows.y, pred, train=raw.train, test=windows,
                                  series_train=series_train, m=prep.seasonal_period,
                                  baselines=baselines, series=series.target_values)
        skipped = {**skipped, **scores["skipped"]}
        if dropped[part]:
            logger.warning("data.max_gap: %d %s windows reach a longer gap and are not "
                           "scored", dropped[part], part)
        details = {"part": part, "n_windows": windows.n_samples, "horizon": prep.horizon,
                   "seasonal_period": prep.seasonal_period, "skipped": skipped,
                   "notes": scores["notes"],
                   "per_step": scores["per_step"], "gap_windows_dropped": dropped[part]}
        return ForecastReport(self.name, scores["model"], baselines=scores["baselines"],
                              primary=self.primary_metric,
                              higher_is_better=self.higher_is_better, details=details)

    def backtest(self, data: SeriesLike, folds: int | None = None, *,
                 test_size: int | None = None) -> dict[str, Any]:
        """Rolling-origin evaluation: refit a forecaster of this configuration at each of
        ``folds`` origins (default ``evaluation.backtest_folds``, else 3; expanding training
        window) and score the next ``test_size`` rows (see
        :func:`.evaluation.backtest_splits`).

        Returns:
            ``{"folds": [...], "mean": {"model": ..., "baselines": ...}}``; each fold has
            ``fold``, ``origin`` (the first forecast time), ``train_rows``, ``test_rows``,
            ``fit_seconds`` and the report's layout (``model``, ``baselines``, details).
        """
        series = self._as_series(data, fitted=self.preprocessing_ is not None)
        self._check_series(series, fitted=self.preprocessing_ is not None)
        k = folds if folds is not None else (self.config.evaluation.backtest_folds or 3)
        splits = backtest_splits(self.config, series, k, test_size=test_size)
        results = []
        for i, split in enumerate(splits):
            fold = type(self)(self.config)
            fold._fit_split(series, split)
            scores = results_dict(fold._evaluate_split(series, split, "test"))
            scores.update(fold=i, origin=str(series.time_index[split.test_start]),
                          train_rows=split.val_start, test_rows=split.stop - split.test_start,
                          fit_seconds=fold.fit_seconds_)
            logger.info("backtest fold %d/%d: model rmse %.4g", i + 1, k,
                        scores["model"]["rmse"])
            results.append(scores)
        return {"folds": results, "mean": mean_reports(results)}

    # ---------------------------------------------------------------------- save/load
    def save(self, path: str | os.PathLike[str], *,
             metrics: Mapping[str, Any] | None = None) -> Path:
        """Write one bundle directory (weights, config, fitted preprocessing, the training
        record) atomically; :meth:`load` reads it back without running pickled code."""
        best = self.history_.best("val_loss")["epoch"] if "val_loss" in self.history_ else None
        return super().save(path, metrics={"best_epoch": best, **(metrics or {})})

    def _preprocessing(self) -> dict[str, Any]:
        return self._prep().to_dict()

    def _restore(self, preprocessing: dict[str, Any]) -> None:
        self.preprocessing_ = Preprocessing.from_dict(preprocessing)

    @classmethod
    def _config_from_bundle(cls, bundle: Bundle) -> TaskConfig:
        """Today's bundles keep ``config``; those written before the forecaster was a Task
        kept ``forecast_config`` with early stopping inside ``[training]``."""
        if "forecast_config" in bundle.config:
            return ForecastConfig.from_dict(legacy_config(bundle.config["forecast_config"]))
        return super()._config_from_bundle(bundle)

    @classmethod
    def _from_bundle(cls, bundle: Bundle) -> Self:
        task = super()._from_bundle(bundle)
        if "fit_seconds" not in bundle.metrics and "fit_time_s" in bundle.metrics:
            task.fit_seconds_ = float(bundle.metrics["fit_time_s"])  # an older bundle
        return task

    # ------------------------------------------------------------------------- checks
    def _prep(self) -> Preprocessing:
        """The fitted preprocessing (set by fit and load, before the network is built)."""
        if self.preprocessing_ is None:
            self._require_fitted()  # raises: "call fit(...) or Forecaster.load(path) first"
            raise ConfigError(expected("Forecaster", "fitted preprocessing",
                                       Described("none"), "call fit(...) first"))
        return self.preprocessing_

    def _check_series(self, series: TimeSeries, *, fitted: bool) -> None:
        check_series(series, self.config, self._prep() if fitted else None)


def _tensor(values: np.ndarray | None) -> torch.Tensor | None:
    return None if values is None else torch.from_numpy(values)
