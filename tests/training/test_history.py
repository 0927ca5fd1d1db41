"""History: rows, columns, best, JSON round trip."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.training.history import History, infer_mode


def make(values: list[float], key: str = "val_loss") -> History:
    h = History()
    for epoch, v in enumerate(values, start=1):
        h.new_epoch(epoch)
        h.record(key, v)
        h.record("lr", 0.1)
    return h


def test_rows_and_columns() -> None:
    h = make([0.5, 0.3, 0.4])
    assert len(h) == 3
    assert h["val_loss"] == [0.5, 0.3, 0.4]
    assert h["epoch"] == [1, 2, 3]
    assert h[1] == {"epoch": 2, "val_loss": 0.3, "lr": 0.1}
    assert h[-1]["epoch"] == 3
    assert [r["epoch"] for r in h] == [1, 2, 3]
    assert "lr" in h and "acc" not in h
    assert h.keys() == ["epoch", "val_loss", "lr"]


def test_missing_column_names_the_known_keys() -> None:
    h = make([0.5])
    with pytest.raises(KeyError, match=r"key: expected one of \['epoch', 'val_loss', 'lr'\], got 'loss'"):
        h["loss"]


def test_column_with_gaps_has_none() -> None:
    h = make([0.5, 0.4])
    h.record("extra", 1)
    assert h["extra"] == [None, 1]


def test_record_needs_an_epoch() -> None:
    with pytest.raises(RnnkitError, match="no epoch started"):
        History().record("loss", 1.0)


def test_best_min_max_and_auto() -> None:
    h = make([0.5, 0.3, 0.3, 0.4])
    assert h.best("val_loss")["epoch"] == 2  # ties go to the earliest
    assert h.best("val_loss", mode="max")["epoch"] == 1
    acc = make([0.5, 0.9, 0.7], key="val_acc")
    assert acc.best("val_acc")["epoch"] == 2  # auto -> max for accuracy


def test_best_skips_nan_and_rejects_unknown() -> None:
    h = make([math.nan, 0.7, 0.6])
    assert h.best("val_loss")["epoch"] == 3
    with pytest.raises(KeyError, match="monitor"):
        h.best("val_acc")


def test_infer_mode() -> None:
    assert infer_mode("val_loss") == "min"
    assert infer_mode("val_mae") == "min"
    assert infer_mode("val_accuracy") == "max"
    assert infer_mode("f1") == "max"
    assert infer_mode("val_r2") == "max"
    assert infer_mode("val_acc", "min") == "min"
    with pytest.raises(ConfigError, match=r"mode: expected one of \['auto', 'min', 'max'\], got 'up'"):
        infer_mode("loss", "up")  # type: ignore[arg-type]


def test_json_round_trip_string_and_file(tmp_path: Path) -> None:
    h = make([0.5, math.inf, 0.25])
    assert History.from_json(h.to_json()) == h
    path = tmp_path / "sub" / "history.json"
    h.to_json(path)
    assert History.from_json(path) == h
    assert not list(path.parent.glob("*.tmp"))


def test_from_json_rejects_non_rows() -> None:
    with pytest.raises(RnnkitError, match="expected a JSON array of objects"):
        History.from_json("[1, 2]")


def test_dataframe_and_state_dict() -> None:
    h = make([0.5, 0.4])
    frame = h.to_dataframe()
    assert list(frame.index) == [1, 2] and list(frame["val_loss"]) == [0.5, 0.4]
    other = History()
    other.load_state_dict(h.state_dict())
    assert other == h
    other.rows[0]["val_loss"] = 9.0  # a copy, not a view
    assert h[0]["val_loss"] == 0.5
    assert "History(epochs=2" in repr(h)
