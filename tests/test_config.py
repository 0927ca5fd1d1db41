"""The one config machinery: unknown keys with a suggestion, TOML round trips, overrides."""

import pytest
from pydantic import Field

from rnnkit.config import ConfigFile, Section, merge_dicts
from rnnkit.errors import ConfigError


class Fit(Section):
    epochs: int = Field(3, ge=1)
    optimizer: str = "adam"
    lr: float = 1e-3
    shuffle: bool = True
    sizes: tuple[int, ...] = (1,)
    names: list[str] | None = None


class File(ConfigFile):
    name: str | None = None
    fit: Fit = Field(default_factory=Fit)


def test_unknown_keys_get_the_closest_known_one():
    with pytest.raises(ConfigError, match=r"fit.epoks: expected one of the keys \['epochs', "
                                          r"'lr', 'names', 'optimizer', 'shuffle', "
                                          r"'sizes'\], got an unknown key. did you mean "
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
    assert File.from_toml_string(changed.to_toml()) == changed
    assert cfg.fit.replace(epochs=7).epochs == 7
    with pytest.raises(ConfigError, match="not valid TOML"):
        File.from_toml_string("[fit\n")


def test_merge_dicts_merges_tables_but_replaces_argument_tables():
    base = {"a": {"x": 1, "y": 2}, "dataset_args": {"n": 1, "seed": 0}}
    out = merge_dicts(base, {"a": {"y": 3}, "dataset_args": {"n": 5}})
    assert out == {"a": {"x": 1, "y": 3}, "dataset_args": {"n": 5}}
    assert base["a"] == {"x": 1, "y": 2}


@pytest.mark.parametrize(("toml", "message"), [
    ("epochs = true", "fit.epochs: expected a valid integer, got True"),
    ("epochs = 2.5", "fit.epochs: expected a valid integer, got 2.5"),
    ("epochs = 2.0", "fit.epochs: expected a valid integer, got 2.0"),
    ('epochs = "3"', "fit.epochs: expected a valid integer, got '3'"),
    ('shuffle = "no"', "fit.shuffle: expected a valid boolean, got 'no'"),
    ("shuffle = 0", "fit.shuffle: expected a valid boolean, got 0"),
    ("lr = true", "fit.lr: expected a valid number, got True"),
    ('lr = "0.1"', "fit.lr: expected a valid number, got '0.1'"),
    ("optimizer = 1", "fit.optimizer: expected a valid string, got 1"),
    ("sizes = [true]", "fit.sizes.0: expected a valid integer, got True"),
    ("names = 3", "fit.names: expected a valid list, got 3"),
])
def test_types_are_strict_no_silent_coercion(toml, message):
    with pytest.raises(ConfigError) as err:
        File.from_toml_string(f"[fit]\n{toml}\n")
    assert str(err.value) == message


def test_lossless_conversions_stay_an_int_for_a_float_and_a_list_for_a_tuple():
    cfg = File.from_toml_string("[fit]\nlr = 1\nsizes = [2, 3]\nnames = ['a']\n")
    assert cfg.fit.lr == 1.0 and isinstance(cfg.fit.lr, float)
    assert cfg.fit.sizes == (2, 3) and cfg.fit.names == ["a"]
    assert File.from_dict(cfg.to_dict()) == cfg


def test_numpy_scalars_are_read_as_their_python_values():
    import numpy as np
    fit = Fit(epochs=np.int64(4), lr=np.float32(0.5), shuffle=np.False_)
    assert (fit.epochs, fit.lr, fit.shuffle) == (4, 0.5, False)
    assert type(fit.epochs) is int and type(fit.shuffle) is bool
    with pytest.raises(ConfigError, match=r"^fit.epochs: expected a valid integer, got 4.0$"):
        File.from_dict({"fit": {"epochs": np.float64(4.0)}})


def test_a_toml_file_that_is_not_utf8_is_a_config_error_naming_it(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_bytes(b"[fit]\noptimizer = \"\xff\"\n")
    with pytest.raises(ConfigError) as err:
        File.from_toml(path)
    assert str(err.value) == (
        f"config path: expected a UTF-8 text file (TOML files are UTF-8), got {str(path)!r}, "
        "not UTF-8: byte 0xff at offset 19 (invalid start byte). save the file as UTF-8")
