"""use_onnx: the task's own predict, predict_frame and predict_proba run on onnxruntime and
agree with torch within 1e-5; tasks it cannot serve are refused with the reason."""

import copy

import numpy as np
import pytest
import torch
from export_builders import fitted_classifier, fitted_forecaster, fitted_tagger

from rnnkit.errors import ConfigError
from rnnkit.export import OnnxNetwork, use_onnx
from rnnkit.tasks.language_model import LanguageModel


@pytest.mark.parametrize("name", ["direct_lstm_bi", "recursive_gru", "seq2seq_gru_future",
                                  "direct_lstm_ln_future"])
def test_forecaster_predict_runs_on_onnx(name):
    task, frame = fitted_forecaster(name)
    onnx_task = use_onnx(copy.deepcopy(task))
    assert isinstance(onnx_task.model_, OnnxNetwork)
    assert next(onnx_task.model_.parameters()).dtype == torch.float32
    prep = task._prep()
    hist = task._as_series(frame, fitted=True).values[None, -prep.look_back - 4 : -4]
    fut = None
    if prep.future_idx:
        fut = task._as_series(frame, fitted=True).values[None, -4:-1][..., prep.future_idx]
    for steps in (prep.horizon, 1):
        f = None if fut is None else fut[:, : max(steps, prep.train_horizon)]
        np.testing.assert_allclose(onnx_task._forecast(hist, steps, f),
                                   task._forecast(hist, steps, f), atol=1e-5, rtol=0)
    if not prep.future_idx:  # beyond the trained horizon: the task's rollout, on onnx
        np.testing.assert_allclose(onnx_task.predict(frame, horizon=7).to_numpy(),
                                   task.predict(frame, horizon=7).to_numpy(), atol=1e-5)


@pytest.mark.parametrize("name", ["text_lstm_bi_attention", "series_rnn_stacked_max"])
def test_classifier_predict_proba_runs_on_onnx(name):
    task, X = fitted_classifier(name)
    onnx_task = use_onnx(copy.deepcopy(task))
    np.testing.assert_allclose(onnx_task.predict_proba(X), task.predict_proba(X), atol=1e-5,
                               rtol=0)
    assert list(onnx_task.predict(X)) == list(task.predict(X))


@pytest.mark.parametrize("name", ["lstm_bi_crf", "gru_uni_softmax"])
def test_tagger_predict_runs_on_onnx(name):
    task, sents = fitted_tagger(name)
    onnx_task = use_onnx(copy.deepcopy(task))
    assert onnx_task.predict(sents) == task.predict(sents)


def test_refuses_a_language_model_and_training():
    with pytest.raises(ConfigError, match="task: expected forecasting, classification or "
                                          "tagging.*'language_model'.*torch runtime"):
        use_onnx(LanguageModel())
    task, _ = fitted_forecaster("recursive_gru")
    onnx_task = use_onnx(copy.deepcopy(task))
    with pytest.raises(ConfigError, match="model_: expected a torch network to train"):
        onnx_task.model_.train()
