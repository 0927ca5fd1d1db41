import json

import pytest
import torch

from rnnkit.bundle import BundleError, load_bundle, save_bundle
from rnnkit.nn import LSTM


def test_round_trip_exact(tmp_path):
    torch.manual_seed(0)
    model = LSTM(2, 3, num_layers=2)
    path = save_bundle(tmp_path / "b", task="demo", model=model, config={"a": 1},
                       preprocessing={"scaler": {"min": [0.5]}}, metrics={"rmse": 0.1})
    b = load_bundle(path, task="demo")
    assert b.task == "demo" and b.config == {"a": 1} and b.metrics == {"rmse": 0.1}
    assert b.preprocessing == {"scaler": {"min": [0.5]}}
    other = LSTM(2, 3, num_layers=2)
    other.load_state_dict(b.state_dict)
    x = torch.randn(1, 4, 2)
    assert torch.equal(other(x)[0], model(x)[0])
    assert set(b.manifest["files"]) == {"model.safetensors", "config.json",
                                        "preprocessing.json", "metrics.json"}


def test_interrupted_save_keeps_the_previous_bundle(tmp_path, monkeypatch):
    model = LSTM(2, 3)
    path = save_bundle(tmp_path / "b", task="demo", model=model, config={"v": 1},
                       preprocessing={})
    import rnnkit.bundle.bundle as mod

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mod, "_write_json", boom)
    with pytest.raises(KeyboardInterrupt):
        save_bundle(path, task="demo", model=model, config={"v": 2}, preprocessing={})
    assert load_bundle(path).config == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # no temp directory left


def test_corruption_and_wrong_task_are_detected(tmp_path):
    path = save_bundle(tmp_path / "b", task="demo", model=LSTM(2, 3), config={},
                       preprocessing={})
    with pytest.raises(BundleError, match="task: expected a bundle of task 'other', got 'demo'"):
        load_bundle(path, task="other")
    (path / "config.json").write_text(json.dumps({"task": "demo", "evil": 1}))
    with pytest.raises(BundleError, match="bundle file config.json: expected a file matching"):
        load_bundle(path)
    with pytest.raises(BundleError, match="path: expected an rnnkit bundle directory"):
        load_bundle(tmp_path / "nothing")


def test_tied_weights_are_saved_as_copies_and_load_back_equal(tmp_path):
    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(5, 3)
            self.head = torch.nn.Linear(3, 5, bias=False)
            self.head.weight = self.embed.weight  # one tensor, two names

    model = Tied()
    save_bundle(tmp_path / "b", task="t", model=model, config={}, preprocessing={})
    loaded = load_bundle(tmp_path / "b")
    assert torch.equal(loaded.state_dict["embed.weight"], model.embed.weight.detach())
    assert torch.equal(loaded.state_dict["head.weight"], model.embed.weight.detach())
