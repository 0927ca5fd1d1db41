"""rnnkit.tasks.tagging.files: the CoNLL layout, and a CoNLL file end to end as the command
line runs it."""

from __future__ import annotations

import pytest

from rnnkit.errors import DataError
from rnnkit.tasks.registry import load, task_from_toml
from rnnkit.tasks.tagging import SequenceTagger, parse_conll

from tagger_builders import _corpus

CONLL = """-DOCSTART- -X- O O

we\tPRP\tPRON
can\tMD\tVERB

the DT DET
can NN NOUN
.   .  .
"""


def test_parse_conll():
    data = parse_conll(CONLL)
    assert data.inputs == [["we", "can"], ["the", "can", "."]]
    assert data.targets == [["PRON", "VERB"], ["DET", "NOUN", "."]]
    tokens = parse_conll("we\ncan\n\nthe\ncan\n", labelled=False)
    assert tokens.inputs == [["we", "can"], ["the", "can"]] and tokens.targets is None
    with pytest.raises(DataError, match=r"x\.conll line 2: expected a token and its tag, got "
                                        r"'can' alone"):
        parse_conll("we PRON\ncan\n", source="x.conll")
    with pytest.raises(DataError, match=r"expected at least one sentence"):
        parse_conll("-DOCSTART-\n\n")


def _write_conll(path, sents, tags=None):
    blocks = ["\n".join(f"{w}\t{t}" if tags is not None else w
                        for w, t in zip(s, tags[i] if tags is not None else s))
              for i, s in enumerate(sents)]
    path.write_text("-DOCSTART-\n\n" + "\n\n".join(blocks) + "\n", encoding="utf-8")


def test_a_conll_file_end_to_end_as_the_command_line_runs_it(tmp_path):
    sents, tags = _corpus(150)
    _write_conll(tmp_path / "train.conll", sents, tags)
    _write_conll(tmp_path / "new.conll", [["we", "fish"], ["the", "fish", "."]])
    (tmp_path / "tagger.toml").write_text(
        'task = "tagging"\n[data]\npath = "train.conll"\ntest = 0.2\nvalidation = 0.1\n'
        '[model]\nembedding_dim = 8\nsuffix_dim = 4\nshape_dim = 2\nmin_freq = 1\n'
        'dropout = 0.0\n[model.encoder]\nhidden_size = 8\n'
        '[training]\nepochs = 10\nbatch_size = 16\nlr = 0.03\ndevice = "cpu"\n',
        encoding="utf-8")
    task = task_from_toml(tmp_path / "tagger.toml")
    assert isinstance(task, SequenceTagger)
    data = task.read_data()
    assert data.inputs == sents and data.targets == tags
    fit_data, test_data = task.split(data)
    assert (len(fit_data.inputs), len(test_data.inputs)) == (120, 30)
    assert "val_token_accuracy" in set(task.fit(fit_data).history_.keys())
    report = task.evaluate(test_data)
    assert report["token_accuracy"] >= 0.95
    back = load(task.save(tmp_path / "model"))
    assert isinstance(back, SequenceTagger)
    frame = back.predict_frame(back.read_data(tmp_path / "new.conll", labelled=False))
    assert list(frame.columns) == ["sentence", "position", "token", "prediction"]
    assert frame["token"].tolist() == ["we", "fish", "the", "fish", "."]
    assert frame["prediction"].tolist() == ["PRON", "VERB", "DET", "NOUN", "."]
    labelled = back.predict_frame(test_data)
    assert list(labelled.columns) == ["sentence", "position", "token", "tag", "prediction"]
    assert len(labelled) == sum(map(len, test_data.inputs))
