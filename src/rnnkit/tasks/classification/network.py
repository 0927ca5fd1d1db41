r"""The network inside a :class:`~rnnkit.tasks.classification.SequenceClassifier`
(:class:`ClassifierNet`).

Embedding (token inputs) -> recurrent encoder -> pooling -> dropout -> linear, the data flow
drawn in the package doc. Symbols: B batch, T padded steps, E ``embedding_dim``, F numeric
features, H hidden units, D = 2 if bidirectional else 1, C classes.

Padding is carried as ``lengths`` to the encoder and to the pooling, so padded steps never
influence a prediction; pooling is ``"last"`` (the final state of each direction: the forward
one after the last real step, the backward one after reading back to the first), ``"mean"``,
``"max"`` (over real steps) or ``"attention"``
(:class:`~rnnkit.nn.attention_pooling.AttentionPooling`, whose weights
:meth:`~rnnkit.tasks.classification.SequenceClassifier.attention` returns).
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit._validation import check_choice, check_positive_int, expected
from rnnkit.errors import ConfigError
from rnnkit.nn.attention_pooling import AttentionPooling
from rnnkit.nn.heads import lengths_to_mask, pool
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.encoder import EncoderSection

__all__ = ["CLASSIFIER_POOLINGS", "ClassifierNet"]

CLASSIFIER_POOLINGS = ("last", "mean", "max", "attention")


class ClassifierNet(nn.Module):
    """Embedding (token inputs) -> recurrent encoder -> pooling -> dropout -> linear.

    Args:
        n_classes: C.
        encoder: the encoder's :class:`~rnnkit.tasks.encoder.EncoderSection` (or a
            :class:`~rnnkit.nn.spec.RecurrentSpec`).
        vocab_size: embedding rows for token inputs (row 0, <pad>, stays zero); or
        n_features: F for numeric inputs (exactly one of the two).
        pooling, attention_size, embedding_dim, dropout: as in
            :class:`~rnnkit.tasks.classification.ClassifierModel`.

    Forward: ``x`` (B, T) long or (B, T, F) float, ``lengths`` (B,) -> logits (B, C).
    """

    def __init__(self, n_classes: int, encoder: EncoderSection | RecurrentSpec, *, vocab_size: int | None = None,
                 n_features: int | None = None, pooling: str = "attention",
                 attention_size: int | None = None, embedding_dim: int = 100,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if (vocab_size is None) == (n_features is None):
            raise ConfigError(expected("vocab_size/n_features", "exactly one of them",
                                       (vocab_size, n_features)))
        self.n_classes = check_positive_int("n_classes", n_classes, 2)
        self.pooling = check_choice("pooling", pooling, CLASSIFIER_POOLINGS)
        self.embedding = (nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
                          if vocab_size is not None else None)
        in_size = embedding_dim if vocab_size is not None else int(n_features)  # type: ignore[arg-type]
        self.encoder = encoder.build(in_size, return_sequences=pooling != "last")
        width = encoder.output_size
        self.attention = AttentionPooling(width, attention_size) if pooling == "attention" else None
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)

    def encode(self, x: torch.Tensor, lengths: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The pooled vector (B, D·H) and the attention weights (B, T) (None unless attention)."""
        if lengths is not None:
            x = x[:, : int(lengths.max())]  # cut the batch to its longest sequence
        B, T = x.shape[:2]
        if self.embedding is not None:
            x = self.dropout(self.embedding(x))  # (B, T) -> (B, T, E)
        h, _ = self.encoder(x, lengths=lengths)  # (B, T, D·H), or (B, D·H) for "last"
        if self.pooling == "last":
            return h, None
        mask = None if lengths is None else lengths_to_mask(lengths, T)  # (B, T)
        if self.attention is not None:
            return self.attention(h, mask)
        return pool(h, self.pooling, mask), None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        pooled, _ = self.encode(x, lengths)
        return self.head(self.dropout(pooled))  # (B, C)
