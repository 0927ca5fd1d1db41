"""What every command shares: --set parsing."""

import pytest

from rnnkit.cli.app import parse_sets, read_toml
from rnnkit.errors import ConfigError


def test_parse_sets():
    assert parse_sets(["training.epochs=5", "forecast.scaling=minmax", "model.x=0.5"]) == {
        "training": {"epochs": 5}, "forecast": {"scaling": "minmax"}, "model": {"x": 0.5}}
    with pytest.raises(ConfigError, match="--set: expected KEY=VALUE"):
        parse_sets(["epochs"])


def test_read_toml_refuses_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "run.toml"
    path.write_bytes('name = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        read_toml(path, "--config")
    assert str(err.value) == (
        f"--config: expected a UTF-8 text file (TOML files are UTF-8), got {str(path)!r}, "
        "not UTF-8: byte 0xe9 at offset 11 (invalid continuation byte). save the file as UTF-8")
    assert path.read_bytes() == 'name = "caf\u00e9"\n'.encode("latin-1")
