"""Batch scoring in chunks equals predict_frame on the whole file, for every task, in Parquet
and CSV; series never split; an interrupted write leaves the previous output alone."""

import io

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from rnnkit.errors import ConfigError, DataError
from rnnkit.examples import example_path
from rnnkit.tasks import scoring
from rnnkit.tasks.classification import SequenceClassifier
from rnnkit.tasks.registry import task_from_toml
from rnnkit.tasks.scoring import ScoringSummary, output_format, score_file

DATA = example_path("classification").parent / "data"

# tiny versions of the shipped examples: one epoch, a few units
TINY = {
    "classification": {"model": {"embedding_dim": 8, "encoder": {"hidden_size": 4}}},
    "tagging": {"model": {"embedding_dim": 8, "suffix_dim": 4, "shape_dim": 4,
                          "encoder": {"hidden_size": 4}}},
    "language_model": {"model": {"embedding_dim": 8, "encoder": {"hidden_size": 8}},
                       "generation": {"max_new_tokens": 5}},
    "seq2seq": {"model": {"src_embedding_dim": 8, "tgt_embedding_dim": 8,
                          "encoder": {"hidden_size": 4}, "decoder": {"hidden_size": 8}},
                "decoding": {"max_len": 8}},
    "forecasting": {"model": {"hidden_size": 4}},
}


@pytest.fixture(scope="module")
def trained():
    """``trained(name)``: the shipped example ``name`` fitted tiny (once per module)."""
    cache = {}

    def get(name):
        if name not in cache:
            overrides = {**TINY[name], "training": {"epochs": 1, "progress": "off"}}
            task = task_from_toml(example_path(name), overrides)
            data = task.read_data()
            task.fit(data if name == "forecasting" else task.split(data)[0])
            cache[name] = task
        return cache[name]

    return get


def _read(path):
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def _csv_roundtrip(frame, tmp_path, index=False):
    frame.to_csv(tmp_path / "expected.csv", index=index)
    return pd.read_csv(tmp_path / "expected.csv")


def _check(task, inputs, tmp_path, suffix, chunk_rows=3, expected=None, horizon=None):
    """Score ``inputs`` in chunks into a ``suffix`` file; compare it with the whole-file
    predict_frame."""
    out = tmp_path / f"out{suffix}"
    summary = score_file(task, inputs, out, chunk_rows=chunk_rows, progress=False,
                         horizon=horizon)
    if expected is None:
        expected = task.predict_frame(task.read_data(inputs, labelled=False))
    got = _read(out)
    forecasting = task.name == "forecasting"
    if suffix == ".csv":
        expected = _csv_roundtrip(expected, tmp_path, index=forecasting)
    assert_frame_equal(got, expected, check_freq=False)  # Parquet keeps no index freq
    assert summary.rows == len(expected) and summary.output == out
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    return summary


def _tokens_only(conll, dest):
    lines = [line.split()[0] if line.strip() else "" for line in conll.read_text().splitlines()]
    dest.write_text("\n".join(lines) + "\n")
    return dest


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_text_classification_in_chunks_equals_the_whole_file(trained, tmp_path, suffix):
    task = trained("classification")
    frame = pd.read_csv(DATA / "vader_sample.csv").drop(columns="label")
    for name, write in [("in.csv", frame.to_csv), ("in.parquet", frame.to_parquet)]:
        write(tmp_path / name, index=False)
        summary = _check(task, tmp_path / name, tmp_path, suffix)
        assert summary.inputs == len(frame) and summary.chunks == -(-len(frame) // 3)
    got = _read(tmp_path / f"out{suffix}")
    assert got["id"].tolist() == list(range(len(frame)))  # the file's row numbers
    _check(task, DATA / "vader_sample.csv", tmp_path, suffix, chunk_rows=50)  # labels ignored


def test_text_classification_parquet_written_in_small_row_groups(trained, tmp_path):
    task = trained("classification")
    frame = pd.read_csv(DATA / "vader_sample.csv").drop(columns="label")
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    frame.to_parquet(tmp_path / "in.parquet", row_group_size=7)
    _check(task, tmp_path / "in.parquet", tmp_path, ".parquet", chunk_rows=5)


@pytest.fixture(scope="module")
def series_classifier():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(30):
        c = i % 3
        for t in range(int(rng.integers(3, 8))):
            rows.append({"id": f"s{i:02d}", "step": t, "a": (c - 1) * t + rng.normal(),
                         "b": rng.normal(), "label": c})
    long = pd.DataFrame(rows)
    task = SequenceClassifier({"model": {"encoder": {"hidden_size": 4}},
                               "training": {"epochs": 1, "progress": "off", "device": "cpu"}})
    task.fit(task.examples_from_frame(long, labelled=True))
    return task, long.drop(columns="label")


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("chunk_rows", [1, 3, 4, 1000])
def test_series_classification_never_splits_a_series(series_classifier, tmp_path, suffix,
                                                     chunk_rows):
    task, long = series_classifier
    # steps out of order inside a series: each chunk's reader sorts them as the whole one does
    long = long.sample(frac=1.0, random_state=0).sort_values("id", kind="stable")
    long.to_parquet(tmp_path / "in.parquet", index=False, row_group_size=5)
    _check(task, tmp_path / "in.parquet", tmp_path, suffix, chunk_rows=chunk_rows)
    long.to_csv(tmp_path / "in.csv", index=False)
    sizes = long.groupby("id", sort=False).size()
    first, last = sizes.cumsum() - sizes, sizes.cumsum() - 1  # each series' rows in the file
    assert ((first // chunk_rows) != (last // chunk_rows)).any() or chunk_rows == 1000
    summary = _check(task, tmp_path / "in.csv", tmp_path, suffix, chunk_rows=chunk_rows)
    assert summary.inputs == long["id"].nunique()


def test_series_whose_rows_lie_apart_are_refused(series_classifier, tmp_path):
    task, long = series_classifier
    apart = pd.concat([long[long["id"] == "s00"].iloc[:2], long[long["id"] == "s01"],
                       long[long["id"] == "s00"].iloc[2:]])
    apart.to_csv(tmp_path / "in.csv", index=False)
    for chunk_rows in (2, 100):
        with pytest.raises(DataError, match=r"series 's00': expected its rows together .* "
                                            r"sort the file by the id column"):
            score_file(task, tmp_path / "in.csv", tmp_path / "out.csv", chunk_rows=chunk_rows,
                       progress=False)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_tagging_in_chunks_of_sentences(trained, tmp_path, suffix):
    task = trained("tagging")
    inputs = _tokens_only(DATA / "brown_sample.conll", tmp_path / "tokens.txt")
    summary = _check(task, inputs, tmp_path, suffix, chunk_rows=4)
    assert summary.inputs == len(task.read_data(inputs, labelled=False).inputs)
    assert summary.chunks > 5


def test_tagging_errors_name_the_line_of_the_whole_file(trained, tmp_path):
    task = trained("tagging")
    (tmp_path / "in.conll").write_text("a\nb\n\nc\n\nd\n\n\n", encoding="utf-8")
    (tmp_path / "bad.conll").write_bytes(b"a\n\nb\n\nc \xff\n")
    out = tmp_path / "out.csv"
    _check(task, tmp_path / "in.conll", tmp_path, ".csv", chunk_rows=1)
    with pytest.raises(DataError, match=r"bad.conll line 5: expected UTF-8 text"):
        score_file(task, tmp_path / "bad.conll", out, chunk_rows=1, progress=False)
    (tmp_path / "empty.conll").write_text("\n-DOCSTART-\n\n")
    with pytest.raises(DataError, match=r"empty.conll: expected at least one sentence"):
        score_file(task, tmp_path / "empty.conll", out, chunk_rows=1, progress=False)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_language_model_prompts_keep_their_seeds(trained, tmp_path, suffix):
    task = trained("language_model")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Shall I\n\nThe \nLove is\nMy\nO\n", encoding="utf-8")
    summary = _check(task, prompts, tmp_path, suffix, chunk_rows=2)
    assert summary.inputs == 5 and summary.chunks == 3


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_seq2seq_sources_with_a_header(trained, tmp_path, suffix):
    task = trained("seq2seq")
    lines = (DATA / "cmudict_sample.tsv").read_text().splitlines()[:12]
    (tmp_path / "words.tsv").write_text("\n".join([*lines[:5], "", *lines[5:]]) + "\n")
    summary = _check(task, tmp_path / "words.tsv", tmp_path, suffix, chunk_rows=3)
    assert summary.inputs == 11  # the header is no source


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_forecasting_keeps_only_the_tail(trained, tmp_path, suffix):
    task = trained("forecasting")
    (tmp_path / "nile.csv").write_bytes((DATA / "nile.csv").read_bytes())
    pd.read_csv(DATA / "nile.csv").to_parquet(tmp_path / "nile.parquet", index=False)
    for name in ("nile.csv", "nile.parquet"):
        summary = _check(task, tmp_path / name, tmp_path, suffix, chunk_rows=7)
        assert summary.inputs == 100 and summary.rows == 3


def test_forecasting_horizon_and_the_tail(trained, tmp_path):
    task = trained("forecasting")
    inputs = DATA / "nile.csv"
    expected = task.predict(task.read_data(inputs), horizon=5)
    _check(task, inputs, tmp_path, ".parquet", chunk_rows=10, expected=expected, horizon=5)
    stored = pd.read_csv(inputs, parse_dates=["year"]).set_index("year")
    stored.to_parquet(tmp_path / "indexed.parquet", row_group_size=30)  # the time as its index
    _check(task, tmp_path / "indexed.parquet", tmp_path, ".csv", chunk_rows=8)
    with pytest.raises(ConfigError, match="horizon: expected an integer >= 1, got 0"):
        score_file(task, inputs, tmp_path / "h.csv", horizon=0, progress=False)
    frame = pd.DataFrame({"volume": [1.0, np.nan, 3.0, 4.0, np.nan, 6.0],
                          "year": range(6)})
    tail = scoring._forecast_tail(frame, ["volume"], ["volume", "year"], keep=2)
    assert tail.index.tolist() == [3, 4, 5]  # from a complete row
    frame.loc[5, "volume"] = np.nan  # a trailing row without target: the known future
    tail = scoring._forecast_tail(frame, ["volume"], ["volume", "year"], keep=2)
    assert tail.index.tolist() == [2, 3, 4, 5]


def test_an_interrupted_write_leaves_the_previous_output(trained, tmp_path, monkeypatch):
    task = trained("classification")
    frame = pd.read_csv(DATA / "vader_sample.csv").drop(columns="label")
    frame.to_csv(tmp_path / "in.csv", index=False)
    for suffix in (".parquet", ".csv"):
        out = tmp_path / f"out{suffix}"
        out.write_bytes(b"what the user saved")
        calls = []
        write = scoring._ChunkWriter.write

        def failing(self, chunk, calls=calls, write=write):
            calls.append(len(chunk))
            if len(calls) == 3:
                raise KeyboardInterrupt
            write(self, chunk)

        monkeypatch.setattr(scoring._ChunkWriter, "write", failing)
        with pytest.raises(KeyboardInterrupt):
            score_file(task, tmp_path / "in.csv", out, chunk_rows=5, progress=False)
        monkeypatch.undo()
        assert out.read_bytes() == b"what the user saved"
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["in.csv", "out.parquet", *(["out.csv"] if suffix == ".csv" else [])])


def test_misuse_is_refused_before_anything_is_written(trained, tmp_path):
    task = trained("classification")
    inputs = DATA / "vader_sample.csv"
    with pytest.raises(ConfigError, match=r"--output: expected a file ending in \['.csv', "):
        score_file(task, inputs, tmp_path / "out.json", progress=False)
    with pytest.raises(ConfigError, match="chunk_rows: expected an integer >= 1, got 0"):
        score_file(task, inputs, tmp_path / "out.csv", chunk_rows=0, progress=False)
    with pytest.raises(ConfigError, match="horizon: expected unset for a classification model"):
        score_file(task, inputs, tmp_path / "out.csv", horizon=3, progress=False)
    with pytest.raises(DataError, match="--input: expected an existing file"):
        score_file(task, tmp_path / "nope.csv", tmp_path / "out.csv", progress=False)
    (tmp_path / "in.csv").write_text("text,text\na,b\n")
    with pytest.raises(DataError, match=r"unique column names, got duplicated columns \['text'\]"):
        score_file(task, tmp_path / "in.csv", tmp_path / "out.csv", progress=False)
    with pytest.raises(ConfigError, match="--output: expected a file other than the input"):
        score_file(task, tmp_path / "in.csv", tmp_path / "in.csv", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
    assert output_format("a/B.PARQUET") == "parquet" and output_format("x.csv") == "csv"


def test_the_progress_bar_counts_what_was_scored(trained, tmp_path):
    from rich.console import Console

    task = trained("classification")
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    summary = score_file(task, DATA / "vader_sample.csv", tmp_path / "out.csv",
                         chunk_rows=50, progress=True, console=console)
    assert isinstance(summary, ScoringSummary) and summary.chunks == 3
    assert "scoring" in buffer.getvalue() and "120 scored" in buffer.getvalue()
