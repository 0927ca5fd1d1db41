"""rnnkit.tasks.encoder: the training defaults laid under a [training] table, the data-file
section and older bundles' configs. (The encoder section's cell by name or class is tested
with RecurrentSection, in test_recurrent_section.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.errors import ConfigError
from rnnkit.tasks.encoder import ENCODER_TRAINING, DataFiles, cross_entropy, legacy_config
from rnnkit.training import TrainerConfig


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
