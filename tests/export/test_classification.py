"""The classifier's graph: raw series (scaled inside) or token ids in, probabilities out,
equal to SequenceClassifier.predict_proba within 1e-5 for every pooling and cell, at batch
sizes and padded lengths other than any example's; the network-only and one-step graphs."""

import numpy as np
import pytest
import torch
from export_builders import CLASSIFIERS, fitted_classifier, session

from rnnkit.errors import ConfigError
from rnnkit.export.classification import classifier_graph


def _padded(task, X, extra):
    """Graph inputs of samples ``X``: raw series (N, T, F) or ids (N, T), padded ``extra``
    steps beyond the longest, and their lengths."""
    inputs = task.inputs_
    if inputs.kind == "numeric":
        T = max(len(s) for s in X) + extra
        raw = np.zeros((len(X), T, X[0].shape[1]), np.float32)
        for i, s in enumerate(X):
            raw[i, : len(s)] = s
        return {"inputs": raw, "lengths": np.array([len(s) for s in X], np.int64)}
    ids, lens = inputs.transform(X)
    ids = torch.nn.functional.pad(ids, (0, extra))
    return {"ids": ids.numpy(), "lengths": lens.numpy()}


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_graph_equals_predict_proba_at_several_batches_and_lengths(name):
    task, X = fitted_classifier(name)
    g, meta = classifier_graph(task)
    sess = session(g.model())
    for start, n, extra in [(0, 1, 0), (3, 4, 3), (10, 9, 1)]:
        batch = X[start : start + n]
        (got,) = sess.run(None, _padded(task, batch, extra))
        np.testing.assert_allclose(got, task.predict_proba(batch), atol=1e-5, rtol=0)
    assert meta["classes"] == list(task.classes_)


def test_text_metadata_holds_what_encodes_a_text():
    task, X = fitted_classifier("text_lstm_bi_attention")
    _, meta = classifier_graph(task)
    assert meta["kind"] == "text" and meta["tokenizer"] and meta["vocabulary"]
    assert set(meta["inputs"]) == {"ids", "lengths"}


@pytest.mark.parametrize("name", ["text_cho_ln_mean", "series_rnn_stacked_max"])
def test_network_only_graph_gives_the_torch_logits(name):
    task, X = fitted_classifier(name)
    x, lens = task.inputs_.transform(X[:7])
    with torch.no_grad():
        want = task.model_(x, lens).numpy()
    (got,) = session(classifier_graph(task, preprocessing=False)[0].model()).run(
        None, {"x": x.numpy(), "lengths": lens.numpy()})
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_step_graph_read_token_by_token_equals_predict_proba():
    task, X = fitted_classifier("text_lstm_uni_last")
    g, meta = classifier_graph(task, step=True)
    sess = session(g.model())
    for text in X[:3]:
        ids, _ = task.inputs_.transform([text])
        state = {n: np.zeros((1, 2, 5), np.float32) for n in meta["state"]}
        for t in range(ids.shape[1]):
            out = dict(zip([o.name for o in sess.get_outputs()],
                           sess.run(None, {"ids_t": ids[:, t].numpy(), **state})))
            state = {n: out[f"{n}_out"] for n in meta["state"]}
        np.testing.assert_allclose(out["probabilities"], task.predict_proba([text]),
                                   atol=1e-5, rtol=0)


def test_step_graph_refuses_pooling_and_bidirectional():
    task, _ = fitted_classifier("text_cho_ln_mean")
    with pytest.raises(ConfigError, match="model.pooling: expected 'last'"):
        classifier_graph(task, step=True)
    task, _ = fitted_classifier("series_gru_last_cut")
    with pytest.raises(ConfigError, match="bidirectional: expected False"):
        classifier_graph(task, step=True)
