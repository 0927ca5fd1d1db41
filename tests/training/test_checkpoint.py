"""Checkpoints: atomic writes survive simulated crashes; loading runs no pickled code."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from rnnkit.errors import RnnkitError
from rnnkit.training import (
    Callback,
    EarlyStopping,
    ModelCheckpoint,
    Trainer,
    TrainerConfig,
    atomic_save,
    load_checkpoint,
    save_checkpoint,
)
from rnnkit.training import checkpoint as ckpt_module


def make_trainer(epochs: int = 2, callbacks: list[Callback] | None = None, **kw: Any) -> Trainer:
    torch.manual_seed(0)
    config = TrainerConfig(epochs=epochs, batch_size=8, lr=0.01, seed=0, device="cpu", **kw)
    return Trainer(nn.Linear(3, 1), config, callbacks=callbacks)


def data() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
    return x, x.sum(1, keepdim=True)


def test_atomic_save_round_trip(tmp_path: Path) -> None:
    path = atomic_save({"a": torch.arange(3), "b": [1, 2.5, None]}, tmp_path / "deep" / "x.pt")
    loaded = torch.load(path, weights_only=True)
    assert torch.equal(loaded["a"], torch.arange(3)) and loaded["b"] == [1, 2.5, None]
    assert os.listdir(path.parent) == ["x.pt"]


def test_trainer_checkpoint_loads_with_weights_only(tmp_path: Path) -> None:
    x, y = data()
    t = make_trainer(schedule="plateau", callbacks=[EarlyStopping(patience=3)])
    t.fit((x, y), val_data=(x, y))
    path = t.save_checkpoint(tmp_path / "c.pt")
    raw = torch.load(path, weights_only=True)  # would raise on any pickled class or function
    assert raw["format"] == "rnnkit.training.checkpoint" and raw["epoch"] == 2
    assert set(raw) >= {"model", "optimizer", "scheduler", "callbacks", "history", "rng", "config"}
    assert raw["config"]["schedule"] == "plateau"
    assert raw["callbacks"]["EarlyStopping"]["best_epoch"] in (1, 2)
    assert len(raw["history"]) == 2


def test_a_crash_during_the_write_keeps_the_previous_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "last.pt"
    save_checkpoint({"epoch": 1, "model": {"w": torch.ones(3)}}, target)
    before = target.read_bytes()

    def torn_save(obj: Any, fh: Any, *args: Any, **kwargs: Any) -> None:
        fh.write(b"PK\x03\x04 half a zip file")  # some bytes reach the temp file ...
        raise OSError("disk full")  # ... then the process dies

    monkeypatch.setattr(ckpt_module.torch, "save", torn_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint({"epoch": 2, "model": {"w": torch.zeros(3)}}, target)
    assert target.read_bytes() == before
    assert load_checkpoint(target)["epoch"] == 1
    assert os.listdir(tmp_path) == ["last.pt"]  # the temp file is cleaned up


def test_a_crash_before_the_rename_keeps_the_previous_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "last.pt"
    save_checkpoint({"epoch": 1}, target)
    before = target.read_bytes()

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt  # interrupted between fsync and os.replace

    monkeypatch.setattr(ckpt_module.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"epoch": 2}, target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["last.pt"]


def test_the_temp_file_is_fsynced_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: Any) -> None:
        assert Path(src).parent == tmp_path and Path(src).name.startswith(".last.pt.")
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(ckpt_module.os, "fsync", fsync)
    monkeypatch.setattr(ckpt_module.os, "replace", replace)
    save_checkpoint({"epoch": 1}, tmp_path / "last.pt")
    assert events[:2] == ["fsync", "replace"]


def test_model_checkpoint_crash_mid_run_leaves_the_last_good_epoch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = data()
    real_save = torch.save

    class CrashSaveAtEpoch3(Callback):
        def on_epoch_begin(self, trainer: Trainer, **context: Any) -> None:
            if context["epoch"] == 3:
                def torn(obj: Any, fh: Any, *a: Any, **k: Any) -> None:
                    real_save(obj, fh, *a, **k)
                    fh.truncate(100)  # the write is cut short ...
                    raise SystemExit("killed")  # ... and the process is killed

                monkeypatch.setattr(ckpt_module.torch, "save", torn)

    ckpt = ModelCheckpoint(tmp_path)
    with pytest.raises(SystemExit):
        make_trainer(5, [CrashSaveAtEpoch3(), ckpt]).fit((x, y), val_data=(x, y))
    state = load_checkpoint(ckpt.last_path)
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert sorted(os.listdir(tmp_path)) == ["best.pt", "last.pt"]


def test_load_rejects_missing_truncated_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(RnnkitError, match="resume_from: expected an existing checkpoint file"):
        load_checkpoint(tmp_path / "nope.pt")
    good = save_checkpoint({"epoch": 1, "w": torch.randn(100)}, tmp_path / "good.pt")
    (tmp_path / "cut.pt").write_bytes(good.read_bytes()[:200])
    with pytest.raises(RnnkitError, match="checkpoint: expected a file written by rnnkit"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({"weights": torch.ones(2)}, tmp_path / "other.pt")
    with pytest.raises(RnnkitError, match="expected format 'rnnkit.training.checkpoint'"):
        load_checkpoint(tmp_path / "other.pt")
    future = save_checkpoint({"epoch": 1}, tmp_path / "future.pt")
    raw = torch.load(future, weights_only=True)
    raw["version"] = 99
    torch.save(raw, future)
    with pytest.raises(RnnkitError, match="upgrade rnnkit"):
        load_checkpoint(future)


class Evil:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("echo pwned",))


def test_pickled_code_is_never_executed(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": "rnnkit.training.checkpoint", "payload": Evil()}, path)
    with pytest.raises(RnnkitError, match="torch.load failed"):
        load_checkpoint(path)


def test_load_checkpoint_restores_weights_for_inference(tmp_path: Path) -> None:
    x, y = data()
    t = make_trainer(3, schedule="cosine")
    t.fit((x, y))
    t.save_checkpoint(tmp_path / "c.pt")
    fresh = make_trainer(3, schedule="cosine")
    fresh.load_checkpoint(tmp_path / "c.pt")
    torch.testing.assert_close(fresh.predict(x), t.predict(x), rtol=0, atol=0)
    assert fresh.history == t.history and fresh.epoch == 3
