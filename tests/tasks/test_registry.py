"""Tasks by name: the registry the command line, the server and rnnkit.tasks.load use."""

import pytest

from rnnkit.bundle import BundleError
from rnnkit.errors import ConfigError
from rnnkit.tasks.registry import TASK_NAMES, load, task_class, task_from_toml


def test_every_task_name_gives_a_task_class_of_that_name():
    assert TASK_NAMES == ("forecasting", "classification", "tagging", "language_model", "seq2seq")
    for name in TASK_NAMES:
        cls = task_class(name)
        assert cls.name == name


def test_unknown_task_names_the_choices_and_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match="task: expected one of .*got 'clasification'. "
                                          "did you mean 'classification'"):
        task_class("clasification")
    bad = tmp_path / "bad.toml"
    bad.write_text("task = 3\n")
    with pytest.raises(ConfigError, match="task: expected one of"):
        task_from_toml(bad)
    with pytest.raises(ConfigError, match="config path: expected an existing TOML file"):
        task_from_toml(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("task = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        task_from_toml(broken)


def test_load_refuses_what_is_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="an rnnkit bundle directory"):
        load(tmp_path)


def test_every_task_declares_the_primary_metric_its_reports_use():
    expected = {"forecasting": ("rmse", False), "classification": ("accuracy", True),
                "tagging": ("token_accuracy", True), "language_model": ("perplexity", False),
                "seq2seq": ("token_error_rate", False)}  # seq2seq: characters by default
    for name, objective in expected.items():
        assert task_class(name)().objective() == objective, name
    seq2seq = task_class("seq2seq")({"data": {"units": "word"}})
    assert seq2seq.objective() == ("bleu", True)


def test_the_registry_knows_every_older_bundle_name_a_task_accepts():
    from rnnkit.tasks.registry import _LEGACY

    legacy = {old: name for name in TASK_NAMES for old in task_class(name).legacy_names}
    assert legacy == _LEGACY
