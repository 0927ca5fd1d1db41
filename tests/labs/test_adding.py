"""rnnkit.labs.adding in its quick version: the four cells (rnn, irnn, lstm, gru) train and
are saved, and the trivial baseline's MSE is near 1/6."""

import json

from rnnkit.labs import adding


def test_adding_quick(tmp_path):
    metrics = adding.run(out_dir=tmp_path, quick=True)
    assert set(metrics["cells"]) == {"rnn", "irnn", "lstm", "gru"}
    assert 0.05 < metrics["baseline_mse"] < 0.3
    assert {"rnn", "irnn", "lstm", "gru"} == {p.name for p in (tmp_path / "models").iterdir()}
    assert "lstm" in json.loads((tmp_path / "history.json").read_text())

