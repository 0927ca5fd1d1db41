"""Warm start: the challenger's network starts from the champion's weights when they mean the
same thing in it, and from scratch (with the reason) when they do not."""

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.examples import example_path
from rnnkit.registry.warm import STATISTICS, WarmStart, compatibility, warm_start
from rnnkit.tasks import Forecaster, SequenceClassifier


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_the_built_network_holds_the_champion_weights(fitted):
    challenger = Forecaster(fitted.config)
    challenger.preprocessing_ = fitted.preprocessing_  # as fit sets it before building
    with warm_start(challenger, fitted) as warm:
        network = challenger._build()
    assert warm.applied and warm.reason is None
    assert _same_weights(network, fitted.model_)
    assert "_build" not in vars(challenger)  # the task's own build again
    assert not _same_weights(challenger._build(), fitted.model_)


def test_a_fit_on_new_data_warm_starts_although_the_scaler_differs(fitted, nile):
    challenger = Forecaster(fitted.config)
    with warm_start(challenger, fitted) as warm:
        challenger.fit(challenger.read_data(nile[1]))
    assert warm == WarmStart(True, None)
    assert warm.describe() == "warm start: the champion's weights"
    assert "scaler" in STATISTICS
    assert challenger.preprocessing_.scaler.to_dict() != fitted.preprocessing_.scaler.to_dict()
    assert challenger.is_fitted and not _same_weights(challenger.model_, fitted.model_)


def test_another_look_back_trains_from_scratch_and_says_why(fitted, nile):
    challenger = Forecaster(fitted.config.with_overrides({"forecast": {"look_back": 6}}))
    with warm_start(challenger, fitted) as warm:
        challenger.fit(challenger.read_data(nile[0]))
    assert not warm.applied
    assert warm.reason == "the new data's preprocessing['look_back'] differs from the champion's"
    assert warm.describe().startswith("from scratch (the new data's preprocessing['look_back']")


def test_another_network_shape_trains_from_scratch(fitted):
    challenger = Forecaster(fitted.config.with_overrides({"model": {"hidden_size": 4}}))
    challenger.preprocessing_ = fitted.preprocessing_
    reason = compatibility(fitted, challenger, challenger._build())
    assert reason is not None and "has shape" in reason and "in the champion" in reason


def test_a_text_classifier_with_another_vocabulary_trains_from_scratch():
    overrides = {"model": {"embedding_dim": 8, "encoder": {"hidden_size": 8}},
                 "training": {"epochs": 1, "progress": "off"}}
    champion = SequenceClassifier.from_toml(example_path("classification"), overrides)
    data = champion.read_data()
    champion.fit(data.take(range(60)))
    challenger = SequenceClassifier(champion.config)
    with warm_start(challenger, champion) as warm:
        challenger.fit(data)
    assert not warm.applied and challenger.is_fitted
    assert warm.reason.startswith("tensor embedding.weight has shape (")
    # a capped vocabulary has the same size, other words: the tokens are compared too
    capped = champion.config.with_overrides({"model": {"max_vocab": 40}})
    champion = SequenceClassifier(capped).fit(data.take(range(60)))
    challenger = SequenceClassifier(capped)
    with warm_start(challenger, champion) as warm:
        challenger.fit(data.take(range(60, 120)))
    assert not warm.applied
    assert warm.reason == ("the new data's preprocessing['inputs']['vocabulary']['tokens'] "
                           "differs from the champion's")
    # the same examples give the same vocabulary: then it warm-starts
    again = SequenceClassifier(champion.config)
    with warm_start(again, champion) as warm:
        again.fit(data.take(range(60)))
    assert warm.applied


def test_warm_start_refuses_an_unfitted_champion_and_nesting(fitted):
    unfitted = Forecaster(fitted.config)
    with (pytest.raises(ConfigError, match="champion: expected a fitted task, got an unfitted"),
          warm_start(Forecaster(fitted.config), unfitted)):
        pass
    challenger = Forecaster(fitted.config)
    with (warm_start(challenger, fitted),
          pytest.raises(ConfigError, match="challenger: expected a task not already"),
          warm_start(challenger, fitted)):
        pass
    assert "_build" not in vars(challenger)


def test_the_build_is_restored_when_the_fit_fails(fitted):
    challenger = Forecaster(fitted.config)
    with pytest.raises(RuntimeError, match="boom"), warm_start(challenger, fitted):
        raise RuntimeError("boom")
    assert "_build" not in vars(challenger)


def test_another_task_is_never_compatible(fitted):
    other = SequenceClassifier({"training": {"progress": "off"}})
    assert compatibility(fitted, other, fitted.model_).startswith(
        "the champion is a forecasting task, the challenger a classification one")
