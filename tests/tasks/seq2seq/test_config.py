"""rnnkit.tasks.seq2seq.config: unknown keys with a suggestion, the task's training
defaults, round trips through dicts and TOML, the sections' consistency checks and the
primary metric."""

import pytest

from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq import Seq2Seq, Seq2SeqConfig


def test_unknown_keys_get_a_suggestion():
    with pytest.raises(ConfigError, match=r"decoding.beam_widht: expected one of the keys "
                                          r".*did you mean 'beam_width'\?"):
        Seq2Seq({"decoding": {"beam_widht": 3}})
    with pytest.raises(ConfigError, match=r"model.encoder.hiden_size: .*did you mean "
                                          r"'hidden_size'\?"):
        Seq2SeqConfig.from_dict({"model": {"encoder": {"hiden_size": 3}}})


def test_training_table_keeps_the_task_defaults():
    cfg = Seq2SeqConfig.from_dict({"training": {"epochs": 3}})
    assert (cfg.training.epochs, cfg.training.lr, cfg.training.batch_size,
            cfg.training.clipnorm, cfg.training.seed) == (3, 2e-3, 64, 1.0, 0)


def test_toml_round_trip(tiny_config):
    cfg = tiny_config("general+feeding", teacher_forcing_final=0.5, max_tgt_vocab=50,
                      decoding={"beam_width": 4, "length_penalty": 1.0},
                      data={"units": "word", "lower": True, "validation": 0.1})
    assert Seq2SeqConfig.from_toml_string(cfg.to_toml()) == cfg
    assert Seq2SeqConfig.from_dict(cfg.to_dict()) == cfg


def test_input_feeding_needs_luong_attention(tiny_config):
    with pytest.raises(ConfigError, match="input_feeding: expected False with "
                                          "attention='bahdanau', got True"):
        tiny_config("bahdanau", input_feeding=True)



def test_the_stacks_defaults():
    model = Seq2SeqConfig().model
    assert (model.encoder.cell, model.encoder.hidden_size, model.encoder.bidirectional) == (
        "lstm", 128, True)
    assert (model.decoder.hidden_size, model.decoder.bidirectional) == (256, False)
    assert model.encoder.output_size == model.decoder.hidden_size == 256  # dot attention fits


def test_data_columns_and_units_must_agree():
    with pytest.raises(ConfigError, match="source_column/target_column: expected both or "
                                          "neither, got only one"):
        Seq2SeqConfig.from_dict({"data": {"target_column": "ipa"}})
    with pytest.raises(ConfigError, match="target_units: expected the same units as 'units' "
                                          "with bpe, got 'char'"):
        Seq2SeqConfig.from_dict({"data": {"units": "bpe", "target_units": "char"}})
    data = Seq2SeqConfig.from_dict({"data": {"units": "char", "target_units": "word"}}).data
    assert data.output_units == "word"
    assert Seq2SeqConfig().data.output_units == "char"


@pytest.mark.parametrize("units,primary", [("char", "token_error_rate"), ("word", "bleu"),
                                           ("bpe", "bleu")])
def test_the_primary_metric_follows_the_output_units(units, primary):
    assert Seq2SeqConfig.from_dict({"data": {"units": units}}).primary == primary
    chosen = Seq2SeqConfig.from_dict({"data": {"units": units},
                                      "evaluation": {"primary": "exact_match"}})
    assert chosen.primary == "exact_match"
