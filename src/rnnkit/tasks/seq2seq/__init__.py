"""Sequence to sequence with attention, one concept per module:

==============================  =========================================================
:mod:`.config`                  :class:`Seq2SeqConfig` and its sections
:mod:`.network`                 :class:`Seq2SeqNet`: the encoder-decoder and its equations
:mod:`.decoding`                greedy decoding and beam search
:mod:`.data`                    the TSV file format and the token units
:mod:`.baselines`               the translation memory and the identity
:mod:`.task`                    :class:`Seq2Seq`, the task (fit / predict / evaluate / save)
==============================  =========================================================
"""

from rnnkit.baselines.seq2seq import CopySource, TranslationMemory
from rnnkit.tasks.seq2seq.config import Seq2SeqConfig
from rnnkit.tasks.seq2seq.decoding import Decoded, beam_search, greedy_decode
from rnnkit.tasks.seq2seq.network import Seq2SeqNet, masked_cross_entropy
from rnnkit.tasks.seq2seq.task import Seq2Seq, scores

__all__ = [
    "CopySource",
    "Decoded",
    "Seq2Seq",
    "Seq2SeqConfig",
    "Seq2SeqNet",
    "TranslationMemory",
    "beam_search",
    "greedy_decode",
    "masked_cross_entropy",
    "scores",
]
