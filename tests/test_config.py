"""The one config machinery: unknown keys with a suggestion, TOML round trips, overrides."""

import pytest
from pydantic import Field

from rnnkit.config import ConfigFile, Section, merge_dicts
from rnnkit.errors import ConfigError


class Fit(Section):
    epochs: int = Field(3, ge=1)
    optimizer: str = "adam"


class File(ConfigFile):
    name: str | None = None
    fit: Fit = Field(default_factory=Fit)


def test_unknown_keys_get_the_closest_known_one():
    with pytest.raises(ConfigError, match=r"fit.epoks: expected one of the keys \['epochs', "
                                          r"'optimizer'\], got an unknown key. did you mean "
                                          r"'epochs'\?"):
        File.from_dict({"fit": {"epoks": 5}})
    with pytest.raises(ConfigError, match=r"fit.epochs: expected a number >= 1, got 0"):
        File.from_dict({"fit": {"epochs": 0}})


def test_toml_round_trip_overrides_and_repr():
    cfg = File.from_toml_string('name = "x"\n[fit]\nepochs = 5\n')
    assert cfg.fit.epochs == 5 and File.from_toml_string(cfg.to_toml()) == cfg
    changed = cfg.with_overrides({"fit": {"optimizer": "sgd"}})
    assert (changed.fit.epochs, changed.fit.optimizer) == (5, "sgd")
    assert repr(changed) == "File(name='x', fit.epochs=5, fit.optimizer='sgd')"
    assert cfg.fit.replace(epochs=7).epochs == 7
    with pytest.raises(ConfigError, match="not valid TOML"):
        File.from_toml_string("[fit\n")


def test_merge_dicts_merges_tables_but_replaces_argument_tables():
    base = {"a": {"x": 1, "y": 2}, "dataset_args": {"n": 1, "seed": 0}}
    out = merge_dicts(base, {"a": {"y": 3}, "dataset_args": {"n": 5}})
    assert out == {"a": {"x": 1, "y": 3}, "dataset_args": {"n": 5}}
    assert base["a"] == {"x": 1, "y": 2}
