"""rnnkit.tasks.language_model.config: round trips through dicts and TOML, the language
model's training defaults, the errors, and the reading of configs saved before the Task
API."""

import pytest

from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.language_model import LanguageModel, LanguageModelConfig
from rnnkit.tasks.language_model.config import LM_TRAINING, legacy_config

from lm_builders import TINY, tiny


def test_config_round_trip_and_errors():
    cfg = tiny()
    assert LanguageModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="level: expected one of"):
        tiny(model={"level": "byte"})
    with pytest.raises(ConfigError, match="model.encoder.bidirectional: expected False"):
        tiny(model={"encoder": {"bidirectional": True}})
    with pytest.raises(ConfigError, match="model.encoder.cell: expected one of"):
        tiny(model={"encoder": {"cell": "rnn"}})
    with pytest.raises(ConfigError, match="model.encoder.hiden_size: expected one of the keys"):
        LanguageModelConfig.from_dict({"model": {"encoder": {"hiden_size": 3}}})
    with pytest.raises(ConfigError, match="LanguageModel: expected a fitted"):
        LanguageModel(tiny()).generate("the", 5)
    with pytest.raises(DataError, match=r"text: expected at least 20 tokens \(2 \* tbptt_steps\)"):
        LanguageModel(tiny()).fit("short")


def test_training_table_keeps_the_language_model_defaults():
    cfg = LanguageModelConfig.from_dict({"training": {"lr": 1e-3}})
    assert cfg.training.lr == 1e-3
    assert (cfg.training.tbptt_steps, cfg.training.loss, cfg.training.shuffle) == (
        100, "cross_entropy", False)
    with pytest.raises(ConfigError, match=r"training.epoks: .*did you mean 'epochs'\?"):
        LanguageModelConfig.from_dict({"training": {"epoks": 3}})
    with pytest.raises(ConfigError, match=r"generation.temprature: .*did you mean 'temperature'"):
        LanguageModelConfig.from_dict({"generation": {"temprature": 0.5}})
    with pytest.raises(ConfigError, match="training.loss: expected 'cross_entropy'"):
        LanguageModelConfig.from_dict({"training": {"loss": "mse"}})


def test_toml_round_trip():
    cfg = tiny(data={"validation": 0.1}, generation={"top_p": 0.9, "temperature": 0.8},
               training={"max_time": 30.0})
    assert LanguageModelConfig.from_toml_string(cfg.to_toml()) == cfg
    assert LanguageModelConfig.from_toml_string(LanguageModelConfig().to_toml()) == \
        LanguageModelConfig()



def test_the_defaults_are_the_language_models():
    cfg = LanguageModelConfig()
    assert cfg.task == "language_model"
    assert {k: getattr(cfg.training, k) for k in LM_TRAINING} == LM_TRAINING
    assert (cfg.model.encoder.cell, cfg.model.encoder.hidden_size) == ("lstm", 256)
    assert not cfg.model.encoder.bidirectional
    assert LanguageModelConfig.from_dict(TINY).model.encoder.hidden_size == 16
    with pytest.raises(ConfigError, match="training.tbptt_steps: expected the segment length"):
        LanguageModelConfig.from_dict({"training": {"tbptt_steps": None}})


def test_legacy_config_turns_rounds_into_epochs():
    old = {"level": "word", "embedding_dim": 8, "epochs": 1.5, "rounds_per_epoch": 4,
           "seq_len": 20, "lr_decay": "cosine", "min_lr": 1e-5, "time_budget_s": 9.0,
           "rnn": {"cell": "gru", "hidden_size": 12, "not_a_field": 1}}
    new = legacy_config(old)
    assert new["model"] == {"level": "word", "embedding_dim": 8,
                            "encoder": {"cell": "gru", "hidden_size": 12}}
    assert new["data"] == {"epochs_per_pass": 4, "val_tokens": 50_000}
    t = new["training"]
    assert (t["epochs"], t["tbptt_steps"], t["schedule"], t["min_lr"], t["max_time"]) == (
        6, 20, "cosine", 1e-5, 9.0)
    cfg = LanguageModelConfig.from_dict(new)
    assert cfg.training.epochs == 6 and cfg.model.encoder.cell == "gru"
    plain = legacy_config({})
    assert plain["training"]["epochs"] == 10 and plain["training"]["schedule"] is None
    assert "min_lr" not in plain["training"]
