"""The shipped example configs: each one is valid and names data files that ship with it."""

import pytest

from rnnkit.errors import ConfigError
from rnnkit.examples import FOLDER, example_path, examples
from rnnkit.tasks.registry import task_from_toml

TASK_EXAMPLES = [name for name, ex in examples().items() if ex.command.startswith("rnnkit train")]


def test_every_example_says_how_to_run_it():
    found = examples()
    assert {"forecasting", "classification", "tagging", "language_model", "seq2seq"} <= set(found)
    assert found["basicmotions"].command == "rnnkit lab vowels --config basicmotions.toml"
    assert found["co2"].command == "rnnkit train co2.toml"
    assert found["classification"].data_files == (FOLDER / "data" / "vader_sample.csv",)
    assert all(ex.description for ex in found.values())
    with pytest.raises(ConfigError, match="example: expected one of"):
        example_path("nope")


@pytest.mark.parametrize("name", TASK_EXAMPLES)
def test_every_task_example_is_a_valid_config_whose_files_exist(name):
    from pathlib import Path

    task = task_from_toml(example_path(name))
    path = getattr(task.config.data, "path", None)
    if path is not None:
        assert Path(path).is_file(), f"{name}: {path} does not ship with the package"
