"""rnnkit tune: a study shared through its storage, the best config written as TOML."""

import optuna

from rnnkit.tasks.forecasting import ForecastConfig


def test_tune_shares_a_study_through_its_storage(config, tmp_path, cli):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    for _ in range(2):  # a second worker (or a rerun) continues the same study
        code, stdout, _ = cli(["tune", config, "--trials", 2, "--storage", storage,
                               "--study", "s", "--out", tmp_path])
        assert code == 0 and "best validation" in stdout and "rmse" in stdout
    study = optuna.load_study(study_name="s", storage=storage)
    assert len(study.trials) == 4
    assert set(study.best_params) == {"model.hidden_size", "model.num_layers", "model.dropout",
                                      "model.recurrent_dropout", "training.lr",
                                      "training.batch_size", "forecast.look_back"}
    best = ForecastConfig.from_toml(tmp_path / "s-best.toml")
    assert best.model.hidden_size == study.best_params["model.hidden_size"]
    assert best.forecast.look_back == study.best_params["forecast.look_back"]
    assert best.training.epochs == 2  # the rest of the config is kept
    first = (tmp_path / "s-best.toml").read_text().splitlines()[0]
    assert first.startswith("# best of study 's': validation rmse = ")


def test_tune_takes_set_and_a_space_file(config, tmp_path, cli):
    space = tmp_path / "space.toml"
    space.write_text('[space]\n"model.hidden_size" = [4, 6]\n')
    code, stdout, _ = cli(["tune", config, "--trials", 1, "--out", tmp_path, "--space", space,
                           "--set", "model.num_layers=2", "--study", "t"])
    assert code == 0
    best = ForecastConfig.from_toml(tmp_path / "t-best.toml")
    assert best.model.hidden_size in (4, 6) and best.model.num_layers == 2
    space.write_text('[space]\n"model.hiden_size" = [4, 6]\n')
    code, _, err = cli(["tune", config, "--trials", 1, "--out", tmp_path, "--space", space])
    assert code == 2 and "did you mean 'hidden_size'" in err


def test_tune_a_sequence_task_on_its_example(tmp_path, cli):
    """Trials of a text classifier: trained on the fit part, scored by accuracy on a validation
    part cut from it (the study maximizes), the best config a valid classification config."""
    from rnnkit.tasks.classification import ClassifierConfig

    code, _, err = cli(["examples", "classification", "--to", tmp_path / "ex"])
    assert code == 0, err
    code, stdout, err = cli(["tune", tmp_path / "ex" / "classification.toml", "--trials", 2,
                             "--out", tmp_path, "--study", "c", "--set", "training.epochs=1"])
    assert code == 0, err
    assert "accuracy" in stdout
    study = optuna.load_study(study_name="c", storage=f"sqlite:///{tmp_path / 'tune.db'}")
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE and len(study.trials) == 2
    best = ClassifierConfig.from_toml(tmp_path / "c-best.toml")
    assert best.model.pooling == study.best_params["model.pooling"]
    assert best.training.epochs == 1 and 0.0 <= study.best_value <= 1.0
