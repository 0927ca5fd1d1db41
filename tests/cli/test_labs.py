"""rnnkit lab, datasets and examples."""

from rnnkit.examples import example_path


def test_datasets_lists_series_corpora_and_labs(cli):
    code, stdout, _ = cli(["datasets"])
    assert code == 0
    for name in ("battery", "co2", "sunspots", "load_brown_pos", "labs (rnnkit lab NAME)"):
        assert name in stdout


def test_lab_reads_a_toml_config_and_set_wins(tmp_path, cli, monkeypatch):
    import rnnkit.labs.vowels as vowels

    seen = {}

    def fake_run(config=None, *, out_dir=None, quick=False, seed=None, overwrite=False):
        seen.update(config=config, quick=quick, seed=seed)

    monkeypatch.setattr(vowels, "run", fake_run)
    path = tmp_path / "bm.toml"
    path.write_text('[data]\ndataset = "BasicMotions"\n[training]\nepochs = 200\nbatch_size = 8\n')
    code, _, _ = cli(["lab", "vowels", "--config", path, "--set", "training.epochs=5",
                      "--set", "bar.min_accuracy=0.9", "--seed", "2"])
    assert code == 0
    assert seen["config"] == {"data": {"dataset": "BasicMotions"},
                              "training": {"epochs": 5, "batch_size": 8},
                              "bar": {"min_accuracy": 0.9}}
    assert seen["seed"] == 2
    code, _, err = cli(["lab", "vowels", "--config", tmp_path / "none.toml"])
    assert code == 2 and "--config: expected an existing TOML file" in err
    (tmp_path / "bad.toml").write_text("[data\n")
    code, _, err = cli(["lab", "vowels", "--config", tmp_path / "bad.toml"])
    assert code == 2 and "--config: expected valid TOML" in err


def test_example_basicmotions_config_is_a_valid_vowels_override():
    import tomllib

    from rnnkit.labs import vowels
    from rnnkit.labs._common import merge_config

    path = example_path("basicmotions")
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    merged = merge_config(vowels.DEFAULTS, table)  # refuses unknown keys
    assert merged["data"]["dataset"] == "BasicMotions"
