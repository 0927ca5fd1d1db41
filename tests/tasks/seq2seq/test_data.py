"""rnnkit.tasks.seq2seq.data: the TSV format and the CLI contract end to end on a tiny file."""

import pytest

from rnnkit.errors import ConfigError, DataError
from rnnkit.examples import example_path
from rnnkit.tasks.base import Examples, Report
from rnnkit.tasks.registry import load, task_from_toml
from rnnkit.tasks.seq2seq import Seq2Seq
from rnnkit.tasks.seq2seq.data import read_pairs

WORDS = {"cat": "K AE T", "act": "AE K T", "tac": "T AE K", "at": "AE T", "ta": "T AA",
         "cab": "K AE B", "bat": "B AE T", "tab": "T AE B", "ab": "AE B", "ba": "B AA"}


def test_read_pairs_positional_and_by_header(tmp_path):
    plain = tmp_path / "plain.tsv"
    plain.write_text("cat\tK AE T\n\nact\tAE K T\textra\n", encoding="utf-8")
    assert read_pairs(plain) == (["cat", "act"], ["K AE T", "AE K T"])
    assert read_pairs(plain, labelled=False) == (["cat", "act"], None)
    named = tmp_path / "named.tsv"
    named.write_text("id\tphones\tword\n1\tK AE T\tcat\n", encoding="utf-8")
    assert read_pairs(named, source_column="word", target_column="phones") == (
        ["cat"], ["K AE T"])
    with pytest.raises(DataError, match="column: expected one of the header's"):
        read_pairs(named, source_column="spelling", target_column="phones")
    bad = tmp_path / "bad.tsv"
    bad.write_text("cat\tK AE T\ndog\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.tsv:2: expected at least 2 tab-separated"):
        read_pairs(bad)
    with pytest.raises(DataError, match="data.path: expected an existing TSV file"):
        read_pairs(tmp_path / "missing.tsv")


def test_read_data_tokenizes_by_units(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("The earth.\tLa tierra.\n", encoding="utf-8")
    words = Seq2Seq({"data": {"units": "word", "lower": True}}).read_data(path)
    assert words == Examples([["the", "earth", "."]], [["la", "tierra", "."]])
    chars = Seq2Seq({"data": {"target_units": "word"}}).read_data(path)
    assert chars.inputs == [list("The earth.")] and chars.targets == [["La", "tierra", "."]]
    with pytest.raises(DataError, match="data.path: expected a TSV file"):
        Seq2Seq().read_data()
    with pytest.raises(ConfigError, match="source_column/target_column: expected both"):
        Seq2Seq({"data": {"source_column": "word"}})


def test_the_cli_contract_end_to_end(tmp_path):
    lines = [f"{w}\t{p}" for w, p in WORDS.items()] * 6
    (tmp_path / "g2p.tsv").write_text("spelling\tsounds\n" + "\n".join(lines) + "\n",
                                      encoding="utf-8")
    (tmp_path / "run.toml").write_text('''
task = "seq2seq"
[data]
path = "g2p.tsv"
source_column = "spelling"
target_column = "sounds"
target_units = "word"
validation = 0.1
test = 0.2
[model]
src_embedding_dim = 8
tgt_embedding_dim = 8
encoder = { cell = "gru", hidden_size = 8 }
decoder = { hidden_size = 16 }
[decoding]
beam_width = 2
[training]
epochs = 3
lr = 1e-2
device = "cpu"
''', encoding="utf-8")
    task = task_from_toml(tmp_path / "run.toml")
    assert isinstance(task, Seq2Seq) and task.config.data.path == str(tmp_path / "g2p.tsv")
    fit_data, test_data = task.split(task.read_data())
    assert (len(fit_data.inputs), len(test_data.inputs)) == (48, 12)
    assert task.fit(fit_data) is task and "val_loss" in task.history_[-1]
    report = task.evaluate(test_data)
    assert isinstance(report, Report) and report.primary == "token_error_rate"
    assert list(report.to_frame().index) == ["model", "translation_memory"]
    loaded = load(task.save(tmp_path / "model"))
    frame = loaded.predict_frame(loaded.read_data(labelled=False))
    assert list(frame.columns) == ["source", "prediction"] and len(frame) == 60
    assert frame["source"].iloc[0] == "cat"
    assert frame.equals(task.predict_frame(task.read_data(labelled=False)))
    for text in frame["prediction"]:  # phonemes joined by spaces
        assert all(p in {"K", "AE", "T", "AA", "B"} for p in text.split())


def test_the_example_config_reads_its_sample():

    path = example_path("seq2seq")
    task = task_from_toml(path)
    fit_data, test_data = task.split(task.read_data())
    assert len(fit_data.inputs) + len(test_data.inputs) == 300
    assert all(len(letter) == 1 for letter in fit_data.inputs[0])  # words letter by letter
    assert all(p.isupper() for p in fit_data.targets[0])  # ARPAbet phonemes
    assert task.config.training.max_time == 120.0 and task.config.primary == "token_error_rate"
