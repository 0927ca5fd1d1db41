"""Progress on stderr: one line per epoch, the rich bar, silence, and what "auto" picks."""

from __future__ import annotations

import io
import re
import sys
from typing import Any

import pytest
import torch
from rich.console import Console
from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.training import EpochLines, ProgressBar, Trainer, TrainerConfig
from rnnkit.training.progress import progress_callback


def fit(progress: str, epochs: int = 3, callbacks: list[Any] | None = None,
        **kw: Any) -> Trainer:
    torch.manual_seed(0)
    x = torch.randn(24, 3, generator=torch.Generator().manual_seed(0))
    y = x.sum(1, keepdim=True)
    config = TrainerConfig(epochs=epochs, batch_size=8, lr=0.01, seed=0, device="cpu",
                           progress=progress, **kw)
    trainer = Trainer(nn.Linear(3, 1), config, callbacks=callbacks)
    trainer.fit((x, y), val_data=(x, y))
    return trainer


def test_epochs_mode_prints_one_line_per_epoch_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    trainer = fit("epochs")
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 3
    for k, line in enumerate(lines, start=1):
        assert re.fullmatch(rf"epoch {k}/3  loss \d+\.\d{{4}}  val_loss \d+\.\d{{4}}  \d+\.\ds", line)
    assert f"loss {trainer.history['loss'][-1]:.4f}" in lines[-1]
    assert f"val_loss {trainer.history['val_loss'][-1]:.4f}" in lines[-1]


def test_epoch_lines_say_why_the_run_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    fit("epochs", epochs=5, max_time=1e-9)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("epoch 1/5  loss ")
    assert lines[0].endswith("  stopped: max_time")


def test_off_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    trainer = fit("off")
    assert not any(isinstance(cb, (ProgressBar, EpochLines)) for cb in trainer.callbacks)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_bar_mode_draws_epochs_batches_and_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=160, color_system=None)
    installed: list[ProgressBar] = []
    original = ProgressBar.on_fit_begin

    def on_fit_begin(self: ProgressBar, trainer: Any, **context: Any) -> None:
        self.console = console  # the bar the trainer installed, drawn into the buffer
        installed.append(self)
        original(self, trainer, **context)

    monkeypatch.setattr(ProgressBar, "on_fit_begin", on_fit_begin)
    fit("bar")
    out = buf.getvalue()
    assert len(installed) == 1 and installed[0].per_batch and not installed[0].active
    assert "epochs" in out and "3/3" in out and "eta" in out
    assert "val_loss=" in out and "loss=" in out


def test_auto_is_the_bar_on_a_terminal_and_lines_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert isinstance(progress_callback("auto"), EpochLines)  # pytest's stderr is no terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert isinstance(progress_callback("auto"), ProgressBar)
    monkeypatch.setenv("CI", "true")
    assert isinstance(progress_callback("auto"), EpochLines)
    assert progress_callback("off") is None
    with pytest.raises(ConfigError, match=r"progress: expected one of \['auto', 'bar', 'epochs', 'off'\]"):
        progress_callback("loud")  # type: ignore[arg-type]


def test_a_progress_callback_passed_in_replaces_the_configured_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    trainer = fit("epochs", epochs=2, callbacks=[EpochLines(stream)])
    assert sum(isinstance(cb, (ProgressBar, EpochLines)) for cb in trainer.callbacks) == 1
    assert len(stream.getvalue().splitlines()) == 2
    assert capsys.readouterr().err == ""
