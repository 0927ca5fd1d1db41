"""What every command shares: --set parsing."""

import pytest

from rnnkit.cli.app import parse_sets
from rnnkit.errors import ConfigError


def test_parse_sets():
    assert parse_sets(["training.epochs=5", "forecast.scaling=minmax", "model.x=0.5"]) == {
        "training": {"epochs": 5}, "forecast": {"scaling": "minmax"}, "model": {"x": 0.5}}
    with pytest.raises(ConfigError, match="--set: expected KEY=VALUE"):
        parse_sets(["epochs"])
