"""What every lab shares: the verdict line, the config merging that refuses unknown keys,
example TOML files that state each lab's defaults, and reading the user's own file with
--set data.path=... (sentiment, vowels and brown offline on synthetic stand-ins)."""

import tomllib

import pytest

from rnnkit.errors import ConfigError
from rnnkit.examples import example_path
from rnnkit.labs import adding, brown, g2p, sentiment, shakespeare, translate, vowels
from rnnkit.labs._common import merge_config, verdict

from lab_builders import _fake_brown, _fake_vader, _fake_vowels


def test_a_quick_run_is_a_smoke_test_not_a_failed_bar():
    assert verdict(True, quick=False) == "passed"
    assert verdict(False, quick=False) == "NOT passed"
    for passed in (True, False, None):
        assert verdict(passed, quick=True) == (
            "not checked (--quick is a smoke test; the bar is for the full run)")


def test_a_lab_never_writes_into_a_folder_it_did_not_make(tmp_path):
    from rnnkit.errors import ConfigError
    from rnnkit.labs._common import run_directory

    first = run_directory(tmp_path / "run", "adding")
    (first / "metrics.json").write_text("{}")
    with pytest.raises(ConfigError, match="--out: expected a new or empty directory.*--overwrite"):
        run_directory(first, "adding")
    again = run_directory(first, "adding", overwrite=True)  # an earlier lab run: replaced
    assert again == first and not (first / "metrics.json").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(ConfigError, match="which rnnkit did not write"):
        run_directory(mine, "adding", overwrite=True)
    assert (mine / "notes.txt").read_text() == "keep"
    assert run_directory(tmp_path / "empty", "adding").is_dir()  # new or empty: fine


def test_labs_read_your_own_files_with_data_path(tmp_path, monkeypatch, capsys):
    """``--set data.path=...``: each lab reads the user's file through the task's read_data
    (and never its built-in corpus)."""
    import pandas as pd

    def no_corpus(*args, **kwargs):
        raise AssertionError("the built-in corpus was loaded")

    for lab, loader in ((sentiment, "load_vader_binary"), (vowels, "load_japanese_vowels"),
                        (vowels, "load_ts_classification"), (brown, "load_brown_pos")):
        monkeypatch.setattr(lab, loader, no_corpus)
    pairs = _fake_vader()
    pd.DataFrame({"review": [t for t, _ in pairs], "stars": [("five", "one")[y] for _, y in pairs]}
                 ).to_csv(tmp_path / "reviews.csv", index=False)
    m = sentiment.run({"data": {"path": str(tmp_path / "reviews.csv"), "text_column": "review",
                                "label_column": "stars"}, "training": {"epochs": 4, "lr": 2e-2}},
                      out_dir=tmp_path / "s", quick=True)
    assert (m["n_train"], m["n_val"], m["n_test"]) == (144, 16, 40)
    assert m["model"]["labels"] == ["five", "one"] and m["model"]["accuracy"] >= 0.9
    assert "reviews.csv sentences" in " ".join(capsys.readouterr().out.split())

    X, y = _fake_vowels("train")
    rows = [{"id": f"u{i}", "frame": t, **{f"c{j}": x[t, j] for j in range(12)}, "label": c}
            for i, (x, c) in enumerate(zip(X, y)) for t in range(len(x))]
    pd.DataFrame(rows).to_csv(tmp_path / "utterances.csv", index=False)
    m = vowels.run({"data": {"path": str(tmp_path / "utterances.csv"), "step_column": "frame"},
                    "training": {"epochs": 6, "lr": 1e-2}}, out_dir=tmp_path / "v", quick=True)
    assert m["dataset"] == "utterances" and (m["n_train"], m["n_test"]) == (36, 9)
    assert m["model"]["accuracy"] >= 0.8 and m["baseline_name"].startswith(
        "bag of features (7 statistics x 12 + length)")

    corpus = _fake_brown()
    for name, part in (("train.conll", corpus[:120]), ("test.conll", corpus[120:])):
        (tmp_path / name).write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(*pair))
                                                 for pair in part) + "\n", encoding="utf-8")
    m = brown.run({"data": {"path": str(tmp_path / "train.conll"),
                            "test_path": str(tmp_path / "test.conll"), "max_sentences": None},
                   "training": {"epochs": 3, "lr": 3e-2}}, out_dir=tmp_path / "b", quick=True)
    assert m["n_test_sentences"] == 30 and m["n_train_sentences"] + m["n_val_sentences"] == 120
    assert m["model"]["token_accuracy"] == 1.0


def test_lab_configs_refuse_unknown_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"config\.training key: expected one of .* got 'epoch'"):
        sentiment.run({"training": {"epoch": 3}}, out_dir=tmp_path / "a", quick=True)
    with pytest.raises(ConfigError, match=r"config key: expected one of \['bar', 'baseline', 'data', 'early_stopping', 'model', 'training'\], got 'modle'"):
        vowels.run({"modle": {}}, out_dir=tmp_path / "b", quick=True)
    with pytest.raises(ConfigError, match=r"config\.model\.encoder key: expected one of"):
        brown.run({"model": {"encoder": {"hidden": 3}}}, out_dir=tmp_path / "c", quick=True)


@pytest.mark.parametrize("lab", [sentiment, vowels, brown])
def test_example_toml_files_state_the_defaults(lab):
    name = lab.__name__.rsplit(".", 1)[1]
    path = example_path(name)
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    assert sentiment.merge_config(lab.DEFAULTS, table) == lab.DEFAULTS



def test_lab_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="config key: expected one of"):
        adding.run({"trainer": {}}, out_dir=tmp_path, quick=True)
    with pytest.raises(ConfigError, match=r"config.training key: expected one of"):
        g2p.run({"training": {"epoch": 3}}, out_dir=tmp_path, quick=True)
    with pytest.raises(ConfigError, match="data.corpus: expected 'shakespeare' or 'pydoc'"):
        shakespeare.run({"data": {"corpus": "hamlet"}}, out_dir=tmp_path, quick=True)


@pytest.mark.parametrize("lab", [shakespeare, g2p, adding, translate],
                         ids=["shakespeare", "g2p", "adding", "translate"])
def test_example_configs_are_the_defaults(lab):
    import tomllib

    name = lab.__name__.rsplit(".", 1)[1]
    path = example_path(name)
    with open(path, "rb") as fh:
        assert merge_config(lab.DEFAULTS, tomllib.load(fh)) == lab.DEFAULTS



def test_a_lab_run_appears_whole_when_its_block_completes(tmp_path):
    from rnnkit._files import MARKER
    from rnnkit.labs._common import lab_run

    out = tmp_path / "run"
    with lab_run(out, "adding") as work:
        (work / "metrics.json").write_text("{}")
        assert work.parent == tmp_path and work.name.startswith(".run.partial-")
        assert not out.exists()  # nothing at the final path until the lab is done
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "metrics.json"])
    assert '"task": "lab adding"' in (out / MARKER).read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no partial, no lock left


def test_a_failed_lab_run_leaves_no_partial_and_the_earlier_run_as_it_was(tmp_path):
    from rnnkit.labs._common import lab_run

    out = tmp_path / "run"
    with lab_run(out, "adding") as work:
        (work / "metrics.json").write_text('{"run": 1}')
    for exc in (RuntimeError("diverged"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), lab_run(out, "adding", overwrite=True) as work:
            (work / "metrics.json").write_text('{"run": 2}')
            raise exc
        assert [p.name for p in tmp_path.iterdir()] == ["run"]
        assert (out / "metrics.json").read_text() == '{"run": 1}'
    with pytest.raises(RuntimeError), lab_run(tmp_path / "new", "adding") as work:
        (work / "half.json").write_text("{")
        raise RuntimeError("killed")
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # a new path: nothing at all


def test_one_writer_per_lab_run(tmp_path):
    import os

    from rnnkit.labs._common import lab_run

    out = tmp_path / "run"
    with lab_run(out, "adding") as work:
        (work / "metrics.json").write_text('{"run": 1}')
        with pytest.raises(ConfigError) as info, lab_run(out, "adding", overwrite=True):
            pass
    assert str(info.value).startswith("--out: expected an output no other rnnkit process is "
                                      "writing, got ")
    assert f"locked by process {os.getpid()} ({tmp_path / '.run.lock'})" in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert (out / "metrics.json").read_text() == '{"run": 1}'  # the first writer's run


def test_a_lab_run_path_must_name_a_directory(tmp_path):
    from rnnkit.labs._common import lab_run, run_path

    for bad in (".", tmp_path / ".."):
        with pytest.raises(ConfigError, match="--out: expected a directory path ending in a name "
                                              "without '..'"):
            run_path(bad, "adding")
        with pytest.raises(ConfigError, match="--out: expected a directory path"), \
                lab_run(bad, "adding"):
            pass
    assert run_path(None, "adding").parent.name == "runs"
