import json
import os
import re

import pytest
import torch

from rnnkit.bundle import BundleError, load_bundle, load_weights, reading, save_bundle
from rnnkit.errors import ConfigError
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


def _linear_bundle(path, out_features=2):
    return save_bundle(path, task="demo", model=torch.nn.Linear(3, out_features), config={},
                       preprocessing={})


def test_save_replaces_an_earlier_bundle_and_an_empty_folder(tmp_path):
    path = _linear_bundle(tmp_path / "b", 2)
    _linear_bundle(path, 4)
    assert load_bundle(path).state_dict["weight"].shape == (4, 3)
    (tmp_path / "empty").mkdir()
    _linear_bundle(tmp_path / "empty")
    assert load_bundle(tmp_path / "empty").task == "demo"


def test_save_refuses_a_users_file_and_folder_and_leaves_them(tmp_path):
    user_file = tmp_path / "notes.txt"
    user_file.write_text("my notes")
    with pytest.raises(BundleError, match=re.escape(
            f"path: expected a new path or an rnnkit bundle to replace, got '{user_file}', a "
            "file. choose another path; rnnkit replaces only a directory with its manifest.json")):
        _linear_bundle(user_file)
    assert user_file.read_text() == "my notes"

    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(BundleError, match=re.escape(
            f"path: expected a new path or an rnnkit bundle to replace, got '{folder}', a "
            "directory that is not an rnnkit bundle")):
        _linear_bundle(folder)
    assert (folder / "cat.jpg").read_bytes() == b"\xff\xd8"
    assert sorted(p.name for p in folder.iterdir()) == ["cat.jpg"]

    (folder / "manifest.json").write_text('{"not": "ours"}')  # a manifest of another format
    with pytest.raises(BundleError, match="a directory that is not an rnnkit bundle"):
        _linear_bundle(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["cat.jpg", "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "photos"]  # no temp left


def test_save_refuses_a_link_and_a_file_as_parent(tmp_path):
    target = _linear_bundle(tmp_path / "b")
    link = tmp_path / "current"
    os.symlink(target, link)
    with pytest.raises(BundleError, match=re.escape(f"got '{link}', a symbolic link")):
        _linear_bundle(link)
    assert link.is_symlink() and load_bundle(link).task == "demo"
    (tmp_path / "file").write_text("x")
    with pytest.raises(BundleError, match="path: expected a path whose parent is a directory"):
        _linear_bundle(tmp_path / "file" / "b")
    assert (tmp_path / "file").read_text() == "x"


def test_save_refuses_tensors_a_bundle_cannot_hold(tmp_path):
    with pytest.raises(BundleError, match=re.escape(
            "model.safetensors tensor 'mask': expected a floating point or integer tensor, "
            "got dtype torch.bool")):
        save_bundle(tmp_path / "b", task="demo", model={"mask": torch.ones(2, dtype=torch.bool)},
                    config={}, preprocessing={})
    with pytest.raises(BundleError, match="task: expected a task name, got ''"):
        save_bundle(tmp_path / "b", task="", model={}, config={}, preprocessing={})
    assert list(tmp_path.iterdir()) == []


def test_load_weights_loads_exactly():
    torch.manual_seed(0)
    source, target = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    assert load_weights(target, source.state_dict()) is target
    assert torch.equal(target.weight, source.weight) and torch.equal(target.bias, source.bias)


def test_load_weights_names_the_tensor_and_both_shapes():
    model = torch.nn.Linear(3, 2)
    wrong = torch.nn.Linear(3, 4).state_dict()
    with pytest.raises(BundleError, match=re.escape(
            "model.safetensors tensor 'weight': expected shape (2, 3), as the model built from "
            "config.json has it, got shape (4, 3). the weights do not belong to this config")):
        load_weights(model, wrong)
    with pytest.raises(BundleError, match=re.escape(
            "model.safetensors tensor 'bias': expected present, as the model built from "
            "config.json has it, got no such tensor (1 missing)")):
        load_weights(model, {"weight": torch.zeros(2, 3)})
    with pytest.raises(BundleError, match=re.escape(
            "model.safetensors tensor 'extra': expected a tensor of the model built from "
            "config.json, got one the model does not have (1 such)")):
        load_weights(model, {**model.state_dict(), "extra": torch.zeros(1)})
    with pytest.raises(BundleError, match=re.escape(
            "model.safetensors tensor 'weight': expected dtype like torch.float32, got dtype "
            "torch.int64")):
        load_weights(model, {"weight": torch.zeros(2, 3, dtype=torch.long),
                             "bias": torch.zeros(2)})


def test_a_bundle_with_weights_of_another_config_is_refused_on_load_weights(tmp_path):
    # what Task._from_bundle does: build the model from the config, then load_weights
    path = _linear_bundle(tmp_path / "b", 4)
    with pytest.raises(BundleError, match=re.escape(
            "model.safetensors tensor 'weight': expected shape (2, 3)")):
        load_weights(torch.nn.Linear(3, 2), load_bundle(path).state_dict)


def _missing_key():
    return {"horizon": 1}["look_back"]


def _config_error():
    raise ConfigError("model: expected a dict, got 'x'")


def _bundle_error():
    raise BundleError("manifest.json task: as it was")


@pytest.mark.parametrize(("file", "fail", "message"), [
    ("preprocessing.json", _missing_key,
     "bundle file preprocessing.json: expected the content its task wrote, got no key "
     "'look_back'. the bundle was edited or written by another rnnkit version: save it again"),
    ("metrics.json", lambda: float("x"),
     "bundle file metrics.json: expected the content its task wrote, got a value its task "
     "cannot read (ValueError: could not convert string to float: 'x'). the bundle was"),
    ("config.json", _config_error, "bundle file config.json: model: expected a dict, got 'x'"),
    ("config.json", _bundle_error, "manifest.json task: as it was"),
])
def test_reading_names_the_file_a_task_could_not_read(file, fail, message):
    with pytest.raises(BundleError, match="^" + re.escape(message)), reading(file):
        fail()


def test_reading_changes_nothing_when_all_goes_well():
    with reading("config.json"):
        value = 1
    assert value == 1
