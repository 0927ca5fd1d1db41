"""The forecasting task: a time series in, forecasts in original units out.

* :class:`ForecastConfig` (:mod:`.config`): the validated TOML/dict description of an
  experiment (data, forecast, model, training, early_stopping, split, evaluation).
* :class:`Forecaster` (:mod:`.forecaster`): the :class:`~rnnkit.tasks.base.Task` of
  forecasting: ``fit`` / ``predict`` / ``predict_windows`` / ``evaluate`` / ``backtest`` /
  ``save`` / ``load``; it takes a :class:`~rnnkit.data.TimeSeries` or a pandas DataFrame.
* The networks (:mod:`.model`): :class:`WindowForecaster` (direct and recursive strategies)
  and :class:`Seq2SeqForecaster`, with optional per-window normalization.
* Scoring against baselines on the same windows (:mod:`.evaluation`).
* Known-future covariates: ``data.future_covariates`` and calendar features
  (:mod:`.calendar`: :func:`calendar_features`, :func:`add_calendar`), read by every strategy.
* The forecaster's pieces: its fitted :class:`~.preprocessing.Preprocessing`, reading
  and checking a series (:mod:`.reading`), windows and forecasts (:mod:`.windows`).
* :func:`run_experiment` (:mod:`.experiment`): a config in, a complete run directory out.

The modules import each other directly (config <- evaluation <- forecaster <- experiment),
never through this package, so there is no import cycle.

Example::

    >>> from rnnkit.tasks.forecasting import ForecastConfig, run_experiment
    >>> config = ForecastConfig.from_toml("examples/battery.toml")  # doctest: +SKIP
    >>> result = run_experiment(config, "runs/battery")  # doctest: +SKIP
    >>> result.metrics["evaluation"]["model"]["rmse"]  # doctest: +SKIP
"""

from __future__ import annotations

from rnnkit.tasks.forecasting.calendar import (
    CALENDAR_FEATURES,
    add_calendar,
    calendar_columns,
    calendar_features,
)
from rnnkit.tasks.forecasting.config import (
    STRATEGIES,
    DataSection,
    EvaluationSection,
    ForecastConfig,
    ForecastSection,
    ModelSection,
    SplitSection,
)
from rnnkit.tasks.forecasting.evaluation import backtest, results_table
from rnnkit.tasks.forecasting.experiment import LoadedData, RunResult, load_data, run_experiment
from rnnkit.tasks.forecasting.forecaster import TASK, Forecaster
from rnnkit.tasks.forecasting.model import (
    Seq2SeqForecaster,
    WindowForecaster,
    rollout,
    with_future,
    with_teacher,
)

__all__ = [
    "CALENDAR_FEATURES",
    "STRATEGIES",
    "TASK",
    "DataSection",
    "EvaluationSection",
    "ForecastConfig",
    "ForecastSection",
    "Forecaster",
    "LoadedData",
    "ModelSection",
    "RunResult",
    "Seq2SeqForecaster",
    "SplitSection",
    "WindowForecaster",
    "add_calendar",
    "backtest",
    "calendar_columns",
    "calendar_features",
    "load_data",
    "results_table",
    "rollout",
    "run_experiment",
    "with_future",
    "with_teacher",
]
