import json

import numpy as np
import pytest
from scipy import stats

from rnnkit.errors import ConfigError
from rnnkit.monitoring.drift import (
    DriftReport,
    DriftTest,
    Thresholds,
    detect_drift,
    ks_test,
    psi,
    psi_floor,
    share_psi,
)
from rnnkit.monitoring.profile import Distribution
from rnnkit.tasks.forecasting import Forecaster

from .conftest import SHIFT


def drift_of(task, frame, **kwargs):
    return detect_drift(task, task.read_data(frame, labelled=False), **kwargs)


# ------------------------------------------------------------------ real data: the Nile
def test_the_nile_before_the_dam_is_drift(nile):
    task, frame = nile
    report = drift_of(task, frame.iloc[:SHIFT])  # 1871-1898: the level before the shift
    assert report.drift
    assert {(t.name, t.feature) for t in report.drifted} >= {("psi", "volume"),
                                                              ("ks", "volume")}


@pytest.mark.parametrize("rows", [slice(40, 80), slice(60, 100)])
def test_a_slice_of_the_same_regime_is_not_drift(nile, rows):
    task, frame = nile
    report = drift_of(task, frame.iloc[rows])
    assert not report.drift, report.summary()
    assert len(report.tests) == 7  # psi, ks, 4 window statistics, predictions


@pytest.mark.parametrize("change", ["offset", "scale up", "scale down"])
def test_a_sensor_change_on_real_data_is_drift(nile, change):
    task, frame = nile
    part = frame.iloc[40:80]
    sd = float(frame.iloc[SHIFT:].std().iloc[0])
    changed = {"offset": part + sd, "scale up": part * 1.5, "scale down": part * 0.7}[change]
    assert not drift_of(task, part).drift
    assert drift_of(task, changed).drift


def test_predictions_passed_in_are_used(nile):
    task, frame = nile
    far = np.full((30, task.preprocessing_.horizon, 1), 1e6)  # (N, H, K) far off
    report = drift_of(task, frame.iloc[40:80], predictions=far)
    pred = [t for t in report.tests if t.name == "prediction_psi"]
    assert pred[0].drift and report.drift


def test_too_few_rows_skip_a_test_and_say_so(nile):
    task, frame = nile
    report = drift_of(task, frame.iloc[SHIFT:SHIFT + 10])
    assert not report.drift and {t.note for t in report.tests} <= {"too few rows",
                                                                  "too few windows"}


def test_report_json_and_table(nile):
    task, frame = nile
    report = drift_of(task, frame.iloc[:SHIFT])
    data = json.loads(json.dumps(report.to_dict()))
    assert data["drift"] is True and data["n_rows"] == SHIFT
    assert data["tests"][0].keys() == {"name", "feature", "statistic", "threshold", "p_value",
                                       "drift", "note"}
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(report)
    text = console.export_text()
    assert "DRIFT: " in text and "psi[volume], ks[volume]" in text and "noise floor" in text


def test_a_task_without_profile_is_an_error(nile):
    task, frame = nile
    old = Forecaster(task.config)
    old.model_, old.preprocessing_ = task.model_, task.preprocessing_
    with pytest.raises(ConfigError, match="reference profile.*retrain"):
        drift_of(old, frame)


# -------------------------------------------------------------------------- the tests
def test_psi_equals_its_formula():
    ref = Distribution.of(np.arange(100.0))  # ten bins of 10% each
    new = np.arange(50.0)  # five bins of 20%, five empty
    p, q = np.array([0.2] * 5 + [1e-4] * 5), np.full(10, 0.1)
    assert psi(ref, new) == pytest.approx(np.sum((p - q) * np.log(p / q)))
    assert psi(ref, np.arange(100.0)) == 0.0


def test_share_psi_counts_unseen_labels():
    assert share_psi({"a": 0.5, "b": 0.5}, ["a", "b"] * 10) == pytest.approx(0.0)
    assert share_psi({"a": 1.0}, ["b"] * 10) > 10


def test_ks_on_independent_values_equals_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=500), rng.normal(0.3, size=400)
    ref = Distribution.of(a, ordered=False)
    d, p = ks_test(ref, b)
    assert d == pytest.approx(stats.ks_2samp(a, b).statistic)
    # Kolmogorov's limit law at sqrt(n1 n2 / (n1 + n2)), the effective sizes being n
    assert p == pytest.approx(stats.kstwobign.sf(d * np.sqrt(500 * 400 / 900)), rel=1e-12)


def test_autocorrelation_raises_the_noise_floor_and_the_ks_p_value():
    rng = np.random.default_rng(0)
    white = Distribution.of(rng.normal(size=1000))
    ar = np.zeros(1000)
    for t in range(1, 1000):
        ar[t] = 0.8 * ar[t - 1] + rng.normal()
    dependent = Distribution.of(ar)
    assert white.ess > 0.8 and dependent.ess < 0.3
    assert psi_floor(dependent, 50, 0.01) > psi_floor(white, 50, 0.01)
    shifted = rng.normal(0.5, size=60)
    assert ks_test(dependent, shifted * ar.std())[1] > ks_test(white, shifted)[1]


def test_thresholds_validate_and_override():
    assert Thresholds.from_dict({"psi": 0.3}).psi == 0.3
    with pytest.raises(ConfigError, match=r"thresholds.nope: expected one of"):
        Thresholds.from_dict({"nope": 1})
    with pytest.raises(ConfigError, match="thresholds.psi: expected a positive number"):
        Thresholds(psi=-1)
    with pytest.raises(ConfigError, match="thresholds.ks_alpha: expected a level in"):
        Thresholds(ks_alpha=2)


def test_report_drift_is_any_test():
    report = DriftReport([DriftTest("psi", "x", 0.1, 0.2)])
    assert not report.drift and report.to_dict()["drift"] is False
    report.tests.append(DriftTest("ks", "x", 0.5, 0.01, p_value=0.001, drift=True))
    assert report.drift and report.summary().startswith("DRIFT: 1 of 2")


# ------------------------------------------------- real text: VADER tweets vs movie reviews
@pytest.fixture(scope="module")
def tweets():
    """A tiny classifier of 300 VADER tweets (1 epoch) and ``(more tweets, movie reviews)``."""
    import random

    from rnnkit.datasets import load_vader_binary
    from rnnkit.tasks.classification import SequenceClassifier

    tw = load_vader_binary(sources=["tweets"])
    movies = load_vader_binary(sources=["movie_reviews"])
    random.Random(0).shuffle(tw)
    task = SequenceClassifier({"model": {"encoder": {"hidden_size": 4}, "embedding_dim": 4},
                               "training": {"epochs": 1, "progress": "off", "seed": 0}})
    task.fit([x for x, _ in tw[:300]], [y for _, y in tw[:300]], validation=0.2)
    return task, [x for x, _ in tw[600:900]], [x for x, _ in movies[:300]]


def test_text_profile_of_a_classifier(tweets):
    task, _, _ = tweets
    p = task.profile_
    assert p.lengths.n == 240 and set(p.labels) == {"0", "1"}
    assert 0 < p.oov_rate < 0.5  # Good-Turing: new tweets do bring unseen words
    assert set(p.validation_metrics) == {"accuracy", "log_loss"}
    assert sum(p.predicted_labels.values()) == pytest.approx(1)


def test_more_tweets_are_not_drift_movie_reviews_are(tweets):
    task, same, movies = tweets
    report = detect_drift(task, same)
    assert not report.drift, report.summary()
    assert [t.name for t in report.tests] == ["length_psi", "oov_increase", "prediction_psi"]
    drifted = {t.name for t in detect_drift(task, movies).drifted}
    assert "oov_increase" in drifted


# ------------------------------------------------------- real text: Brown news vs tweets
def test_a_tagger_sees_tweets_drift_from_brown_news_not_more_news():
    import random

    from rnnkit.datasets import load_brown_pos, load_vader_binary
    from rnnkit.tasks.tagging import SequenceTagger

    news = load_brown_pos()[:4000]  # the press genre (files ca..)
    random.Random(0).shuffle(news)
    task = SequenceTagger({"model": {"encoder": {"hidden_size": 4}, "embedding_dim": 4},
                           "training": {"epochs": 1, "progress": "off", "seed": 0}})
    task.fit([s for s, _ in news[:300]], [t for _, t in news[:300]], validation=0.2)
    p = task.profile_
    assert p.lengths.n == 240 and "NOUN" in p.labels and "token_accuracy" in p.validation_metrics
    assert not detect_drift(task, [s for s, _ in news[1000:1200]]).drift
    tweets = [x.split() for x, _ in load_vader_binary(sources=["tweets"])[:200]]
    report = detect_drift(task, tweets)
    assert {"length_psi", "oov_increase"} <= {t.name for t in report.drifted}


# ------------------------------ real text: a language model and a seq2seq model's sources
def test_a_language_model_sees_tweets_drift_from_shakespeare_lines():
    import random

    from rnnkit.datasets import load_shakespeare, load_vader_binary
    from rnnkit.tasks.language_model import LanguageModel

    text = load_shakespeare()[:120000]  # All's Well That Ends Well
    task = LanguageModel({"model": {"encoder": {"hidden_size": 4}, "embedding_dim": 4},
                          "training": {"epochs": 1, "progress": "off", "seed": 0,
                                       "tbptt_steps": 20}})
    task.fit(text[:30000])
    assert task.profile_.lengths.n > 500 and task.profile_.oov_rate < 0.01
    lines = [line for line in text[30000:].splitlines() if line.strip()]
    same = random.Random(0).sample(lines, 200)  # prompts: lines of the same play
    assert not detect_drift(task, same).drift
    tweets = [x for x, _ in load_vader_binary(sources=["tweets"])[:200]]
    assert "length_psi" in {t.name for t in detect_drift(task, tweets).drifted}


def test_a_seq2seq_model_sees_tweet_words_drift_from_dictionary_words():
    import random

    from rnnkit.datasets import load_cmudict, load_vader_binary
    from rnnkit.tasks.seq2seq import Seq2Seq

    words = load_cmudict()
    random.Random(0).shuffle(words)
    task = Seq2Seq({"model": {"encoder": {"hidden_size": 4}, "decoder": {"hidden_size": 4},
                              "src_embedding_dim": 4, "tgt_embedding_dim": 4},
                    "training": {"epochs": 1, "progress": "off", "seed": 0}})
    task.fit(words[:300])  # grapheme -> phoneme: characters in
    assert task.profile_.lengths.n == 300 and task.profile_.labels is None
    assert not detect_drift(task, [w for w, _ in words[1000:1200]]).drift
    tweets = [x.split()[0] for x, _ in load_vader_binary(sources=["tweets"])[:200]]
    drifted = {t.name for t in detect_drift(task, tweets).drifted}
    assert {"length_psi", "oov_increase"} <= drifted  # capitals, digits, @ and # are new
