from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit.analysis.gradients import gradient_flow
from rnnkit.nn import LSTM
from rnnkit.report.diagnostics import Limits, _Bound, _flow_table, _fresh, model_sections
from rnnkit.report.sample import capture_sample

FAST = Limits(tsne_points=30, tsne_iter=250, sensitivity_examples=3, ig_steps=4)


class Series(nn.Module):
    """Float series (B, T, 2) with lengths -> LSTM -> 3 class logits from the last real step."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = LSTM(2, 4)
        self.head = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        out, _ = self.rnn(x, lengths=lengths)  # (B, T, 4)
        if lengths is None:
            return self.head(out[:, -1])
        last = out[torch.arange(x.shape[0]), lengths - 1]  # (B, 4) the last real step
        return self.head(last)


class Tokens(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(9, 2)
        self.rnn = LSTM(2, 4)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.rnn(self.embed(ids))[0]  # (B, T, H): one output per step, like a tagger


@pytest.fixture
def series_sample():
    torch.manual_seed(0)
    net = Series().eval()
    x = torch.randn(6, 9, 2)
    lengths = torch.tensor([9, 4, 9, 2, 7, 9])
    sample = capture_sample(net, lambda: net(x, lengths=lengths), color_from="class")
    return net, sample


def titles(sections):
    return [s.title for s in sections]


def test_every_diagnostic_is_drawn_for_a_float_series_model(series_sample):
    net, sample = series_sample
    sections = model_sections(net, sample, limits=FAST)
    assert titles(sections) == ["Gradient flow through time", "Recurrent weights",
                                "Hidden states", "Sensitivity over time steps"]
    kinds = {s.title: [b.kind for b in s.blocks] for s in sections}
    # trained against initial in one figure, and the LSTM's gates
    assert kinds["Gradient flow through time"].count("figure") == 2
    assert kinds["Hidden states"].count("figure") == 3  # PCA, t-SNE, unit heat map
    assert kinds["Sensitivity over time steps"].count("figure") == 2
    assert not any(b.kind == "note" and "could not" in b.body
                   for s in sections for b in s.blocks)
    # 40 real steps > 30: t-SNE ran on a sample, and the page says so
    assert any(b.body.startswith("t-SNE ran on a random sample of 30 of the 40 states")
               for b in sections[2].blocks if b.kind == "note")
    named = model_sections(net, sample, name="GRU #2", limits=FAST)
    assert named[0].title == "Gradient flow through time (GRU #2)"
    assert named[0].anchor == "gradients-gru--2"


def test_the_flow_table_holds_gradient_flow_of_the_trained_and_fresh_layer(series_sample):
    net, sample = series_sample
    fresh = _fresh(net.rnn, seed=3)
    again = _fresh(net.rnn, seed=3)
    for a, b in zip(fresh.parameters(), again.parameters()):
        torch.testing.assert_close(a, b)  # seeded: the same fresh initialization
    assert not torch.equal(fresh.cells[0].weight_hh, net.rnn.cells[0].weight_hh)
    flows = {"trained": gradient_flow(net.rnn, sample.layer_input),
             "initial": gradient_flow(fresh, sample.layer_input)}
    frame = _flow_table(flows)
    trained = flows["trained"].norms[0]
    row = frame.iloc[0]
    assert row["weights"] == "trained" and row["|dL/dh_1|"] == trained[0]
    assert row["|dL/dh_T|"] == trained[-1]
    assert row["log10 ratio (1 vs T)"] == pytest.approx(np.log10(trained[0] / trained[-1]))


def test_sensitivity_passes_the_lengths_padded_steps_score_zero(series_sample):
    net, sample = series_sample
    from rnnkit.analysis.sensitivity import occlusion

    bound = _Bound(net, 0, {"lengths": sample.kwargs["lengths"]})
    occ = occlusion(bound, sample.inputs[0], extra=(sample.kwargs["lengths"],))
    lengths = sample.kwargs["lengths"].numpy()
    for b, n in enumerate(lengths):
        assert np.all(occ.attribution[b, n:] == 0.0)  # past its length nothing changes
        assert np.all(occ.attribution[b, :n] > 0.0)


def test_token_models_skip_sensitivity_and_a_failure_becomes_a_note():
    torch.manual_seed(0)
    net = Tokens().eval()
    ids = torch.randint(0, 9, (2, 1))  # 2 sequences of one step: too few states to project
    sample = capture_sample(net, lambda: net(ids))
    sections = model_sections(net, sample, limits=FAST)
    notes = [b.body for s in sections for b in s.blocks if b.kind == "note"]
    assert any(n.startswith("Sensitivity over time steps is not drawn: the network's input "
                            "is token ids and its output is not one row") for n in notes)
    assert any(n.startswith("hidden states could not be drawn: states: expected at least 3 "
                            "real steps") for n in notes)
    # the gradient flow (with its gates) and the weights are still there
    assert [b.kind for b in sections[0].blocks].count("figure") == 2
