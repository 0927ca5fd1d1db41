"""The forecasting task: a series in, forecasts in original units out.

:class:`Forecaster` ties the pieces together: windows cut without leakage
(:func:`rnnkit.data.split_windows`), a scaler fitted on the training rows only (or per-window
normalization inside the network), a recurrent network (:mod:`.model`), the shared
:class:`~rnnkit.training.Trainer` with early stopping on the validation part, scoring against
baselines on the same windows (:mod:`.evaluation`), and one bundle directory on disk
(:mod:`rnnkit.bundle`).

Symbols: T rows, L ``look_back``, H ``horizon``, F features (targets first), K targets,
N windows.

Example::

    >>> from rnnkit.datasets import load_dataset
    >>> series = load_dataset("battery", n_cycles=200).series
    >>> config = ForecastConfig.from_dict({
    ...     "data": {"dataset": "battery"},
    ...     "model": {"hidden_size": 8, "num_layers": 1},
    ...     "training": {"epochs": 2, "device": "cpu"}})
    >>> forecaster = Forecaster(config)
    >>> history = forecaster.fit(series)
    >>> forecaster.predict(series, horizon=3).shape
    (3, 1)
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import torch
from torch import nn

from rnnkit._validation import Described, expected
from rnnkit.bundle import load_bundle, save_bundle
from rnnkit.data.scalers import Scaler, WindowNormalizer
from rnnkit.data.splitting import PARTS, ChronoSplit, SplitWindows, split_windows
from rnnkit.data.timeseries import TimeSeries
from rnnkit.data.windowing import Windows
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.forecasting import evaluation
from rnnkit.tasks.forecasting.config import ForecastConfig
from rnnkit.tasks.forecasting.model import (
    Seq2SeqForecaster,
    WindowForecaster,
    rollout,
    with_teacher,
)
from rnnkit.training import (
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    Trainer,
    seed_everything,
)

__all__ = ["TASK", "Forecaster"]

logger = logging.getLogger(__name__)

#: The task name written into bundles.
TASK = "forecasting"
Part = Literal["train", "val", "test", "all"]
_PREDICT_BATCH = 4096


@dataclass
class _Preprocessing:
    """Everything fitted besides the weights: written to ``preprocessing.json``."""

    columns: tuple[str, ...]
    targets: tuple[str, ...]
    covariates: tuple[str, ...]
    scaler: Scaler
    look_back: int
    horizon: int
    train_horizon: int
    freq: str | int | None
    time_kind: str  # "datetime" or "integer"
    time_name: str | None
    seasonal_period: int

    @property
    def target_idx(self) -> list[int]:
        return list(range(len(self.targets)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns), "targets": list(self.targets),
            "covariates": list(self.covariates), "target_idx": self.target_idx,
            "scaler": self.scaler.to_dict(), "look_back": self.look_back,
            "horizon": self.horizon, "train_horizon": self.train_horizon, "freq": self.freq,
            "time_index": {"kind": self.time_kind, "name": self.time_name},
            "seasonal_period": self.seasonal_period,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Preprocessing:
        return cls(tuple(data["columns"]), tuple(data["targets"]), tuple(data["covariates"]),
                   Scaler.from_dict(data["scaler"]), int(data["look_back"]),
                   int(data["horizon"]), int(data["train_horizon"]), data["freq"],
                   data["time_index"]["kind"], data["time_index"]["name"],
                   int(data["seasonal_period"]))


class Forecaster:
    """Fit, forecast, evaluate, backtest, save and load a recurrent forecaster.

    Args:
        config: a :class:`ForecastConfig` (or a dict for :meth:`ForecastConfig.from_dict`).

    Attributes (after :meth:`fit` or :meth:`load`):
        model: the network (:class:`~.model.WindowForecaster` or
            :class:`~.model.Seq2SeqForecaster`), in eval mode.
        history: the training :class:`~rnnkit.training.History`.
        fit_time_s: seconds spent in ``Trainer.fit``.
        split: the row boundaries of the last fit.
    """

    def __init__(self, config: ForecastConfig | dict[str, Any]) -> None:
        self.config = ForecastConfig.from_dict(config)
        self.model: nn.Module | None = None
        self.history = History()
        self.fit_time_s = 0.0
        self.split: ChronoSplit | None = None
        self.trainer: Trainer | None = None
        self._prep: _Preprocessing | None = None

    @property
    def targets(self) -> tuple[str, ...]:
        """Names of the forecast columns, in order (after fit or load)."""
        return self._require_fitted().targets

    @property
    def covariates(self) -> tuple[str, ...]:
        """Names of the covariate columns the model reads (after fit or load)."""
        return self._require_fitted().covariates

    @property
    def time_column(self) -> str | None:
        """Name of the time index the model was fitted on (None for an unnamed index)."""
        return self._require_fitted().time_name

    def __repr__(self) -> str:
        state = "fitted" if self.model is not None else "unfitted"
        return f"Forecaster({self.config!r}, {state})"

    # ------------------------------------------------------------------------ fitting
    def fit(self, series: TimeSeries, *, callbacks: Sequence[Callback] = (),
            run_dir: str | os.PathLike[str] | None = None,
            resume_from: str | os.PathLike[str] | None = None) -> History:
        """Train on the training part of ``series``, early-stopping on its validation part.

        Args:
            series: the data (targets first, then covariates).
            callbacks: extra trainer callbacks (e.g. :class:`~rnnkit.training.ProgressBar`).
            run_dir: when given, resumable checkpoints go to ``run_dir/checkpoints``
                (``last.pt`` every epoch, ``best.pt`` when the validation loss improves; each
                holds the History so far).
            resume_from: a checkpoint of an interrupted fit of the same config and series;
                training continues where it stopped.

        Returns:
            the History (also :attr:`history`).
        """
        self._check_series(series, fitted=False)
        split = self.config.split.chrono_split(series.time_index, self.config.forecast.look_back,
                                               self.config.forecast.horizon)
        return self._fit_split(series, split, callbacks=callbacks, run_dir=run_dir,
                               resume_from=resume_from)

    def _fit_split(self, series: TimeSeries, split: ChronoSplit, *,
                   callbacks: Sequence[Callback] = (),
                   run_dir: str | os.PathLike[str] | None = None,
                   resume_from: str | os.PathLike[str] | None = None) -> History:
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
        scaler = cast(Scaler, windows.scaler)  # every scaling fits one ("none": identity)
        self._prep = _Preprocessing(
            series.columns, series.targets, series.covariates, scaler, L, H, train_h,
            series.freq, "datetime" if series.is_datetime else "integer",
            None if series.time_index.name is None else str(series.time_index.name),
            evaluation.seasonal_period(cfg, series))
        self.split = split

        # the initial weights depend on the seed only
        seed_everything(cfg.training.seed, deterministic=cfg.training.deterministic)
        self.model = self._build_model()
        trainer_cfg = cfg.training.trainer_config()
        calls: list[Callback] = []
        has_val = windows.val.n_samples > 0
        if cfg.training.early_stopping and has_val:
            calls.append(EarlyStopping("val_loss", patience=cfg.training.patience,
                                       min_delta=cfg.training.min_delta,
                                       restore_best_weights=cfg.training.restore_best_weights))
        elif cfg.training.early_stopping:
            logger.info("no validation windows: early stopping is off for this fit")
        if run_dir is not None:
            calls.append(ModelCheckpoint(Path(run_dir) / "checkpoints",
                                         monitor="val_loss" if has_val else "loss"))
        calls += list(callbacks)
        self.trainer = Trainer(self.model, trainer_cfg, callbacks=calls)
        x, y = torch.from_numpy(windows.train.x), torch.from_numpy(windows.train.y)
        if strategy == "seq2seq":
            x = with_teacher(x, y, self._prep.target_idx)  # (N, L + H, F)
        val = (windows.val.x, windows.val.y) if has_val else None
        with _threads(cfg.training.num_threads):
            start = time.perf_counter()
            self.history = self.trainer.fit((x, y), val_data=val, resume_from=resume_from)
            self.fit_time_s = time.perf_counter() - start
        self.model.eval()
        return self.history

    def _build_model(self) -> nn.Module:
        prep = self._require_fitted()
        cfg = self.config
        spec = cfg.model.spec()
        normalizer = (WindowNormalizer(cfg.forecast.window_mode)
                      if cfg.forecast.scaling == "window" else None)
        F, K = len(prep.columns), len(prep.targets)
        if cfg.forecast.strategy == "seq2seq":
            return Seq2SeqForecaster(spec, F, prep.look_back, prep.horizon, K,
                                     target_idx=prep.target_idx, normalizer=normalizer,
                                     head_dropout=cfg.model.head_dropout,
                                     teacher_forcing=cfg.forecast.teacher_forcing)
        return WindowForecaster(spec, F, prep.train_horizon, K, target_idx=prep.target_idx,
                                normalizer=normalizer, head_dropout=cfg.model.head_dropout)

    # --------------------------------------------------------------------- forecasting
    def predict(self, series: TimeSeries, *, horizon: int | None = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of ``series`` (default: the configured
        horizon) from its last ``look_back`` rows.

        Beyond the trained horizon (and always for the recursive strategy) forecasts are fed
        back as inputs, which needs a series without covariates.

        Returns:
            a DataFrame of shape (horizon, K) in original units, indexed by the forecast time
            stamps (continuing the series' index at its frequency), one column per target.
        """
        prep = self._require_fitted()
        self._check_series(series, fitted=True)
        steps = prep.horizon if horizon is None else horizon
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(expected("horizon", "an integer >= 1", steps))
        if series.n_steps < prep.look_back:
            raise DataError(expected("series", f"at least look_back = {prep.look_back} rows",
                                     Described(f"{series.n_steps} rows")))
        window = series.values[-prep.look_back:][None]  # (1, L, F)
        forecast = self._forecast(window, steps)[0]  # (steps, K)
        index = _future_index(series, steps, prep.freq)
        return pd.DataFrame(forecast, index=index, columns=list(prep.targets))

    def _forecast(self, x_raw: np.ndarray, steps: int) -> np.ndarray:
        """Forecasts (N, steps, K) in original units for raw windows ``x_raw`` (N, L, F)."""
        prep = self._require_fitted()
        model = self.model
        assert model is not None
        device = next(model.parameters()).device
        dtype = next(model.parameters()).dtype
        outputs = []
        model.eval()
        with torch.no_grad():
            for start in range(0, x_raw.shape[0], _PREDICT_BATCH):
                chunk = prep.scaler.transform(x_raw[start:start + _PREDICT_BATCH])
                x = torch.as_tensor(chunk, dtype=dtype, device=device)  # (B, L, F)
                if steps <= prep.train_horizon:
                    y = model(x)[:, :steps]  # (B, steps, K)
                else:
                    y = rollout(model, x, steps, prep.target_idx)
                outputs.append(y.double().cpu().numpy())
        scaled = np.concatenate(outputs, axis=0)
        return prep.scaler.inverse_transform_targets(scaled, prep.target_idx)

    def _raw_windows(self, series: TimeSeries, split: ChronoSplit) -> SplitWindows:
        prep = self._require_fitted()
        return split_windows(series, prep.look_back, prep.horizon, split=split, scaler=None,
                             dtype=np.float64)

    def predict_windows(self, series: TimeSeries, part: Part = "test") -> pd.DataFrame:
        """Forecasts from true history for every window of ``part`` (``"train"``, ``"val"``,
        ``"test"`` or ``"all"``) of the configured split: each window reads the true
        ``look_back`` rows before its origin and forecasts the next ``horizon`` steps.

        Returns:
            one row per window and forecast step, indexed by the forecast's target time, with
            columns ``origin`` (time of the last observed step), ``step`` (1 .. H), ``part``,
            and for each target its actual value and ``<target>_pred``, in original units.
        """
        prep = self._require_fitted()
        self._check_series(series, fitted=True)
        split = self.config.split.chrono_split(series.time_index, prep.look_back, prep.horizon)
        parts = list(PARTS) if part == "all" else [part]
        if any(p not in PARTS for p in parts):
            raise ConfigError(expected("part", f"one of {[*PARTS, 'all']}", part))
        raw = self._raw_windows(series, split)
        frames = []
        for name in parts:
            w = raw.part(name)
            if w.n_samples == 0:
                continue
            pred = self._forecast(w.x, prep.horizon)  # (N, H, K)
            frames.append(_window_frame(series, w, pred, prep, name))
        if not frames:
            raise DataError(expected("part", "a part with windows", part))
        return pd.concat(frames)

    # ---------------------------------------------------------------------- evaluation
    def evaluate(self, series: TimeSeries, part: Literal["train", "val", "test"] = "test"
                 ) -> dict[str, Any]:
        """Score forecasts from true history on ``part`` against the baselines.

        Returns:
            ``{"part", "n_windows", "horizon", "seasonal_period", "model": {metric: value},
            "baselines": {name: {metric: value}}, "skipped": {name: reason}}``, metrics
            ``mse, rmse, mae, r2, mape, smape, mase`` in original units (MASE scaled by the
            in-sample seasonal-naive error of the training rows).
        """
        prep = self._require_fitted()
        self._check_series(series, fitted=True)
        split = self.config.split.chrono_split(series.time_index, prep.look_back, prep.horizon)
        return self._evaluate_split(series, split, part)

    def _evaluate_split(self, series: TimeSeries, split: ChronoSplit, part: str
                        ) -> dict[str, Any]:
        prep = self._require_fitted()
        if part not in PARTS:
            raise ConfigError(expected("part", f"one of {list(PARTS)}", part))
        raw = self._raw_windows(series, split)
        windows = raw.part(part)  # type: ignore[arg-type]
        if windows.n_samples == 0:
            raise DataError(expected("part", "a part with at least one window", part))
        pred = self._forecast(windows.x, prep.horizon)
        ev = self.config.evaluation
        baselines, skipped = (evaluation.make_baselines(
            prep.seasonal_period, prep.look_back, len(prep.targets),
            window=ev.moving_average_window, mlp_epochs=ev.mlp_epochs,
            seed=self.config.training.seed) if ev.baselines else ({}, {}))
        series_train = series.target_values[: split.val_start]
        out: dict[str, Any] = {"part": part, "n_windows": windows.n_samples,
                               "horizon": prep.horizon, "seasonal_period": prep.seasonal_period}
        out.update(evaluation.evaluate_windows(
            windows.y, pred, train=raw.train, test=windows, series_train=series_train,
            m=prep.seasonal_period, baselines=baselines))
        out["skipped"] = skipped
        return out

    def backtest(self, series: TimeSeries, folds: int | None = None) -> dict[str, Any]:
        """Rolling-origin backtest with ``folds`` refits (default
        ``evaluation.backtest_folds``, else 3); see :func:`.evaluation.backtest`."""
        self._check_series(series, fitted=self._prep is not None)
        k = folds if folds is not None else (self.config.evaluation.backtest_folds or 3)
        return evaluation.backtest(self, series, k)

    # ---------------------------------------------------------------------- save/load
    def save(self, path: str | os.PathLike[str], *, metrics: dict[str, Any] | None = None
             ) -> Path:
        """Write one bundle directory (weights, config, fitted preprocessing, training
        metrics) atomically; :meth:`load` reads it back without running pickled code."""
        prep = self._require_fitted()
        assert self.model is not None
        best = None
        if "val_loss" in self.history:
            best = self.history.best("val_loss")["epoch"]
        saved_metrics = {"history": self.history.to_list(), "fit_time_s": self.fit_time_s,
                         "epochs_run": len(self.history), "best_epoch": best,
                         **(metrics or {})}
        return save_bundle(path, task=TASK, model=self.model,
                           config={"forecast_config": self.config.to_dict()},
                           preprocessing=prep.to_dict(), metrics=saved_metrics)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Forecaster:
        """Rebuild a forecaster saved by :meth:`save`; it predicts exactly what it did."""
        bundle = load_bundle(path, task=TASK)
        forecaster = cls(ForecastConfig.from_dict(bundle.config["forecast_config"]))
        forecaster._prep = _Preprocessing.from_dict(bundle.preprocessing)
        model = forecaster._build_model()
        model.load_state_dict(bundle.state_dict, strict=True)
        forecaster.model = model.eval()
        forecaster.history = History(bundle.metrics.get("history", []))
        forecaster.fit_time_s = float(bundle.metrics.get("fit_time_s", 0.0))
        return forecaster

    # ------------------------------------------------------------------------- checks
    def _require_fitted(self) -> _Preprocessing:
        if self._prep is None:
            raise ConfigError(expected("Forecaster", "a fitted forecaster",
                                       Described("an unfitted one"),
                                       "call fit(series) or Forecaster.load(path) first"))
        return self._prep

    def _check_series(self, series: Any, *, fitted: bool) -> None:
        if not isinstance(series, TimeSeries):
            raise ConfigError(expected("series", "a TimeSeries (see rnnkit.data.load_series)",
                                       Described(type(series).__name__)))
        if fitted:
            prep = self._require_fitted()
            if series.columns != prep.columns:
                raise DataError(expected("series columns", f"{list(prep.columns)} (as in fit)",
                                         list(series.columns)))
            return
        data = self.config.data
        if data.targets is not None and series.targets != tuple(data.targets):
            raise DataError(expected("series targets", f"{list(data.targets)} (data.targets)",
                                     list(series.targets)))
        if data.path is not None and series.covariates != tuple(data.covariates):
            raise DataError(expected("series covariates",
                                     f"{list(data.covariates)} (data.covariates)",
                                     list(series.covariates)))
        need = self.config.forecast.look_back + self.config.forecast.horizon
        if series.n_steps < need:
            raise DataError(expected(
                "series", f"at least look_back + horizon = {need} rows",
                Described(f"{series.n_steps} rows"), "shorten look_back or horizon"))


# ------------------------------------------------------------------------------ helpers
@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch intra-op threads (None: unchanged), restoring the setting."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _future_index(series: TimeSeries, steps: int, fitted_freq: str | int | None) -> pd.Index:
    """The ``steps`` time stamps after the end of ``series``."""
    index = series.time_index
    freq = series.freq if series.freq is not None else fitted_freq
    if isinstance(index, pd.DatetimeIndex):
        if not isinstance(freq, str):
            raise DataError(expected("series", "a regular frequency to date the forecasts",
                                     Described("an irregular or unknown one"),
                                     "load it with freq=... or irregular='resample'"))
        return pd.date_range(index[-1], periods=steps + 1, freq=freq, name=index.name)[1:]
    step = freq if isinstance(freq, int) else int(index[-1] - index[-2]) if len(index) > 1 else 1
    return pd.Index(int(index[-1]) + step * np.arange(1, steps + 1), name=index.name)


def _window_frame(series: TimeSeries, windows: Windows, pred: np.ndarray,
                  prep: _Preprocessing, part: str) -> pd.DataFrame:
    """Long rows (window x step) of actual and forecast values, indexed by target time."""
    N, H, K = pred.shape
    rows = windows.target_rows().reshape(-1)  # (N*H,) row of each target step
    times = series.time_index[rows]
    frame = pd.DataFrame({
        "origin": np.repeat(np.asarray(series.time_index[windows.target_start - 1]), H),
        "step": np.tile(np.arange(1, H + 1), N),
        "part": part,
    }, index=times)
    for k, name in enumerate(prep.targets):
        frame[name] = windows.y[:, :, k].reshape(-1)
        frame[f"{name}_pred"] = pred[:, :, k].reshape(-1)
    return frame
