"""rnnkit.tasks.classification.files: text CSVs and long-format series files (CSV, Parquet)
end to end as the command line runs them, and the file errors."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.classification import SequenceClassifier
from rnnkit.tasks.registry import load, task_from_toml

from classifier_builders import _series, _small, _texts, _training


def _write_texts(path, n, seed=0, labelled=True):
    import pandas as pd

    X, y = _texts(n, seed)
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": X})
    if labelled:
        frame["label"] = y
    frame.to_csv(path, index=False)
    return X, y


def _write_series(path, n, seed=0):
    """Long format, rows of each series shuffled (read_data sorts them by step)."""
    import pandas as pd

    X, y = _series(n, seed)
    rows = [{"id": f"s{i}", "step": t, "a": float(x[t, 0]), "b": float(x[t, 1]), "label": c}
            for i, (x, c) in enumerate(zip(X, y)) for t in range(len(x))]
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=0)
    frame.to_parquet(path) if str(path).endswith(".parquet") else frame.to_csv(path, index=False)
    return X, y


def test_a_text_csv_end_to_end_as_the_command_line_runs_it(tmp_path):
    _write_texts(tmp_path / "texts.csv", 150)
    _write_texts(tmp_path / "new.csv", 5, seed=1, labelled=False)
    (tmp_path / "clf.toml").write_text(
        'task = "classification"\n[data]\npath = "texts.csv"\ntest = 0.2\nvalidation = 0.1\n'
        '[model]\nembedding_dim = 8\npooling = "mean"\n[model.encoder]\nhidden_size = 8\n'
        '[training]\nepochs = 12\nbatch_size = 16\nlr = 0.02\ndevice = "cpu"\n', encoding="utf-8")
    task = task_from_toml(tmp_path / "clf.toml")
    assert isinstance(task, SequenceClassifier)
    data = task.read_data()
    assert len(data.inputs) == 150 and data.inputs.ids[:2] == ["r0", "r1"]
    fit_data, test_data = task.split(data)
    assert (len(fit_data.inputs), len(test_data.inputs)) == (120, 30)
    assert sorted(fit_data.inputs.ids + test_data.inputs.ids) == sorted(data.inputs.ids)
    assert task.fit(fit_data) is task
    assert "val_accuracy" in set(task.history_.keys())  # data.validation held out 10%
    report = task.evaluate(test_data)
    assert report["accuracy"] >= 0.8 and "bag_of_words" in report.baselines
    back = load(task.save(tmp_path / "model"))
    assert isinstance(back, SequenceClassifier)
    new = back.read_data(tmp_path / "new.csv", labelled=False)
    assert new.targets is None
    frame = back.predict_frame(new)
    assert list(frame.columns) == ["id", "text", "prediction", "proba_neg", "proba_pos"]
    assert frame["id"].tolist() == [f"r{i}" for i in range(5)]
    assert frame["prediction"].tolist() == task.predict(new.inputs).tolist()
    np.testing.assert_allclose(frame[["proba_neg", "proba_pos"]].sum(axis=1), 1.0)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_long_series_file_is_read_sorted_by_step(tmp_path, suffix):
    X, y = _write_series(tmp_path / f"series{suffix}", 12)
    task = SequenceClassifier({"data": {"path": str(tmp_path / f"series{suffix}")}})
    data = task.read_data()
    assert sorted(data.inputs.ids) == sorted(f"s{i}" for i in range(12))  # first seen first
    by_id = dict(zip(data.inputs.ids, zip(data.inputs, data.targets)))
    for i, (x, c) in enumerate(zip(X, y)):
        np.testing.assert_allclose(by_id[f"s{i}"][0], x)  # (T_i, 2), in step order
        assert by_id[f"s{i}"][1] == c


def test_series_end_to_end_and_file_errors(tmp_path):
    import pandas as pd

    _write_series(tmp_path / "train.csv", 90)
    _write_series(tmp_path / "test.csv", 30, seed=1)
    task = SequenceClassifier({
        "data": {"path": str(tmp_path / "train.csv"), "test_path": str(tmp_path / "test.csv"),
                 "kind": "series", "feature_columns": ["a", "b"]},
        "model": _small(pooling="mean"), "training": _training(epochs=15)})
    fit_data, test_data = task.split(task.read_data())
    assert (len(fit_data.inputs), len(test_data.inputs)) == (90, 30)
    report = task.fit(fit_data).evaluate(test_data)
    assert report["accuracy"] >= 0.8
    frame = task.predict_frame(test_data)
    assert list(frame.columns[:4]) == ["id", "steps", "label", "prediction"]
    assert frame["steps"].tolist() == [len(x) for x in test_data.inputs]
    back = SequenceClassifier.load(task.save(tmp_path / "model"))
    pd.testing.assert_frame_equal(back.predict_frame(test_data), frame)

    bad = pd.DataFrame({"id": ["a", "a", "b"], "step": [0, 1, 0], "x": [1.0, 2.0, 3.0],
                        "label": ["up", "down", "up"]})
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"series 'a': expected one label on all its rows, got "
                                        r"labels \['down', 'up'\]"):
        SequenceClassifier().read_data(tmp_path / "bad.csv")
    pd.DataFrame({"words": ["x"], "label": [1]}).to_csv(tmp_path / "odd.csv", index=False)
    with pytest.raises(DataError, match=r"expected a text column 'text' or a series id column 'id'"):
        SequenceClassifier().read_data(tmp_path / "odd.csv")
    with pytest.raises(DataError, match=r"expected a label column 'label'"):
        SequenceClassifier().read_data(_unlabelled(tmp_path))
    with pytest.raises(ConfigError, match=r"data\.path: expected the path of a CSV or Parquet file"):
        SequenceClassifier().read_data()


def _unlabelled(tmp_path):
    _write_texts(tmp_path / "unlabelled.csv", 3, labelled=False)
    return tmp_path / "unlabelled.csv"
