"""Hyperparameter search for any task with Optuna.

:func:`tune` samples a search space over the task's config keys, trains each trial on the
training part of the config's data, scores it on a validation part (never on the test part),
reports the validation loss after every epoch so that unpromising trials are pruned (median
pruner), and stores the study in SQLite by default. Any Optuna storage URL works, so several
workers can share one study: run the same command on each, with the same ``storage`` and
``study_name``. The best trial's config is written as a TOML file next to the study.

A search space maps dotted config keys to distributions::

    [space]
    "model.hidden_size" = [16, 32, 64]                       # a list: categorical
    "training.lr" = { low = 1e-4, high = 3e-2, log = true }  # a float range
    "model.num_layers" = { low = 1, high = 3 }               # two integers: an integer range

:data:`DEFAULT_SPACES` holds the space searched for each task when none is given; the
objective is the task's primary metric (:attr:`~rnnkit.tasks.base.Report.primary`) on the
validation part: RMSE for forecasting, accuracy for classification and tagging, perplexity for
language models, and the seq2seq task's configured primary metric.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnkit._validation import Described, expected
from rnnkit.config import merge_dicts
from rnnkit.errors import ConfigError
from rnnkit.tasks.base import Task
from rnnkit.tasks.registry import task_class
from rnnkit.training.protocol import Callback

__all__ = ["DEFAULT_SPACES", "Param", "PruningCallback", "TuneResult", "parse_space",
           "sample", "tune"]

logger = logging.getLogger("rnnkit.tasks.tuning")


@dataclass(frozen=True)
class Param:
    """One searched config key: ``choices`` (categorical) or a ``low``..``high`` range (an
    integer range when both bounds are integers), on a log scale with ``log``."""

    key: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False

    def suggest(self, trial: Any) -> Any:
        if self.choices is not None:
            return trial.suggest_categorical(self.key, list(self.choices))
        if isinstance(self.low, int) and isinstance(self.high, int):
            return trial.suggest_int(self.key, self.low, self.high, log=self.log)
        return trial.suggest_float(self.key, float(self.low), float(self.high),  # type: ignore[arg-type]
                                   log=self.log)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_space(table: Mapping[str, Any]) -> list[Param]:
    """A search space from a table ``{"section.key": [choices] | {low, high, log}}``."""
    if not isinstance(table, Mapping) or not table:
        raise ConfigError(expected("space", "a table of dotted config keys and distributions",
                                   Described(type(table).__name__ if table else "an empty one")))
    params = []
    for key, dist in table.items():
        name = f"space.{key!s}"
        if isinstance(dist, (list, tuple)):
            if not dist:
                raise ConfigError(expected(name, "a non-empty list of choices", list(dist)))
            params.append(Param(str(key), choices=tuple(dist)))
            continue
        if not isinstance(dist, Mapping):
            raise ConfigError(expected(name, "a list of choices or {low, high, log}", dist))
        unknown = sorted(set(dist) - {"low", "high", "log"})
        if unknown:
            raise ConfigError(expected(name, "the keys low, high and log", unknown))
        low, high, log = dist.get("low"), dist.get("high"), dist.get("log", False)
        if not (_number(low) and _number(high)) or low >= high:
            raise ConfigError(expected(name, "numbers low < high", [low, high]))
        if not isinstance(log, bool) or (log and low <= 0):
            raise ConfigError(expected(f"{name}.log", "true or false (true needs low > 0)", log))
        params.append(Param(str(key), low=low, high=high, log=log))
    return params


#: The search space of each task when none is given (documented in the README).
DEFAULT_SPACES: dict[str, dict[str, Any]] = {
    "forecasting": {
        "model.hidden_size": [16, 32, 50, 64, 128],
        "model.num_layers": {"low": 1, "high": 3},
        "model.dropout": {"low": 0.0, "high": 0.5},
        "model.recurrent_dropout": {"low": 0.0, "high": 0.3},
        "training.lr": {"low": 1e-4, "high": 3e-2, "log": True},
        "training.batch_size": [16, 32, 64, 128],
        "forecast.look_back": [10, 20, 30, 50],
    },
    "classification": {
        "model.encoder.hidden_size": [32, 64, 128],
        "model.embedding_dim": [32, 64, 100],
        "model.dropout": {"low": 0.0, "high": 0.5},
        "model.pooling": ["last", "mean", "max", "attention"],
        "training.lr": {"low": 3e-4, "high": 1e-2, "log": True},
        "training.batch_size": [16, 32, 64],
    },
    "tagging": {
        "model.encoder.hidden_size": [32, 64, 128],
        "model.embedding_dim": [32, 64, 100],
        "model.dropout": {"low": 0.0, "high": 0.5},
        "training.lr": {"low": 3e-4, "high": 1e-2, "log": True},
        "training.batch_size": [16, 32, 64],
    },
    "language_model": {
        "model.encoder.hidden_size": [64, 128, 256],
        "model.embedding_dim": [32, 64, 128],
        "model.dropout": {"low": 0.0, "high": 0.5},
        "training.lr": {"low": 3e-4, "high": 1e-2, "log": True},
    },
    "seq2seq": {
        "model.encoder.hidden_size": [32, 64, 128],
        "model.decoder.hidden_size": [64, 128, 256],
        "model.dropout": {"low": 0.0, "high": 0.5},
        "training.lr": {"low": 3e-4, "high": 1e-2, "log": True},
    },
}


def sample(params: list[Param], trial: Any) -> dict[str, Any]:
    """One config update (a nested dict) drawn from ``trial``."""
    update: dict[str, Any] = {}
    for p in params:
        node: dict[str, Any] = {}
        leaf = node
        *parents, last = p.key.split(".")
        for part in parents:
            leaf = leaf.setdefault(part, {})
        leaf[last] = p.suggest(trial)
        update = merge_dicts(update, node)
    return update


class PruningCallback(Callback):
    """Reports ``monitor`` (validation loss: lower is better) to an Optuna trial after each
    epoch, and stops a trial that Optuna prunes. ``sign=-1`` reports its negative, for a study
    that maximizes."""

    def __init__(self, trial: Any, monitor: str = "val_loss", sign: float = 1.0) -> None:
        self.trial = trial
        self.monitor = monitor
        self.sign = sign
        self.pruned = False

    def on_epoch_end(self, trainer: Any, **context: Any) -> None:
        value = trainer.history[-1].get(self.monitor)
        if value is None:
            return
        epoch = len(trainer.history) - 1
        self.trial.report(self.sign * float(value), epoch)
        if self.trial.should_prune():
            self.pruned = True
            trainer.stop_training = True


@dataclass
class TuneResult:
    """The study and its winner: ``metric`` (the task's primary metric, on the validation
    part), ``best_value``, ``best_params`` and the ``best_config_path`` TOML file."""

    study: Any
    metric: str
    direction: str
    best_value: float
    best_params: dict[str, Any]
    best_config_path: Path
    trials: int = field(default=0)


def _trial_report(task: Task, fit_data: Any, callbacks: list[Callback]) -> Any:
    """Fit on the training part and score on the validation part (never the test part)."""
    if task.name == "forecasting":
        task.fit(fit_data, callbacks=callbacks)
        return task.evaluate(fit_data, part="val")  # type: ignore[call-arg]
    train, val = task.split(fit_data)  # the config's test fraction, cut from the fit part
    task.fit(train, validation=val, callbacks=callbacks)  # type: ignore[call-arg]
    return task.evaluate(val)


def tune(
    config: Any,
    n_trials: int,
    *,
    task: str | None = None,
    storage: str | None = None,
    study_name: str = "rnnkit",
    space: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    out_dir: str | Path = "runs",
    on_trial: Callable[[Any], None] | None = None,
) -> TuneResult:
    """Search hyperparameters of a task's ``config`` (a TaskConfig, or a dict with ``task``).

    Returns a :class:`TuneResult`; the best config is written to ``OUT_DIR/STUDY-best.toml``.
    ``storage`` defaults to ``sqlite:///OUT_DIR/tune.db``.
    """
    import optuna

    name = task or getattr(config, "task", None) or (
        config.get("task", "forecasting") if isinstance(config, Mapping) else None)
    cls = task_class(str(name))
    if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1:
        raise ConfigError(expected("trials", "an integer >= 1", n_trials))
    probe = cls(config)
    base = probe.config
    params = parse_space(space if space is not None else DEFAULT_SPACES[cls.name])
    # every key must exist: a typo fails here, before any data is read or trial run
    lows = {p.key: p.choices[0] if p.choices is not None else p.low for p in params}
    base.with_overrides(sample(params, optuna.trial.FixedTrial(lows)))
    fit_data, _test = probe.split(probe.read_data())
    metric, higher = probe.objective()  # fixed when the study is created

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(out / 'tune.db').as_posix()}"
    direction = "maximize" if higher else "minimize"
    study = optuna.create_study(
        study_name=study_name, storage=storage, direction=direction, load_if_exists=True,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=3),
        sampler=optuna.samplers.TPESampler(seed=base.training.seed),
    )
    if study.direction.name.lower() != direction:
        raise ConfigError(expected("study", f"a study that {direction}s {metric}",
                                   Described(f"{study_name!r}, which {study.direction.name.lower()}s"),
                                   "name another study"))

    def objective(trial: Any) -> float:
        cfg = base.with_overrides(sample(params, trial))
        pruning = PruningCallback(trial, sign=-1.0 if higher else 1.0)
        report = _trial_report(cls(cfg), fit_data, [pruning])
        if pruning.pruned:
            raise optuna.TrialPruned()
        if report.primary != metric:
            raise ConfigError(expected("report.primary", repr(metric), report.primary))
        return report.score

    callbacks = [lambda study, trial: on_trial(trial)] if on_trial else None
    study.optimize(objective, n_trials=n_trials, timeout=timeout, callbacks=callbacks)
    best = base.with_overrides(sample(params, optuna.trial.FixedTrial(study.best_params)))
    path = out / f"{study_name}-best.toml"
    tmp = path.with_name(f".{path.name}.tmp")
    header = (f"# best of study {study_name!r}: validation {metric} = {study.best_value:.6g} "
              f"({len(study.trials)} trials)\n")
    tmp.write_text(header + best.to_toml(), encoding="utf-8")
    tmp.replace(path)
    return TuneResult(study, metric, direction, float(study.best_value),
                      dict(study.best_params), path, len(study.trials))
