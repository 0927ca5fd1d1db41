"""Hyperparameter search for forecasting with Optuna.

``tune(config, n_trials)`` samples units, layers, learning rate, dropouts, look_back and batch
size, trains each trial with the forecaster's trainer, reports the validation loss after every
epoch so that unpromising trials are pruned (median pruner), and stores the study in SQLite by
default (any Optuna storage URL works, so several workers can share one study: run the same
command on each, with the same ``storage`` and ``study_name``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.training import Callback

__all__ = ["DEFAULT_SPACE", "PruningCallback", "SearchSpace", "tune"]

logger = logging.getLogger("rnnkit.training.tuning")


@dataclass(frozen=True)
class SearchSpace:
    """Ranges searched; each (section, field) of the forecasting config and its distribution."""

    hidden_size: tuple[int, ...] = (16, 32, 50, 64, 128)
    num_layers: tuple[int, int] = (1, 3)
    lr: tuple[float, float] = (1e-4, 3e-2)
    dropout: tuple[float, float] = (0.0, 0.5)
    recurrent_dropout: tuple[float, float] = (0.0, 0.3)
    look_back: tuple[int, ...] = (10, 20, 30, 50)
    batch_size: tuple[int, ...] = (16, 32, 64, 128)

    def sample(self, trial: Any) -> dict[str, dict[str, Any]]:
        """Draw one configuration update ``{section: {field: value}}`` from ``trial``."""
        return {
            "model": {
                "hidden_size": trial.suggest_categorical("hidden_size", list(self.hidden_size)),
                "num_layers": trial.suggest_int("num_layers", *self.num_layers),
                "dropout": trial.suggest_float("dropout", *self.dropout),
                "recurrent_dropout": trial.suggest_float("recurrent_dropout",
                                                         *self.recurrent_dropout),
            },
            "training": {
                "lr": trial.suggest_float("lr", *self.lr, log=True),
                "batch_size": trial.suggest_categorical("batch_size", list(self.batch_size)),
            },
            "forecast": {
                "look_back": trial.suggest_categorical("look_back", list(self.look_back)),
            },
        }


DEFAULT_SPACE = SearchSpace()


class PruningCallback(Callback):
    """Reports ``monitor`` to an Optuna trial after each epoch; stops a trial Optuna prunes."""

    def __init__(self, trial: Any, monitor: str = "val_loss") -> None:
        self.trial = trial
        self.monitor = monitor
        self.pruned = False

    def on_epoch_end(self, trainer: Any, **context: Any) -> None:
        value = trainer.history[-1].get(self.monitor)
        if value is None:
            return
        epoch = len(trainer.history) - 1
        self.trial.report(float(value), epoch)
        if self.trial.should_prune():
            self.pruned = True
            trainer.stop_training = True


def apply_update(config: Any, update: dict[str, dict[str, Any]]) -> Any:
    """Return a copy of a pydantic config with ``{section: {field: value}}`` replaced."""
    changes = {}
    for section, fields in update.items():
        changes[section] = getattr(config, section).model_copy(update=fields)
    return config.model_copy(update=changes)


def tune(
    config: Any,
    n_trials: int,
    *,
    storage: str | None = None,
    study_name: str = "rnnkit",
    space: SearchSpace = DEFAULT_SPACE,
    timeout: float | None = None,
    out_dir: str | Path = "runs",
    on_trial: Callable[[Any], None] | None = None,
) -> Any:
    """Search hyperparameters of a forecasting ``config`` (a :class:`ForecastConfig`).

    Returns the Optuna study; ``study.best_params`` holds the winner. ``storage`` defaults to
    ``sqlite:///OUT_DIR/tune.db``.
    """
    import optuna

    from rnnkit.tasks.forecasting import Forecaster
    from rnnkit.tasks.forecasting.experiment import load_data

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(out / 'tune.db').as_posix()}"
    study = optuna.create_study(
        study_name=study_name, storage=storage, direction="minimize", load_if_exists=True,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=3),
        sampler=optuna.samplers.TPESampler(seed=config.training.seed),
    )
    series = load_data(config).series

    def objective(trial: Any) -> float:
        cfg = apply_update(config, space.sample(trial))
        pruning = PruningCallback(trial)
        history = Forecaster(cfg).fit(series, callbacks=[pruning])
        if pruning.pruned:
            raise optuna.TrialPruned()
        losses = [v for v in history["val_loss"] if v is not None]
        return float(min(losses))

    callbacks = [lambda study, trial: on_trial(trial)] if on_trial else None
    study.optimize(objective, n_trials=n_trials, timeout=timeout, callbacks=callbacks)
    return study
