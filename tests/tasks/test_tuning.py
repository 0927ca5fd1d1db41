"""Hyperparameter search for any task: spaces, sampling, pruning."""

import optuna
import pytest

from rnnkit.errors import ConfigError
from rnnkit.tasks.tuning import DEFAULT_SPACES, Param, PruningCallback, parse_space, sample


class _Trial:
    def __init__(self, prune_at):
        self.reported, self.prune_at = [], prune_at

    def report(self, value, step):
        self.reported.append((step, value))

    def should_prune(self):
        return len(self.reported) >= self.prune_at


class _Trainer:
    def __init__(self):
        self.history, self.stop_training = [], False


def test_pruning_callback_reports_and_stops():
    trial, trainer = _Trial(prune_at=2), _Trainer()
    cb = PruningCallback(trial)
    for loss in (0.5, 0.4, 0.3):
        trainer.history.append({"val_loss": loss})
        cb.on_epoch_end(trainer)
        if trainer.stop_training:
            break
    assert trial.reported == [(0, 0.5), (1, 0.4)] and cb.pruned and trainer.stop_training


def test_sampled_updates_change_only_a_copy_of_the_config():
    from rnnkit.tasks.forecasting import ForecastConfig

    cfg = ForecastConfig.from_dict({"model": {"hidden_size": 8}})
    values = {"model.hidden_size": 16, "model.num_layers": 2, "model.dropout": 0.1,
              "model.recurrent_dropout": 0.0, "training.lr": 1e-3, "training.batch_size": 64,
              "forecast.look_back": 20}
    update = sample(parse_space(DEFAULT_SPACES["forecasting"]), optuna.trial.FixedTrial(values))
    new = cfg.with_overrides(update)
    assert (new.model.hidden_size, new.model.num_layers, new.training.batch_size,
            new.forecast.look_back) == (16, 2, 64, 20)
    assert cfg.model.hidden_size == 8  # the original is unchanged


def test_parse_space_kinds_and_errors():
    params = parse_space({"a": [1, 2], "b": {"low": 1, "high": 3},
                          "c": {"low": 1e-4, "high": 1e-2, "log": True}})
    assert params == [Param("a", choices=(1, 2)), Param("b", low=1, high=3),
                      Param("c", low=1e-4, high=1e-2, log=True)]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    drawn = sample(params, trial)
    assert drawn["a"] in (1, 2) and isinstance(drawn["b"], int) and 1 <= drawn["b"] <= 3
    assert 1e-4 <= drawn["c"] <= 1e-2
    with pytest.raises(ConfigError, match=r"space.b: expected numbers low < high, got \[3, 1\]"):
        parse_space({"b": {"low": 3, "high": 1}})
    with pytest.raises(ConfigError, match="space.c.log: expected true or false"):
        parse_space({"c": {"low": 0.0, "high": 1.0, "log": True}})
    with pytest.raises(ConfigError, match="space.d: expected the keys low, high and log"):
        parse_space({"d": {"low": 0, "hi": 1}})
    with pytest.raises(ConfigError, match="space: expected a table"):
        parse_space({})


@pytest.mark.parametrize("task", list(DEFAULT_SPACES))
def test_every_default_space_names_real_keys_of_its_task(task):
    from rnnkit.tasks.registry import task_class

    cls = task_class(task)
    params = parse_space(DEFAULT_SPACES[task])
    values = {p.key: (p.choices[0] if p.choices else p.high) for p in params}
    config = cls().config.with_overrides(sample(params, optuna.trial.FixedTrial(values)))
    for key, value in values.items():
        node = config
        for part in key.split("."):
            node = getattr(node, part)
        assert node == value
