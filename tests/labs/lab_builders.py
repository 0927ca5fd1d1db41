"""Builders the lab tests share: small synthetic stand-ins for the corpora (VADER sentences,
Japanese vowels, Brown sentences), the check of a run directory, and the skip of a real-data
test whose corpus is neither cached nor reachable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnkit.datasets.cache import is_cached, registry_reachable


def _needs(archive):
    if not is_cached(archive) and not registry_reachable(archive.registry, timeout=3):
        pytest.skip(f"{archive.label} is not cached and its registry is unreachable")


def _fake_vader(threshold=0.5, sources=None):
    rng = np.random.default_rng(0)
    out = []
    for i in range(200):
        label = i % 2
        words = list(rng.choice(["the", "film", "was", "plot"], size=3))
        words.insert(1, "great" if label else "awful")
        out.append((" ".join(words), label))
    return out


def _fake_vowels(split="train"):
    rng = np.random.default_rng(0 if split == "train" else 1)
    X, y = [], []
    for i in range(45 if split == "train" else 27):
        c = i % 3
        X.append(rng.normal(c, 0.3, size=(int(rng.integers(7, 15)), 12)))
        y.append(str(c + 1))
    return X, y


def _fake_brown(tagset="universal"):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(150):
        words, tags = [], []
        for _ in range(int(rng.integers(1, 4))):
            words += [str(rng.choice(["the", "a"])), str(rng.choice(["dog", "cat"])),
                      str(rng.choice(["runs", "sleeps"]))]
            tags += ["DET", "NOUN", "VERB"]
        out.append((words, tags))
    return out


def _check_run_dir(run_dir, task_cls, plots=("confusion.png",)):
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == sorted(["config.json", "history.json", "metrics.json", "model",
                            "report", "report.html", "rnnkit-run.json", *plots])  # the marker
    assert_report(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history) == metrics["epochs_run"] and "loss" in history[0]
    return metrics, config, task_cls.load(run_dir / "model")



def _files(run_dir):
    return {p.name for p in run_dir.iterdir()}



def assert_report(run_dir, models=("model",), diagnostics=True):
    """The lab wrote its report.html, self-contained, with every model's diagnostics drawn
    (nothing "could not be drawn") and each model's probe sample kept."""
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "Metrics against the baselines" in html
    assert "could not be drawn" not in html and "could not be loaded" not in html
    if diagnostics:
        for name in models:
            assert (run_dir / "report" / "samples" / name / "sample.safetensors").is_file()
        assert html.count("Gradient flow through time") >= len(models)
        assert "Hidden states" in html
    return html
