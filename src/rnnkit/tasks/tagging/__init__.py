r"""Sequence tagging: one label per token (part-of-speech tags, named-entity tags).

Tokenized sentences go in, one tag per token comes out::

    tokens ─┬─ lower-cased word ──Vocabulary──▶ Embedding(E_w) ─┐
            ├─ last k characters ─Vocabulary──▶ Embedding(E_s) ─┼─ concat ▶ dropout ▶ BiLSTM ▶ dropout
            └─ word shape (Title, UPPER, 1984 ...) ▶ Embedding(E_h) ┘
                 ▶ Linear ▶ emissions (B, T, K) ─▶ softmax per token, or CRF + Viterbi

Symbols: B batch, T padded tokens, K tags, E_w ``embedding_dim``, E_s ``suffix_dim``, E_h
``shape_dim``. Words seen fewer than ``min_freq`` times in training map to <unk>, so the <unk>
embedding is trained on rare words and stands for unseen ones at prediction time; the suffix
(``-ly``, ``-ing``, ``-ed``) and the shape carry what an unknown word still tells. Padding is
carried as ``lengths`` into the encoder and as a mask into the loss, so padded tokens never
count.

Each token's tag is the argmax of its emission scores, or with ``crf=True`` the CRF's Viterbi
path, so tag transitions are scored jointly (:mod:`.network`).

The task answers the one task interface (:class:`~rnnkit.tasks.base.Task`): ``fit(data)`` or
``fit(sentences, tags, validation=...)`` -> self, ``predict`` (tags as strings), ``evaluate``
-> a :class:`~rnnkit.tasks.base.Report` (token accuracy, sentence accuracy, macro F1, accuracy
on out-of-vocabulary words) beside the most-frequent-tag baseline, ``save(path)`` /
``SequenceTagger.load(path)`` as an rnnkit bundle (safetensors + JSON vocabularies, no
pickle); same seed, same predictions; saved then loaded, same predictions.

One concept per module:

==============================  =========================================================
:mod:`.config`                  :class:`TaggerConfig` and its sections (the TOML file)
:mod:`.features`                :class:`TokenFeatures`: word, suffix and shape ids
:mod:`.network`                 :class:`TaggerNet`: features, encoder, emissions, CRF
:mod:`.files`                   the CoNLL layout (:func:`parse_conll`)
:mod:`.task`                    :class:`SequenceTagger`, the task
==============================  =========================================================

Example:
    >>> sents = [["The", "dog", "runs"], ["A", "cat", "sleeps"]] * 10
    >>> tags = [["DET", "NOUN", "VERB"]] * 20
    >>> tagger = SequenceTagger({"model": {"crf": True}, "training": {"epochs": 2}})
    >>> tagger.fit(sents, tags).predict([["The", "cat", "runs"]])  # doctest: +SKIP
    [['DET', 'NOUN', 'VERB']]
"""

from rnnkit.data.examples import check_sentences, check_tag_lists
from rnnkit.metrics.sequence import tagging_metrics
from rnnkit.tasks.tagging.config import TaggerConfig, TaggerData, TaggerModel
from rnnkit.tasks.tagging.features import SHAPES, TokenFeatures, word_shape
from rnnkit.tasks.tagging.files import parse_conll
from rnnkit.tasks.tagging.network import TaggerNet
from rnnkit.tasks.tagging.task import SequenceTagger

__all__ = [
    "SHAPES",
    "SequenceTagger",
    "TaggerConfig",
    "TaggerData",
    "TaggerModel",
    "TaggerNet",
    "TokenFeatures",
    "check_sentences",
    "check_tag_lists",
    "parse_conll",
    "tagging_metrics",
    "word_shape",
]
