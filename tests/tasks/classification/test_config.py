"""rnnkit.tasks.classification.config: round trips through JSON and TOML, the task's
training defaults, relative paths, unknown keys."""

from __future__ import annotations

import json

import pytest

from rnnkit.errors import ConfigError
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.classification import ClassifierConfig, SequenceClassifier
from rnnkit.tasks.encoder import EncoderSection


def test_config_round_trip_and_repr():
    cfg = ClassifierConfig.from_dict({"model": {"pooling": "max",
                                                "encoder": {"cell": "gru", "hidden_size": 7}}})
    assert cfg.model.encoder == EncoderSection(cell="gru", hidden_size=7)
    assert cfg.training.loss == "cross_entropy" and cfg.training.epochs == 10  # task defaults
    assert ClassifierConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert ClassifierConfig.from_toml_string(cfg.to_toml()) == cfg
    assert repr(cfg.model) == ("ClassifierModel(encoder.cell='gru', encoder.hidden_size=7, "
                               "pooling='max')")
    # a [training] table overrides the task's training defaults key by key
    cfg = ClassifierConfig.from_dict({"training": {"epochs": 3}})
    assert (cfg.training.epochs, cfg.training.lr, cfg.training.clipnorm) == (3, 2e-3, 5.0)
    # an encoder spec of an older config converts
    spec = RecurrentSpec(cell="gru", hidden_size=7)
    assert EncoderSection.from_spec(spec).build(3).hidden_size == 7


def test_from_toml_round_trip_and_relative_paths(tmp_path):
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "clf.toml"
    path.write_text('task = "classification"\n[data]\npath = "../texts.csv"\nvalidation = 0.1\n'
                    '[model]\npooling = "max"\n[model.encoder]\ncell = "gru"\n'
                    '[training]\nepochs = 2\n[early_stopping]\nmonitor = "val_accuracy"\n',
                    encoding="utf-8")
    clf = SequenceClassifier.from_toml(path)
    assert clf.config.data.path == str(tmp_path / "texts.csv")  # against the file's folder
    assert clf.config.model.encoder.cell == "gru" and clf.config.training.epochs == 2
    assert clf.config.early_stopping.monitor == "val_accuracy"
    assert ClassifierConfig.from_toml_string(clf.config.to_toml()) == clf.config
    over = SequenceClassifier.from_toml(path, {"model": {"encoder": {"hidden_size": 5}}})
    assert over.config.model.encoder.cell == "gru" and over.config.model.encoder.hidden_size == 5


def test_unknown_config_keys_get_a_suggestion():
    with pytest.raises(ConfigError, match=r"model\.pool: expected one of the keys .* got an "
                                          r"unknown key\. did you mean 'pooling'\?"):
        SequenceClassifier({"model": {"pool": "max"}})
    with pytest.raises(ConfigError, match=r"training\.epoks: .* did you mean 'epochs'\?"):
        SequenceClassifier({"training": {"epoks": 3}})
    with pytest.raises(ConfigError, match=r"model\.encoder\.cell: expected one of \['lstm', "
                                          r"'gru', 'rnn'\].* got 'lstn'\. did you mean 'lstm'\?"):
        SequenceClassifier({"model": {"encoder": {"cell": "lstn"}}})
    with pytest.raises(ConfigError, match=r"early_stopping\.patiense: .* did you mean 'patience'"):
        SequenceClassifier({"early_stopping": {"patiense": 2}})
    with pytest.raises(ConfigError, match=r"pooling: expected one of the keys \['data', "):
        SequenceClassifier({"pooling": "max"})
