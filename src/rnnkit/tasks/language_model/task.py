"""The :class:`LanguageModel` task: fit a text, evaluate against the n-gram baselines,
generate (see the package doc)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.bundle import Bundle
from rnnkit.data.text import CharTokenizer, WordTokenizer, tokenizer_from_dict
from rnnkit.data.vocabulary import BOS_ID, EOS_ID, PAD_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError
from rnnkit.monitoring.profile import expected_oov_rate, text_profile
from rnnkit.tasks.base import Report, Task
from rnnkit.tasks.language_model.config import LanguageModelConfig, legacy_config
from rnnkit.tasks.language_model.network import LMNet, sample_logits
from rnnkit.tasks.language_model.streams import NgramCounts, Slices, StreamColumns, streams
from rnnkit.training import Callback, Trainer, seed_everything

__all__ = ["LanguageModel"]


class LanguageModel(Task):
    """A character- or word-level language model: fit / evaluate / generate / save / load.

    Args:
        config: a :class:`LanguageModelConfig`, a dict of its sections, or None (defaults).

    Fitted state: ``model_`` (the :class:`LMNet`), ``history_``, ``fit_seconds_``,
    ``vocab_`` (the :class:`~rnnkit.data.text.Vocabulary`) and ``ngram_counts_`` (the
    training tokens' counts, for the baselines). ``tokenizer`` follows ``model.level`` and
    ``model.lower``.
    """

    name = "language_model"
    primary_metric = "perplexity"
    higher_is_better = False
    config_class = LanguageModelConfig
    config: LanguageModelConfig

    def __init__(self, config: LanguageModelConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        m = self.config.model
        self.tokenizer: CharTokenizer | WordTokenizer = (
            CharTokenizer(lower=m.lower) if m.level == "char" else WordTokenizer(lower=m.lower))
        self.vocab_: Vocabulary | None = None
        self.ngram_counts_: NgramCounts | None = None

    # ------------------------------------------------------------------------------ data
    def read_data(self, path: str | os.PathLike[str] | None = None, *,
                  labelled: bool = True) -> Any:
        """The text of a plain UTF-8 file (``path``, else ``data.path``). With
        ``labelled=False`` (prompts for :meth:`predict`): its non-empty lines, one prompt
        each."""
        if path is None:
            path = self.config.data.path
        if path is None:
            raise ConfigError(expected("data.path", "a text file", None,
                                       "set [data] path in the config or pass a path"))
        p = Path(path)
        if not p.is_file():
            raise DataError(expected("path", "an existing UTF-8 text file", str(p)))
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise DataError(expected("path", "a UTF-8 text file", str(p),
                                     f"it is not UTF-8 ({err.reason} at byte {err.start})")
                            ) from None
        if labelled:
            return text
        return [line for line in text.splitlines() if line.strip()]

    def split(self, data: str) -> tuple[str, str]:
        """``(fit_text, test_text)``: the last ``data.test`` fraction of the characters is
        the test text (contiguous, from the end)."""
        text = _check_text("text", data)
        return _cut(text, self.config.data.test)

    def tokenize(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(_check_text("text", text))

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` in the fitted vocabulary (unknown tokens -> ``<unk>``)."""
        return self._fitted()[1].encode(self.tokenize(text))

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.detokenize(self._fitted()[1].decode(ids, stop_at_eos=False))

    def _fitted(self) -> tuple[LMNet, Vocabulary]:
        net = self._require_fitted()
        if not isinstance(net, LMNet) or self.vocab_ is None:  # fit and load set both
            raise ConfigError(expected("LanguageModel", "a fitted model", "an unfitted one",
                                       "call fit(text) or LanguageModel.load(path) first"))
        return net, self.vocab_

    # ----------------------------------------------------------------------------- train
    def fit(self, text: str, *, validation: str | None = None,
            callbacks: Sequence[Callback] | None = None) -> Self:
        """Build the vocabulary from ``text`` and train on it (see the module doc).

        Validation is on the text ``validation`` when given, else on the last ``data.validation``
        fraction of ``text`` (held out from training), else none. ``[early_stopping]``
        (watching ``val_loss`` by default) applies when there is validation. Returns
        ``self``; the record is ``history_``.
        """
        cfg = self.config
        text = _check_text("text", text)
        val_text = validation
        if val_text is None and cfg.data.validation is not None:
            text, val_text = _cut(text, cfg.data.validation)
        k = int(cfg.training.tbptt_steps or 1)  # LanguageModelConfig requires it
        tokens = self.tokenize(text)
        if len(tokens) < 2 * k:
            raise DataError(expected("text", f"at least {2 * k} tokens (2 * tbptt_steps)",
                                     len(tokens)))
        if cfg.training.seed is not None:
            seed_everything(cfg.training.seed)  # the initial weights too
        self.vocab_ = Vocabulary.build([tokens], min_freq=cfg.model.min_freq,
                                       max_size=cfg.model.max_vocab)
        ids = torch.tensor(self.vocab_.encode(tokens), dtype=torch.long)
        self.ngram_counts_ = NgramCounts.count(ids.numpy(), len(self.vocab_))
        net = self._build()
        X, Y = streams(ids, cfg.training.batch_size, "text")  # (B, L) each
        val = None
        if val_text is not None:
            vids = torch.tensor(self.vocab_.encode(self.tokenize(val_text)), dtype=torch.long)
            if cfg.data.val_tokens is not None:
                vids = vids[: cfg.data.val_tokens]
            vx, vy = streams(vids, cfg.training.batch_size, "validation")
            val = (vx.unsqueeze(-1), vy)  # the trainer's (B, T, 1) stream layout
        L = X.shape[1]
        chunk = max(k, math.ceil(L / cfg.data.epochs_per_pass / k) * k)
        slices = Slices(X, Y, chunk)
        stopping = cfg.early_stopping.callback()
        if val is None and cfg.early_stopping.monitor.startswith("val_"):
            stopping = None  # it watches the validation loss, and there is none
        extra = [stopping] if stopping is not None else []
        trainer = Trainer(net, cfg.training,
                          callbacks=[StreamColumns(slices), *extra, *(callbacks or [])])
        t0 = time.perf_counter()
        self.history_ = trainer.fit(DataLoader(slices, batch_size=None), val_data=val)
        self.fit_seconds_ = time.perf_counter() - t0
        self.model_ = net.eval()
        # the reference profile (rnnkit.monitoring): tokens per non-empty line of the training
        # text (prompts are lines) and the OOV rate to expect of the vocabulary
        lines = [self.tokenize(line) for line in text.splitlines() if line.strip()]
        self.profile_ = text_profile(self.name, [len(t) for t in lines] or [len(tokens)],
                                     oov_rate=expected_oov_rate([tokens], self.vocab_),
                                     ordered=True)
        return self

    # -------------------------------------------------------------------------- evaluate
    @torch.no_grad()
    def evaluate(self, text: str, *, batch_size: int | None = None) -> Report:
        """Cross-entropy of every next token of ``text`` given the tokens before it
        (``batch_size`` parallel streams, default ``training.batch_size``, each starting
        from a zero state), for the model and the n-gram baselines.

        The report's metrics: ``cross_entropy`` (nats/token), ``perplexity`` (primary, lower
        is better), ``bits_per_token`` and, for character models, ``bits_per_character``;
        details ``loss`` (= cross_entropy) and ``tokens`` (the number scored). Baselines:
        ``unigram`` and ``bigram`` (add-k) and ``bigram_witten_bell``, counted on the
        training tokens and scored on the same next tokens with the same previous token.
        """
        net, _ = self._fitted()
        ids = torch.tensor(self.encode(text), dtype=torch.long)
        x, y = streams(ids, batch_size or self.config.training.batch_size, "text")
        device = next(net.parameters()).device
        was = net.training
        net.eval()
        total = torch.zeros((), dtype=torch.float64, device=device)
        state = None
        xd, yd = x.to(device), y.to(device)
        for t in range(0, x.shape[1], 1000):  # segments bound the logits' memory
            logits, state = net(xd[:, t : t + 1000], state)  # (B, k, V)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                     yd[:, t : t + 1000].reshape(-1), reduction="sum").double()
        net.train(was)
        n = y.numel()
        model = self._metrics(float(total) / n)
        baselines: dict[str, dict[str, float]] = {}
        ev = self.config.evaluation
        if ev.baselines and self.ngram_counts_ is not None:
            counts = self.ngram_counts_
            named = {"unigram": counts.unigram_lm(ev.k),
                     "bigram": counts.bigram_lm(ev.k, "add_k"),
                     "bigram_witten_bell": counts.bigram_lm(ev.k, "witten_bell")}
            xs, ys = x.numpy(), y.numpy()
            for name, lm in named.items():
                nll = -sum(float(lm.log_probs(ys[r], context=int(xs[r, 0])).sum())
                           for r in range(len(ys)))
                baselines[name] = self._metrics(nll / n)
        return Report(self.name, model, baselines=baselines, primary=self.primary_metric,
                      higher_is_better=self.higher_is_better,
                      details={"loss": model["cross_entropy"], "tokens": n})

    def _metrics(self, ce: float) -> dict[str, float]:
        out = {"perplexity": math.exp(min(ce, 709.0)), "cross_entropy": ce,
               "bits_per_token": ce / math.log(2)}
        if self.config.model.level == "char":
            out["bits_per_character"] = out["bits_per_token"]
        return out

    # -------------------------------------------------------------------------- generate
    def predict(self, data: str | Sequence[str], *, start: int = 0) -> list[str]:
        """The continuation of each prompt (one str is one prompt), generated with the
        ``[generation]`` settings; prompt i with seed ``generation.seed + start + i``
        (``start``: the number of prompts before these in their file, when a file is read
        in chunks)."""
        prompts = [data] if isinstance(data, str) else list(data)
        g = self.config.generation
        return [self.generate(p, g.max_new_tokens, greedy=g.greedy, temperature=g.temperature,
                              top_k=g.top_k, top_p=g.top_p, seed=g.seed + start + i)
                for i, p in enumerate(prompts)]

    def predict_frame(self, data: str | Sequence[str], *, start: int = 0) -> Any:
        """A DataFrame with columns ``prompt`` and ``generated`` (what ``rnnkit predict``
        writes); ``start`` as in :meth:`predict`."""
        import pandas as pd

        prompts = [data] if isinstance(data, str) else list(data)
        return pd.DataFrame({"prompt": prompts,
                             "generated": self.predict(prompts, start=start)})

    @torch.no_grad()
    def step(self, token_ids: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Advance by one token: ``token_ids`` (B,) -> next-token logits (B, V) and the new
        state (pass it to the next call)."""
        net, _ = self._fitted()
        net.eval()
        device = next(net.parameters()).device
        x = torch.as_tensor(token_ids, dtype=torch.long, device=device).view(-1, 1)  # (B, 1)
        logits, state = net(x, state)  # (B, 1, V)
        return logits[:, -1], state

    @torch.no_grad()
    def prefix_logits(self, ids: torch.Tensor | list[int]) -> torch.Tensor:
        """Next-token logits after every position of one prefix, re-read from a zero state:
        (T,) ids -> (T, V)."""
        net, _ = self._fitted()
        net.eval()
        device = next(net.parameters()).device
        x = torch.as_tensor(ids, dtype=torch.long, device=device).view(1, -1)
        return net(x)[0][0]

    @torch.no_grad()
    def generate(
        self,
        prompt: str,
        max_new_tokens: int = 200,
        *,
        greedy: bool = False,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        stateful: bool = True,
    ) -> str:
        """Continue ``prompt`` by ``max_new_tokens`` tokens.

        ``greedy`` takes the most likely token; otherwise tokens are sampled with
        :func:`sample_logits` (``temperature``, ``top_k``, ``top_p``) from a generator seeded
        with ``seed`` (same seed, same text). The reserved ``<pad>``, ``<bos>`` and ``<eos>``
        are never produced (a stream has none of them).
        ``stateful=False`` re-reads the whole prefix at every step (the slow reference).
        Returns the generated continuation (without the prompt).
        """
        net, vocab = self._fitted()
        check_positive_int("max_new_tokens", max_new_tokens)
        ids = self.encode(prompt)
        if not ids:
            raise DataError(expected("prompt", "at least one token", prompt,
                                     "start from a character or word of the training text"))
        gen = torch.Generator()
        gen.manual_seed(int(torch.randint(0, 2**62, (1,))) if seed is None else seed)
        device = next(net.parameters()).device
        net.eval()
        logits_all, state = net(torch.tensor([ids], device=device))
        logits = logits_all[:, -1]  # (1, V)
        out: list[int] = []
        for _ in range(max_new_tokens):
            logits = logits.clone().cpu()
            logits[:, [PAD_ID, BOS_ID, EOS_ID]] = float("-inf")
            tok = sample_logits(logits, greedy=greedy, temperature=temperature, top_k=top_k,
                                top_p=top_p, generator=gen)  # (1,)
            out.append(int(tok))
            if stateful:
                step_logits, state = net(tok.view(1, 1).to(device), state)
                logits = step_logits[:, -1]
            else:
                logits = net(torch.tensor([ids + out], device=device))[0][:, -1]
        return self.tokenizer.detokenize(vocab.decode(out, stop_at_eos=False))

    # ----------------------------------------------------------------------- persistence
    def _build(self) -> LMNet:
        if self.vocab_ is None:
            raise ConfigError(expected("LanguageModel", "a vocabulary", None,
                                       "call fit(text) or LanguageModel.load(path)"))
        m = self.config.model
        return LMNet(len(self.vocab_), m.embedding_dim, m.encoder.build(m.embedding_dim),
                     tie_weights=m.tie_weights, dropout=m.dropout)

    def _preprocessing(self) -> dict[str, Any]:
        _, vocab = self._fitted()
        return {"vocab": vocab.to_dict(), "tokenizer": self.tokenizer.to_dict(),
                "ngram_counts": (None if self.ngram_counts_ is None
                                 else self.ngram_counts_.to_dict())}

    def _restore(self, preprocessing: dict[str, Any]) -> None:
        self.vocab_ = Vocabulary.from_dict(preprocessing["vocab"])
        self.tokenizer = tokenizer_from_dict(preprocessing["tokenizer"])  # type: ignore[assignment]
        counts = preprocessing.get("ngram_counts")  # absent from bundles before the Task API
        self.ngram_counts_ = None if counts is None else NgramCounts.from_dict(counts)

    @classmethod
    def _config_from_bundle(cls, bundle: Bundle) -> LanguageModelConfig:
        if "config" in bundle.config:
            return LanguageModelConfig.from_dict(bundle.config["config"])
        return LanguageModelConfig.from_dict(legacy_config(bundle.config["model"]))


def _check_text(name: str, text: Any) -> str:
    if not isinstance(text, str):
        raise DataError(expected(name, "a str (the text)", Described(type(text).__name__)))
    return text


def _cut(text: str, fraction: float) -> tuple[str, str]:
    """``(head, tail)``: the tail is the last ``fraction`` of the characters."""
    cut = len(text) - round(len(text) * fraction)
    return text[:cut], text[cut:]
