"""The :class:`SequenceTagger` task: fit, predict, evaluate beside the most-frequent-tag
baseline, read and split CoNLL files, save and load (see the package doc)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import torch

from rnnkit._validation import Described, expected
from rnnkit.baselines.text import MostFrequentTagTagger
from rnnkit.bundle import Bundle, BundleError
from rnnkit.data.examples import check_sentences, check_tag_lists
from rnnkit.data.padding import pad_sequences
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics.sequence import tagging_metrics
from rnnkit.monitoring.profile import Profile, expected_oov_rate, text_profile
from rnnkit.tasks._batching import (
    eval_batch_size,
    make_loader,
    run_in_length_order,
    split_validation,
)
from rnnkit.tasks.base import Examples, Report, Task, TaskConfig, split_examples
from rnnkit.tasks.encoder import HistoryMetrics, legacy_config
from rnnkit.tasks.tagging.config import TaggerConfig
from rnnkit.tasks.tagging.features import TokenFeatures
from rnnkit.tasks.tagging.files import parse_conll
from rnnkit.tasks.tagging.network import IGNORE, TaggerNet
from rnnkit.training import Callback, Trainer
from rnnkit.training.loop import eval_mode
from rnnkit.training.seeding import seed_everything

__all__ = ["SequenceTagger"]


def _unpack(data: Any, tags: Any, name: str = "tags") -> tuple[Any, Any]:
    if isinstance(data, Examples):
        if tags is not None:
            raise ConfigError(expected(name, "None when the data are Examples (they hold the "
                                       "tags)", Described(type(tags).__name__)))
        return data.inputs, data.targets
    return data, tags


class SequenceTagger(Task):
    """Tag every token of tokenized sentences with a (Bi)LSTM, optionally with a CRF.

    Args:
        config: the whole configuration (:class:`TaggerConfig`, or a dict of its tables, or
            None for the defaults).

    Attributes (after ``fit`` or ``load``):
        tags_: the sorted tag names (emission column k is ``tags_[k]``).
        model_, features_, history_, fit_seconds_.
        baselines_: the most-frequent-tag baseline fitted beside the model, by name (saved
            in the bundle; a bundle written before it was has none).
        embedding_coverage_: the fraction of vocabulary words that pretrained vectors
            initialized in the last ``fit`` (None without ``pretrained_embeddings``).
    """

    name: ClassVar[str] = "tagging"
    primary_metric: ClassVar[str] = "token_accuracy"
    higher_is_better: ClassVar[bool] = True
    config_class: ClassVar[type[TaskConfig]] = TaggerConfig
    legacy_names: ClassVar[tuple[str, ...]] = ("sequence_tagging",)
    config: TaggerConfig

    def __init__(self, config: TaggerConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.tags_: list[str] | None = None
        self.model_: TaggerNet | None = None
        self.features_: TokenFeatures | None = None
        self.baselines_: dict[str, Any] = {}
        self.embedding_coverage_: float | None = None

    # -- files ------------------------------------------------------------------------
    def read_data(self, path: str | os.PathLike[str] | None = None, *,
                  labelled: bool = True) -> Examples:
        """Sentences (and tags) of a CoNLL-layout file (``path``, else ``data.path``; see
        :mod:`.files`); ``labelled=False`` reads the tokens only."""
        path = self.config.data.path if path is None else path
        if path is None:
            raise ConfigError(expected("data.path", "the path of a CoNLL file", None,
                                       "set data.path in the config or pass read_data(path)"))
        p = Path(path)
        if not p.is_file():
            raise DataError(expected("data.path", "an existing CoNLL file", str(p)))
        return parse_conll(p.read_text(encoding="utf-8"), labelled=labelled, source=str(p))

    def split(self, data: Examples) -> tuple[Examples, Examples]:
        """``(fit_data, test_data)``: ``data.test_path`` read as the test part, else a seeded
        ``data.test`` fraction of the sentences held out."""
        d = self.config.data
        if d.test_path is not None:
            return data, self.read_data(d.test_path)
        return split_examples(Examples(*_unpack(data, None)), float(d.test), d.seed)

    def predict_frame(self, data: Any) -> Any:
        """One row per token: ``sentence`` (index), ``position``, ``token``, the true ``tag``
        when ``data`` has tags, and the ``prediction``."""
        import pandas as pd

        sentences, tags = _unpack(data, None)
        predicted = self.predict(sentences)
        rows: dict[str, list[Any]] = {"sentence": [], "position": [], "token": []}
        if tags is not None:
            rows["tag"] = []
        rows["prediction"] = []
        for i, (sentence, pred) in enumerate(zip(sentences, predicted)):
            for j, (token, tag) in enumerate(zip(sentence, pred)):
                rows["sentence"].append(i)
                rows["position"].append(j)
                rows["token"].append(token)
                if tags is not None:
                    rows["tag"].append(tags[i][j])
                rows["prediction"].append(tag)
        return pd.DataFrame(rows)

    # -- fit --------------------------------------------------------------------------
    def _encode_tags(self, tags: list[list[str]], name: str) -> torch.Tensor:
        index = {t: i for i, t in enumerate(self.tags_)}  # type: ignore[arg-type]
        rows = []
        for i, t in enumerate(tags):
            unknown = [v for v in t if v not in index]
            if unknown:
                raise DataError(expected(f"{name}[{i}]", f"tags among those seen in fit {self.tags_}",
                                         unknown[0]))
            rows.append([index[v] for v in t])
        y, _ = pad_sequences(rows, value=IGNORE)  # (N, T), -100 on padding
        return y

    def fit(self, data: Any, tags: Sequence[Sequence[str]] | None = None, *,
            validation: Any = None, callbacks: Sequence[Callback] = ()) -> Self:
        """Fit the vocabularies and train.

        Args:
            data: the :class:`~rnnkit.tasks.base.Examples` of :meth:`read_data`, or N
                tokenized sentences.
            tags: N lists of tag names, one per token (with sentences).
            validation: Examples, ``(sentences_val, tags_val)``, a fraction of the training
                sentences to hold out, or None: ``data.validation`` of the config (None there
                too: no validation). With validation data the History gets ``val_loss`` and
                ``val_token_accuracy``, and early stopping (``[early_stopping]``) is on.
            callbacks: extra :class:`~rnnkit.training.Callback` instances for the Trainer
                (after the task's own, so they see the validation metrics).

        Returns:
            self.
        """
        t0 = time.perf_counter()
        sentences, tags = _unpack(data, tags)
        sents = check_sentences(sentences, "sentences")
        if tags is None:
            raise DataError(expected("tags", "a tag list per sentence", None,
                                     "call fit(sentences, tags), or fit(examples) with tags"))
        tag_lists = check_tag_lists(sents, tags, "tags")
        if validation is None:
            validation = self.config.data.validation
        if isinstance(validation, Examples):
            validation = (validation.inputs, validation.targets)
        if isinstance(validation, float):
            tr, va = split_validation(len(sents), validation, self.config.data.seed)
            validation = ([sents[i] for i in va], [tag_lists[i] for i in va])
            sents, tag_lists = [sents[i] for i in tr], [tag_lists[i] for i in tr]
        self.tags_ = sorted({v for t in tag_lists for v in t})
        if len(self.tags_) < 2:
            raise DataError(expected("tags", "at least two distinct tags", self.tags_))
        y = self._encode_tags(tag_lists, "tags")
        cfg, tcfg = self.config.model, self.config.training
        self.features_ = TokenFeatures(cfg).fit(sents)
        x, lens = self.features_.transform(sents)

        seed = 0 if tcfg.seed is None else tcfg.seed
        if tcfg.seed is not None:
            seed_everything(tcfg.seed)
        self.model_ = self._build()
        self.embedding_coverage_ = None
        if cfg.pretrained_embeddings is not None:
            from rnnkit.datasets.word_vectors import init_embedding

            self.embedding_coverage_ = init_embedding(
                self.model_.words, self.features_.words, cfg.pretrained_embeddings,  # type: ignore[arg-type]
                freeze=cfg.freeze_embeddings, seed=seed)
        train = make_loader(x, y, lens, tcfg.batch_size, shuffle=tcfg.shuffle, bucket=cfg.bucket,
                            seed=seed)
        own: list[Callback] = []
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise ConfigError(expected("validation", "(sentences_val, tags_val), Examples, "
                                           "a fraction or None", type(validation).__name__))
            vs = check_sentences(validation[0], "validation sentences")
            yv = self._encode_tags(check_tag_lists(vs, validation[1], "validation tags"),
                                   "validation tags")
            xv, lv = self.features_.transform(vs)
            own.append(HistoryMetrics(lambda: self._validate(xv, yv, lv)))
            stopping = self.config.early_stopping.callback()
            if stopping is not None:
                own.append(stopping)
        trainer = Trainer(self.model_, tcfg, loss=self.model_.loss, callbacks=[*own, *callbacks])
        self.history_ = trainer.fit(train)
        self.model_.eval()
        self.baselines_ = {}
        if self.config.evaluation.baselines:
            self.baselines_["most_frequent_tag"] = MostFrequentTagTagger().fit(sents, tag_lists)
        self.profile_ = self._fit_profile(sents, tag_lists, validation)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _fit_profile(self, sents: list[list[str]], tag_lists: list[list[str]],
                     validation: Any) -> Profile:
        """The reference profile (:mod:`rnnkit.monitoring.profile`) of the training part:
        tokens per sentence, the expected OOV rate of the word vocabulary, the tags' shares;
        with validation data the predicted tags' shares and the token accuracy."""
        feats = self.features_
        words = [[feats._word(t) for t in s] for s in sents]  # type: ignore[union-attr]
        metrics: dict[str, float] = {}
        predicted = None
        if validation is not None:
            pred = self.predict(validation[0])
            pairs = [(p, t) for ps, ts in zip(pred, validation[1], strict=True)
                     for p, t in zip(ps, ts, strict=True)]
            metrics = {"token_accuracy": sum(p == t for p, t in pairs) / max(len(pairs), 1)}
            predicted = [p for ps in pred for p in ps]
        return text_profile(self.name, [len(s) for s in sents],
                            oov_rate=expected_oov_rate(words, feats.words),  # type: ignore[union-attr]
                            labels=[t for ts in tag_lists for t in ts], predicted=predicted,
                            validation_metrics=metrics)

    def _build(self) -> TaggerNet:
        feats = self.features_
        return TaggerNet(len(self.tags_), self.config.model,  # type: ignore[arg-type]
                         vocab_size=len(feats.words),  # type: ignore[union-attr, arg-type]
                         suffix_vocab_size=None if feats.suffixes is None else len(feats.suffixes))  # type: ignore[union-attr]

    @torch.no_grad()
    def _validate(self, x: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> dict[str, float]:
        """Loss per token and token accuracy on encoded data, in eval mode (mode restored)."""
        model, _ = self._fitted()
        device = next(model.parameters()).device
        loss_sum, hits = 0.0, 0
        with eval_mode(model):
            for idx in torch.argsort(lengths, stable=True).split(eval_batch_size(self.config.training)):
                lb = lengths[idx].to(device)
                t_max = int(lb.max())
                xb, yb = x[idx][:, :t_max].to(device), y[idx][:, :t_max].to(device)
                em = model(xb, lb)  # (b, t_max, K)
                loss_sum += float(model.loss(em, yb)) * int(lb.sum())
                hits += int((model.decode(em, lb) == yb).masked_fill(yb == IGNORE, False).sum())
        n = int(lengths.sum())
        return {"loss": loss_sum / n, "token_accuracy": hits / n}

    # -- predict ----------------------------------------------------------------------
    def _fitted(self) -> tuple[TaggerNet, TokenFeatures]:
        if self.model_ is None or self.features_ is None:
            raise ConfigError(expected("SequenceTagger", "a fitted tagger", Described("an unfitted one"),
                                       "call fit(sentences, tags) or SequenceTagger.load(path) first"))
        return self.model_, self.features_

    @torch.no_grad()
    def _decode_ids(self, x: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
        """Tag ids of every sentence (a list of (T_i,) tensors), in the input order."""
        model, _ = self._fitted()
        device = next(model.parameters()).device

        def run(xb: torch.Tensor, lb: torch.Tensor) -> torch.Tensor:
            lb = lb.to(device)
            return model.decode(model(xb.to(device), lb), lb).cpu()

        with eval_mode(model):
            rows = run_in_length_order(run, x, lengths, eval_batch_size(self.config.training))
        return [r[: int(n)] for r, n in zip(rows, lengths)]

    def predict(self, sentences: Any) -> list[list[str]]:
        """The tag of every token of every sentence (sentences, or Examples)."""
        _, feats = self._fitted()
        sents = check_sentences(_unpack(sentences, None)[0], "sentences")
        x, lens = feats.transform(sents)
        names = self.tags_
        return [[names[i] for i in row.tolist()] for row in self._decode_ids(x, lens)]  # type: ignore[index]

    def evaluate(self, data: Any, tags: Sequence[Sequence[str]] | None = None) -> Report:
        """The model's metrics on tagged sentences (:func:`tagging_metrics`) beside the
        most-frequent-tag baseline's (when fitted), out-of-vocabulary accuracy measured on the
        same tokens (words the tagger's vocabulary lacks) for both.

        Returns:
            a :class:`~rnnkit.tasks.base.Report`: ``token_accuracy`` (primary), sentence
            accuracy, F1s, ``oov_accuracy`` per model; counts, ``labels``, ``per_class`` and
            ``confusion_matrix`` (the model's) in its details.
        """
        _, feats = self._fitted()
        sentences, tags = _unpack(data, tags)
        sents = check_sentences(sentences, "sentences")
        if tags is None:
            raise DataError(expected("tags", "a tag list per sentence", None))
        gold = check_tag_lists(sents, tags, "tags")
        known = feats.is_known(sents)
        model_m = tagging_metrics(gold, self.predict(sents), known)
        baselines = {name: _scalars(tagging_metrics(gold, b.predict(sents), known))
                     for name, b in self.baselines_.items()}
        details = {k: model_m[k] for k in _DETAILS if k in model_m}
        return Report(self.name, _scalars(model_m), baselines=baselines,
                      primary=self.primary_metric,
                      higher_is_better=self.higher_is_better, details=details)

    # -- the bundle -------------------------------------------------------------------
    def _preprocessing(self) -> dict[str, Any]:
        _, feats = self._fitted()
        return {"features": feats.to_dict(), "tags": self.tags_,
                "baselines": {name: b.to_dict() for name, b in self.baselines_.items()}}

    def _restore(self, preprocessing: dict[str, Any]) -> None:
        self.tags_ = [str(t) for t in preprocessing["tags"]]
        self.features_ = TokenFeatures.from_dict(preprocessing["features"], self.config.model)
        # bundles written before the baseline was saved have none: evaluate reports the
        # model alone
        self.baselines_ = {}
        for name, data in (preprocessing.get("baselines") or {}).items():
            if name != "most_frequent_tag":
                raise BundleError(expected("preprocessing['baselines']",
                                           "the baseline 'most_frequent_tag'", name))
            self.baselines_[name] = MostFrequentTagTagger.from_dict(data)

    @classmethod
    def _config_from_bundle(cls, bundle: Bundle) -> TaggerConfig:
        """The saved config; bundles written before the one task interface kept the model
        fields (``patience`` and ``monitor`` among them) and the training apart."""
        if "config" in bundle.config:
            return TaggerConfig.from_dict(bundle.config["config"])
        return TaggerConfig.from_dict(legacy_config(bundle.config))


#: The scalar metrics of a Report row; the rest of :func:`tagging_metrics` goes to details.
_SCALARS = ("token_accuracy", "sentence_accuracy", "f1_macro", "f1_micro", "f1_weighted",
            "oov_accuracy")
_DETAILS = ("n_sentences", "n_tokens", "n_oov", "labels", "per_class", "confusion_matrix")


def _scalars(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: metrics[k] for k in _SCALARS if k in metrics}
