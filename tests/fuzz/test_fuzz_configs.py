"""Fuzz the configs: dicts with unknown keys or values of the wrong type, given to
``TrainerConfig.from_dict`` and each task's ``config_class.from_dict``, are a clean
ConfigError naming the key."""

from __future__ import annotations

import math

from fuzz_helpers import expect_clean, twin
from hypothesis import strategies as st

from rnnkit.tasks.registry import TASK_NAMES, task_class
from rnnkit.training.config import TrainerConfig

WRONG = st.one_of(st.text(max_size=6), st.lists(st.integers(), max_size=2),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                  st.sampled_from([math.nan, -math.inf, -1, -0.5, object()]))
#: fields whose every string / list / dict / negative / NaN value is wrong
TRAINER_NUMBERS = ["epochs", "batch_size", "lr", "weight_decay", "warmup_epochs", "min_lr",
                   "step_size", "plateau_patience", "huber_delta"]


def _wrong_for(field: str, draw):
    value = draw(WRONG)
    if field == "lr" and isinstance(value, str):  # "" or "abc", never a number-like string
        value = value + "x"
    if isinstance(value, str) and field in TRAINER_NUMBERS:
        value = "x" + value
    return value


@st.composite
def trainer_dicts(draw):
    kind = draw(st.sampled_from(["unknown key", "wrong value", "not a dict"]))
    if kind == "not a dict":
        return draw(st.one_of(st.lists(st.integers(), max_size=2), st.text(max_size=4),
                              st.integers(), st.none()))
    data = {}
    if kind == "unknown key":
        key = draw(st.text(min_size=1, max_size=12).filter(
            lambda k: k not in TrainerConfig.model_fields))
        data[key] = draw(st.integers())
    else:
        field = draw(st.sampled_from([*TRAINER_NUMBERS, "optimizer", "schedule", "shuffle",
                                      "device", "progress", "mixed_precision"]))
        value = _wrong_for(field, draw)
        if field in ("optimizer", "schedule", "device", "progress", "mixed_precision"):
            value = draw(st.one_of(st.just("nonsense"), st.integers(), st.lists(st.text(),
                                                                                  max_size=1)))
        if field == "shuffle":
            value = draw(st.sampled_from(["maybe", 2, [True], {"a": 1}, 0.5]))
        data[field] = value
    return data


def check_trainer(data):
    expect_clean("configs: TrainerConfig", lambda: TrainerConfig.from_dict(data), data)


test_trainer_config, test_trainer_config_deep = twin(trainer_dicts(), check_trainer)


@st.composite
def task_dicts(draw):
    name = draw(st.sampled_from(TASK_NAMES))
    cls = task_class(name).config_class
    kind = draw(st.sampled_from(["unknown key", "unknown section key", "section not a table",
                                 "training value", "not a dict", "task"]))
    data: dict = {"task": name}
    sections = [f for f in cls.model_fields if f not in ("task", "name")]
    if kind == "unknown key":
        data[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in cls.model_fields))] = 1
    elif kind == "unknown section key":
        section = draw(st.sampled_from(sections))
        data[section] = {"zz_" + draw(st.text(max_size=6)): 1}
    elif kind == "section not a table":
        section = draw(st.sampled_from(sections))
        data[section] = draw(st.one_of(st.integers(), st.lists(st.integers(), max_size=2),
                                       st.just("text")))
    elif kind == "training value":
        field = draw(st.sampled_from(TRAINER_NUMBERS))
        data["training"] = {field: _wrong_for(field, draw)}
    elif kind == "task":
        data["task"] = draw(st.one_of(st.integers(), st.text(max_size=8).filter(
            lambda t: t != name)))
    else:
        data = draw(st.one_of(st.lists(st.integers(), max_size=2), st.text(max_size=4),
                              st.integers(), st.none()))
    return name, data


def check_task(case):
    name, data = case
    cls = task_class(name).config_class
    expect_clean(f"configs: {name}", lambda: cls.from_dict(data), case)


test_task_configs, test_task_configs_deep = twin(task_dicts(), check_task)


def test_unknown_key_with_a_newline_stays_on_one_line():
    """Found by the fuzz suite (issue 9): an unknown key with a newline or a control character
    is shown with repr(), so the message stays one line."""
    cls = task_class("classification").config_class
    expect_clean("configs: regression", lambda: cls.from_dict(
        {"task": "classification", "evaluation": {"bad\nkey": 1}}), "bad\\nkey")
