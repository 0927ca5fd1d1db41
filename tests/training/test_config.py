"""TrainerConfig: validation of every field, error types, JSON round trip and repr."""

from __future__ import annotations

import math
from typing import Any

import pytest

from rnnkit.errors import ConfigError
from rnnkit.training import TrainerConfig

from helpers import cfg


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"epochs": 0}, r"epochs: expected an integer >= 1, got 0"),
    ({"batch_size": 2.5}, r"batch_size: expected an integer >= 1, got 2.5"),
    ({"optimizer": "adagrad"}, r"optimizer: expected one of \['adam', 'adamw', 'rmsprop', 'sgd'\], got 'adagrad'"),
    ({"lr": -1.0}, r"lr: expected a finite number > 0.0, got -1.0"),
    ({"lr": math.nan}, r"lr: expected a finite number"),
    ({"momentum": 0.9}, r"momentum: expected None for optimizer='adam'.*'sgd' and 'rmsprop'"),
    ({"optimizer": "sgd", "momentum": 1.5}, r"momentum: expected a finite number >= 0.0 and < 1.0"),
    ({"clipnorm": 0}, r"clipnorm: expected a finite number > 0.0 or None, got 0"),
    ({"schedule": "linear"}, r"schedule: expected one of \[None, 'plateau', 'cosine', 'step'\], got 'linear'"),
    ({"warmup_epochs": 2}, r"warmup_epochs: expected 0 with schedule=None"),
    ({"schedule": "cosine", "warmup_epochs": 4}, r"warmup_epochs: expected at most epochs=3, got 4"),
    ({"schedule": "plateau", "plateau_factor": 1.0}, r"plateau_factor: expected a finite number > 0.0 and < 1.0"),
    ({"loss": "hinge"}, r"loss: expected one of \['mse', 'mae', 'huber', 'cross_entropy', 'bce'\] or a callable"),
    ({"tbptt_steps": 5, "shuffle": True}, r"shuffle: expected False with tbptt_steps, got True.*shuffle=False"),
    ({"device": "tpu"}, r"device: expected one of \['auto', 'cpu', 'cuda', 'mps'\]"),
    ({"mixed_precision": "fp8"}, r"mixed_precision: expected one of \[None, 'bf16', 'fp16'\], got 'fp8'"),
    ({"seed": -1}, r"seed: expected an integer in \[0, 2\*\*32\) or None, got -1"),
    ({"max_time": 0}, r"max_time: expected a finite number > 0.0 or None, got 0"),
    ({"progress": "loud"}, r"progress: expected one of \['auto', 'bar', 'epochs', 'off'\], got 'loud'"),
    ({"num_threads": 0}, r"num_threads: expected an integer >= 1 or None, got 0"),
    ({"epochs": True}, r"epochs: expected an integer >= 1, got True"),
    ({"epoch": 3}, r"epoch: expected one of the keys \[.*\], got an unknown key.*did you mean 'epochs'\?"),
])
def test_bad_config_values(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        cfg(**kwargs)


def test_config_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="epochs"):
        TrainerConfig(epochs=-3)


def test_config_json_round_trip_and_repr() -> None:
    c = TrainerConfig(epochs=7, optimizer="sgd", momentum=0.5, schedule="cosine", warmup_epochs=2)
    assert TrainerConfig.from_json(c.to_json()) == c
    assert repr(c) == ("TrainerConfig(epochs=7, optimizer='sgd', momentum=0.5, schedule='cosine', "
                       "warmup_epochs=2)")
    with pytest.raises(ConfigError, match=r"TrainerConfig keys: expected a subset of .* got \['epoch'\]"):
        TrainerConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError, match=r"loss: expected a loss name .*Trainer\(loss=...\)"):
        TrainerConfig(loss=lambda p, t: (p - t).mean()).to_dict()
    assert c.replace(epochs=9).epochs == 9
    with pytest.raises(ConfigError):
        c.replace(epochs=0)


def test_config_is_a_frozen_hashable_section_with_one_line_errors() -> None:
    from pydantic import ValidationError

    from rnnkit.config import ConfigFile, Section

    c = TrainerConfig(epochs=5, max_time=30.0, progress="off", num_threads=1)
    assert isinstance(c, Section)
    assert repr(c) == "TrainerConfig(epochs=5, max_time=30.0, progress='off', num_threads=1)"
    assert hash(c) == hash(TrainerConfig.from_dict(c.to_dict())) and {c, c.replace()} == {c}
    with pytest.raises(ValidationError):
        c.epochs = 3  # type: ignore[misc]
    with pytest.raises(ConfigError, match=r"did you mean 'epochs'\?"):
        TrainerConfig.from_dict({"epoks": 3})
    assert TrainerConfig.from_dict({}) == TrainerConfig()  # a config from before the new fields

    class Run(ConfigFile):
        training: TrainerConfig = TrainerConfig()

    run = Run.from_toml_string("[training]\nepochs = 4\nmax_time = 9.5")
    assert (run.training.epochs, run.training.max_time) == (4, 9.5)
    with pytest.raises(ConfigError, match=r"^training\.epochs: expected an integer >= 1, got 0$"):
        Run.from_toml_string("[training]\nepochs = 0")
    with pytest.raises(ConfigError, match=r"^training\.lr: expected a finite number > 0.0"):
        run.with_overrides({"training": {"lr": -1.0}})
