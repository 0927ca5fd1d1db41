"""The prediction log: rows written in their own transaction, read back, counted; a hard
crash right after a write loses nothing."""

import subprocess
import sys
import textwrap

import pytest

from rnnkit.errors import ConfigError
from rnnkit.serving.logbook import MAX_OUTPUT, Logbook


def test_predictions_and_feedback_round_trip(tmp_path):
    book = Logbook(f"sqlite:///{tmp_path / 'log.db'}")
    a = book.record("m", "v1", "predict", {"n": 2}, {"labels": ["x", "y"]}, 1.25)
    b = book.record("other", "v9", "predict", {"n": 1}, {"labels": ["z"]}, 0.5)
    assert b == a + 1
    row = book.prediction(a)
    assert (row["model"], row["version"], row["input"], row["output"], row["latency_ms"]) == \
        ("m", "v1", {"n": 2}, {"labels": ["x", "y"]}, 1.25)
    assert row["time"] is not None and book.prediction(999) is None
    book.record_feedback("m", a, ["x", "x"], {"error_rate": 0.5})
    assert book.count() == 2 and book.count("m") == 1
    assert book.count("m", "feedback") == 1 and book.count("other", "feedback") == 0


def test_a_long_output_is_logged_cut(tmp_path):
    book = Logbook("sqlite://")
    pid = book.record("m", "v", "predict", {}, {"texts": ["x" * (MAX_OUTPUT * 2)]}, 1.0)
    assert len(book.prediction(pid)["output"]["truncated"]) == MAX_OUTPUT


def test_a_bad_url_names_the_option():
    with pytest.raises(ConfigError, match=r"^--log-db: expected a SQLAlchemy database URL"):
        Logbook("not a url")


def test_a_committed_row_survives_a_hard_crash(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    script = textwrap.dedent(f"""
        import os
        from rnnkit.serving.logbook import Logbook
        book = Logbook({url!r})
        book.record("m", "v", "predict", {{"n": 1}}, {{"y": 1}}, 1.0)
        os._exit(9)  # no clean-up, no close: as a killed process
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    assert Logbook(url).count("m") == 1
