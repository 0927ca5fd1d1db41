"""rnnkit train / evaluate / predict end to end, for every task, on small files."""

import json
import math

import pandas as pd
import pytest

from rnnkit.datasets import load_dataset


def test_train_evaluate_predict(config, tmp_path, cli):
    out = tmp_path / "run"
    code, stdout, _ = cli(["train", config, "--out", out])
    assert code == 0 and "rnnkit model" in stdout and "persistence" in stdout
    assert {"config.toml", "metrics.json", "history.json", "model", "report.html",
            "report"} <= {p.name for p in out.iterdir()}
    assert "report:" in stdout and "report.html" in stdout
    quiet = tmp_path / "no-report"
    code, stdout, _ = cli(["train", config, "--out", quiet, "--no-report"])
    assert code == 0 and not (quiet / "report.html").exists() and "report:" not in stdout
    code, stdout, _ = cli(["evaluate", out])
    assert code == 0 and "test part" in stdout
    history = load_dataset("battery", n_cycles=200, seed=0).series.frame.iloc[:50]
    history.to_csv(tmp_path / "hist.csv")
    forecast = tmp_path / "forecast.csv"
    code, _, _ = cli(["predict", out, "--input", tmp_path / "hist.csv", "--horizon", 3,
                      "--output", forecast])
    assert code == 0
    frame = pd.read_csv(forecast, index_col=0)
    assert len(frame) == 3 and list(frame.index) == [50, 51, 52]


def test_errors_are_one_line_without_traceback(config, tmp_path, cli):
    code, _, err = cli(["train", config, "--set", "trainig.epochs=3"])
    assert code == 2
    assert "did you mean 'training'" in err and "Traceback" not in err
    code, _, err = cli(["lab", "nosuch"])
    assert code == 2 and "lab: expected one of [" in err and "'battery'" in err
    code, _, err = cli(["train", tmp_path / "missing.toml"])
    assert code == 2 and "Traceback" not in err
    out = tmp_path / "run"
    cli(["train", config, "--out", out, "--no-report"])
    code, _, err = cli(["train", config, "--out", out, "--no-report"])
    assert code == 2 and "out_dir: expected a path that does not exist yet" in err


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "x..y"])
def test_a_config_name_that_is_not_one_directory_name_is_refused(config, tmp_path, cli,
                                                                 monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(["train", config, "--set", f"name={name!r}".replace("'", '"')])
    assert code == 2 and "Traceback" not in err
    assert f"name: expected a name without path separators or '..' (not empty), got {name!r}" \
        in " ".join(err.split())
    assert not (tmp_path / "runs").exists() and not (tmp_path.parent / "escape").exists()


def _tokens_only(conll, dest):
    """A CoNLL file without its tag column: what a user predicts on."""
    lines = [line.split()[0] if line.strip() else "" for line in conll.read_text().splitlines()]
    dest.write_text("\n".join(lines) + "\n")
    return dest


def _first_column(tsv, dest):
    dest.write_text("\n".join(line.split("\t")[0] for line in tsv.read_text().splitlines()[:20]))
    return dest


@pytest.mark.parametrize(("example", "predict_input", "columns"), [
    ("forecasting", lambda d, tmp: d / "nile.csv", {"volume"}),
    ("classification", lambda d, tmp: d / "vader_sample.csv", {"prediction"}),
    ("tagging", lambda d, tmp: _tokens_only(d / "brown_sample.conll", tmp / "tokens.txt"),
     {"token", "prediction"}),
    ("language_model", lambda d, tmp: d / "sonnet_prompts.txt", {"prompt", "generated"}),
    ("seq2seq", lambda d, tmp: _first_column(d / "cmudict_sample.tsv", tmp / "words.txt"),
     {"source", "prediction"}),
])
def test_every_task_trains_evaluates_and_predicts_from_its_example(
        example, predict_input, columns, tmp_path, cli):
    """The shipped example of each task, copied where a user would have it, on its small
    real data file: train (1-2 epochs), evaluate the saved run, predict into a CSV."""
    code, _, err = cli(["examples", example, "--to", tmp_path / "ex"])
    assert code == 0, err
    config = tmp_path / "ex" / f"{example}.toml"
    run = tmp_path / "run"
    code, stdout, err = cli(["train", config, "--out", run, "--quiet", "--no-report",
                             "--set", "training.epochs=2", "--set", "training.max_time=60"])
    assert code == 0, err
    assert ((run / "model" / "manifest.json").is_file() and "baseline" in stdout.lower()) or \
        example == "forecasting"
    assert (run / "rnnkit-run.json").is_file() or example == "forecasting"
    code, stdout, err = cli(["evaluate", run, "--json", tmp_path / "report.json"])
    assert code == 0, err
    report = json.loads((tmp_path / "report.json").read_text())
    assert math.isfinite(report["model"][report["primary"]])
    assert report["baselines"], "every evaluation shows its baselines, after loading too"
    if example != "forecasting":  # the saved model scores the test part as it did in train
        at_train = json.loads((run / "report.json").read_text())
        key = report["primary"]
        assert report["model"][key] == pytest.approx(at_train["model"][key])
        assert set(report["baselines"]) == set(at_train["baselines"])
        for name, metrics in report["baselines"].items():
            assert metrics[key] == pytest.approx(at_train["baselines"][name][key]), name
    out = tmp_path / "pred.csv"
    inputs = predict_input(tmp_path / "ex" / "data", tmp_path)
    code, _, err = cli(["predict", run, "--input", inputs, "--output", out])
    assert code == 0, err
    frame = pd.read_csv(out)
    assert len(frame) > 0 and columns <= set(frame.columns)
    code, _, err = cli(["predict", run, "--input", inputs,
                        "--output", run / "model" / "config.json"])
    assert code == 2 and "--output: expected a path outside the run directory" in err


def test_predict_scores_in_chunks_into_parquet_or_csv(tmp_path, cli):
    """`predict --output X.parquet|X.csv --chunk-rows N` writes what the Python API's
    predict_frame gives for the whole file; a bad input leaves the previous output as it was."""
    from pandas.testing import assert_frame_equal

    from rnnkit.cli.tasks import load_run

    code, _, err = cli(["examples", "classification", "--to", tmp_path / "ex"])
    assert code == 0, err
    run = tmp_path / "run"
    code, _, err = cli(["train", tmp_path / "ex" / "classification.toml", "--out", run,
                        "--quiet", "--no-report", "--set", "training.epochs=1",
                        "--set", "model.encoder.hidden_size=4"])
    assert code == 0, err
    inputs = tmp_path / "ex" / "data" / "vader_sample.csv"
    task = load_run(run)
    expected = task.predict_frame(task.read_data(inputs, labelled=False))
    for suffix in (".parquet", ".csv"):
        out = tmp_path / f"scored{suffix}"
        code, stdout, err = cli(["predict", run, "--input", inputs, "--output", out,
                                 "--chunk-rows", 7])
        assert code == 0, err
        assert f"predictions written to {out}" in " ".join(stdout.split())
        assert "18 chunks" in stdout and err == ""  # no bar when stderr is no terminal
        if suffix == ".parquet":
            assert_frame_equal(pd.read_parquet(out), expected)
        else:
            expected.to_csv(tmp_path / "want.csv", index=False)
            assert_frame_equal(pd.read_csv(out), pd.read_csv(tmp_path / "want.csv"))
    code, stdout, err = cli(["predict", run, "--input", inputs, "--output",
                             tmp_path / "quiet.csv", "--quiet"])
    assert code == 0 and stdout == "" and (tmp_path / "quiet.csv").is_file()
    before = (tmp_path / "scored.csv").read_bytes()
    (tmp_path / "bad.csv").write_text("words,label\nhello,positive\n")
    code, _, err = cli(["predict", run, "--input", tmp_path / "bad.csv", "--output",
                        tmp_path / "scored.csv"])
    assert code == 2 and "expected a text column 'text'" in err
    assert (tmp_path / "scored.csv").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    code, _, err = cli(["predict", run, "--input", inputs, "--output", tmp_path / "x.json"])
    assert code == 2 and "--output: expected a file ending in ['.csv', '.parquet', '.pq']" in err
    code, stdout, err = cli(["predict", run, "--input", inputs])  # printed, as before
    assert code == 0 and "prediction" in stdout and "proba_positive" in stdout
    code, _, err = cli(["predict", run, "--input", inputs, "--horizon", 2])
    assert code == 2 and "--horizon: expected unset for a classification model" in err
