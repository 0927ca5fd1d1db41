from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from rnnkit.analysis import AttentionMaps, attention_maps, plot_attention
from rnnkit.errors import DataError


def test_alignment_and_entropy_are_read_off_the_weights():
    w = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    maps = attention_maps(torch.tensor(w), sources=[["le", "chat", "noir"]],
                          outputs=[["the", "black", "cat"]])
    assert isinstance(maps, AttentionMaps) and maps.titles == ("lechatnoir",)
    assert maps.alignment() == [["le", "chat", "le"]]  # ties go to the first source token
    np.testing.assert_allclose(maps.entropy()[0], [0.0, np.log(2), np.log(3)], atol=1e-12)


def test_heat_maps_are_drawn(tmp_path):
    rng = np.random.default_rng(0)
    w1 = rng.dirichlet(np.ones(4), size=3)  # 3 output tokens over 4 source tokens
    w2 = rng.dirichlet(np.ones(2), size=5)
    maps = attention_maps([w1, w2], sources=[list("abcd"), list("xy")],
                          outputs=[["A", "B", "C"], list("VWXYZ")], titles=["one", "two"])
    fig = maps.plot()
    assert [ax.get_title() for ax in fig.axes] == ["one", "two"]
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["x", "y"]
    path = plot_attention(w1, tmp_path / "one.png", sources=[list("abcd")],
                          outputs=[["A", "B", "C"]])
    assert imread(path).shape[1] >= 300


def test_misuse_names_the_argument(tmp_path):
    w1 = np.full((3, 4), 0.25)
    with pytest.raises(DataError, match=r"weights\[0\]: expected shape \(2, 4\) \(output tokens, "
                                        r"source tokens\), got shape \(3, 4\)"):
        attention_maps([w1], sources=[list("abcd")], outputs=[["A", "B"]])
    with pytest.raises(DataError, match=r"sources/outputs: expected 2 of each"):
        attention_maps([w1, w1], sources=[list("abcd")], outputs=[["A"]])
    with pytest.raises(DataError, match="weights: expected at least one attention matrix"):
        attention_maps([], sources=[], outputs=[])
    with pytest.raises(DataError, match="titles: expected 1 titles"):
        attention_maps(w1, sources=[list("abcd")], outputs=[list("ABC")], titles=["a", "b"])
    with pytest.raises(DataError):
        plot_attention([w1], tmp_path / "bad.png", sources=[list("abcd")], outputs=[["A"]])
    assert not (tmp_path / "bad.png").exists()
