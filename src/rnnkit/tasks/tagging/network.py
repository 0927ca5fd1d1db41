"""The network inside a :class:`~rnnkit.tasks.tagging.SequenceTagger` (:class:`TaggerNet`):
token features -> (Bi)LSTM -> per-token emission scores (B, T, K), the data flow drawn in the
package doc. Symbols: B batch, T padded tokens, K tags, E_w ``embedding_dim``, E_s
``suffix_dim``, E_h ``shape_dim``, D = 2 if bidirectional else 1, H hidden units.

Without a CRF each token's tag is the argmax of its emission scores and the loss is the
per-token cross-entropy. With ``crf=True`` (:class:`~rnnkit.nn.crf.CRF`) the loss is the
negative log-likelihood of the whole tag sequence (per real token) and prediction is the
Viterbi path, so tag transitions are scored jointly.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import check_positive_int
from rnnkit.nn.crf import CRF
from rnnkit.tasks.tagging.config import TaggerModel
from rnnkit.tasks.tagging.features import SHAPES

__all__ = ["IGNORE", "TaggerNet"]

IGNORE = -100  # target value of padded tokens (PyTorch's ignore index)


class TaggerNet(nn.Module):
    """Token features -> (Bi)LSTM -> per-token emission scores, with an optional CRF.

    Forward: ``x`` (B, T, 3) long (word, suffix, shape ids), ``lengths`` (B,) -> emissions
    (B, T', K), T' = the batch's longest sentence. :meth:`loss` takes the emissions and
    targets (B, T') with -100 on padding; :meth:`decode` gives (B, T') tag ids, -100 on padding.
    """

    def __init__(self, n_tags: int, config: TaggerModel, *, vocab_size: int,
                 suffix_vocab_size: int | None) -> None:
        super().__init__()
        self.n_tags = check_positive_int("n_tags", n_tags)
        self.words = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=0)
        width = config.embedding_dim
        self.suffixes = None
        if suffix_vocab_size is not None:
            self.suffixes = nn.Embedding(suffix_vocab_size, config.suffix_dim, padding_idx=0)
            width += config.suffix_dim
        self.shapes = None
        if config.shape_dim:
            self.shapes = nn.Embedding(len(SHAPES) + 1, config.shape_dim, padding_idx=0)
            width += config.shape_dim
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = config.encoder.build(width)
        self.head = nn.Linear(config.encoder.output_size, n_tags)
        self.crf = CRF(n_tags) if config.crf else None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is not None:
            x = x[:, : int(lengths.max())]  # cut the batch to its longest sentence
        feats = [self.words(x[..., 0])]  # (B, T, E_w)
        if self.suffixes is not None:
            feats.append(self.suffixes(x[..., 1]))  # (B, T, E_s)
        if self.shapes is not None:
            feats.append(self.shapes(x[..., 2]))  # (B, T, E_h)
        h = self.dropout(torch.cat(feats, dim=-1))  # (B, T, E_w + E_s + E_h)
        out, _ = self.encoder(h, lengths=lengths)  # (B, T, D·H)
        return self.head(self.dropout(out))  # (B, T, K)

    def loss(self, emissions: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        """Mean loss per real token: CRF negative log-likelihood, or cross-entropy."""
        if self.crf is not None:
            return self.crf.nll(emissions, tags, mask=tags != IGNORE, reduction="token_mean")
        K = emissions.shape[-1]
        return F.cross_entropy(emissions.reshape(-1, K), tags.reshape(-1), ignore_index=IGNORE)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Best tag ids (B, T), ``-100`` on padding: Viterbi with a CRF, else per-token argmax."""
        if self.crf is not None:
            return self.crf.decode(emissions, lengths=lengths, pad_value=IGNORE)
        mask = torch.arange(emissions.shape[1], device=emissions.device) < lengths[:, None]
        return emissions.argmax(-1).masked_fill(~mask, IGNORE)
