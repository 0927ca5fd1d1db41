"""rnnkit.tasks.encoder: the encoder section (a cell by name or class), the training defaults
laid under a [training] table, the data-file section and older bundles' configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn import GRU, LSTMCell, SimpleRNNCell
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.encoder import (
    ENCODER_TRAINING,
    DataFiles,
    EncoderSection,
    cross_entropy,
    legacy_config,
)
from rnnkit.tasks.recurrent_section import cell_from_name
from rnnkit.training import TrainerConfig


class TanhFreeRNNCell(SimpleRNNCell):
    """A cell of one's own, here a SimpleRNN cell subclass."""


def test_a_cell_by_name_builds_what_recurrent_spec_builds():
    section = EncoderSection(cell="gru", hidden_size=5, num_layers=2, bidirectional=False)
    torch.manual_seed(0)
    a = section.build(3)
    torch.manual_seed(0)
    b = RecurrentSpec(cell="gru", hidden_size=5, num_layers=2).build(3)
    assert isinstance(a, GRU) and section.output_size == 5
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(a(x)[0], b(x)[0])
    assert EncoderSection().output_size == 128 and EncoderSection().cell_name == "LSTM"


def test_a_cell_class_builds_and_round_trips_by_its_import_name():
    section = EncoderSection(cell=TanhFreeRNNCell, hidden_size=4, activation="relu")
    layer = section.build(3, return_sequences=False)
    assert all(type(c) is TanhFreeRNNCell for c in layer.cells) and len(layer.cells) == 2
    assert layer(torch.randn(2, 5, 3))[0].shape == (2, 8)  # (B, D·H), last step
    name = section.model_dump(mode="json")["cell"]
    assert name == f"{__name__}:TanhFreeRNNCell"
    assert EncoderSection(**section.model_dump(mode="json")) == section
    assert cell_from_name("rnnkit.nn:LSTMCell") is LSTMCell and section.cell_name == "TanhFreeRNNCell"
    with pytest.raises(ConfigError, match=r"cell: expected an importable 'module:ClassName'"):
        EncoderSection(cell="no_such_module:Cell")
    with pytest.raises(ConfigError, match=r"cell: expected a RecurrentCell subclass"):
        EncoderSection(cell="rnnkit.nn:GRU")  # a layer, not a cell
    with pytest.raises(ConfigError, match=r"cell: .* got 'lsmt'\. did you mean 'lstm'\?"):
        EncoderSection(cell="lsmt")


def test_a_training_table_overrides_the_task_defaults_key_by_key():
    from rnnkit.tasks.classification import ClassifierConfig

    merged = ClassifierConfig.from_dict({"training": {"epochs": 3, "lr": 0.1}}).training
    assert (merged.epochs, merged.lr, merged.clipnorm, merged.batch_size) == (3, 0.1, 5.0, 32)
    assert merged.loss == "cross_entropy"
    assert ClassifierConfig().training == TrainerConfig(**ENCODER_TRAINING)
    given = TrainerConfig(epochs=2)  # kept as given, the loss recorded as cross-entropy
    assert ClassifierConfig(training=given).training == given.replace(loss="cross_entropy")
    assert cross_entropy(given) == given.replace(loss="cross_entropy")
    with pytest.raises(ValueError, match=r"training\.bach_size: .* did you mean 'batch_size'"):
        ClassifierConfig.from_dict({"training": {"bach_size": 3}})
    with pytest.raises(ValueError, match=r"training\.epochs: expected"):
        ClassifierConfig.from_dict({"training": {"epochs": 0}})


def test_data_paths_resolve_against_the_config_folder(tmp_path):
    from rnnkit.tasks.classification import ClassifierConfig

    cfg = ClassifierConfig.from_dict({"data": {"path": "a.csv",
                                               "test_path": str(tmp_path / "b.csv")}})
    resolved = cfg.resolve_paths(tmp_path)
    assert resolved.data.path == str(tmp_path / "a.csv")
    assert resolved.data.test_path == str(tmp_path / "b.csv")
    assert ClassifierConfig().resolve_paths(Path(".")) == ClassifierConfig()
    with pytest.raises(ConfigError, match=r"validation: expected a number > 0"):
        DataFiles(validation=0.0)


def test_legacy_config_moves_early_stopping_out_of_the_model():
    old = {"model": {"pooling": "max", "patience": 4, "monitor": "val_accuracy"},
           "training": {"epochs": 2}, "n_classes": 3}
    assert legacy_config(old) == {"model": {"pooling": "max"}, "training": {"epochs": 2},
                                  "early_stopping": {"patience": 4, "monitor": "val_accuracy"}}
