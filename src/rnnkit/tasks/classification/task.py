"""The :class:`SequenceClassifier` task: fit, predict, evaluate beside the baselines, read
and split files, save and load (see the package doc)."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import torch
from torch.nn import functional as F

from rnnkit._validation import Described, expected
from rnnkit.baselines.series import ResampledNearestNeighbor, SummaryForestClassifier
from rnnkit.baselines.text import BagOfFeaturesClassifier, BagOfWordsClassifier
from rnnkit.bundle import Bundle, BundleError
from rnnkit.data.examples import as_series_list, json_label
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics.classification import accuracy, classification_metrics, f1
from rnnkit.monitoring.profile import Distribution, Profile, expected_oov_rate, text_profile
from rnnkit.tasks._batching import (
    eval_batch_size,
    make_loader,
    run_in_length_order,
    split_validation,
)
from rnnkit.tasks.base import Examples, Report, Task, TaskConfig
from rnnkit.tasks.classification.config import ClassifierConfig
from rnnkit.tasks.classification.files import (
    InputList,
    read_frame,
    read_series_frame,
    read_text_frame,
)
from rnnkit.tasks.classification.inputs import SequenceInputs
from rnnkit.tasks.classification.network import ClassifierNet
from rnnkit.tasks.encoder import HistoryMetrics, legacy_config
from rnnkit.training import Callback, Trainer
from rnnkit.training.loop import eval_mode
from rnnkit.training.seeding import seed_everything

__all__ = ["SequenceClassifier"]


def _take(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, (np.ndarray, torch.Tensor)):
        return X[idx]
    return [X[int(i)] for i in idx]


def _unpack(data: Any, y: Any, name: str = "y") -> tuple[Any, Any]:
    """``(X, y)`` of ``data`` (Examples, or X with ``y`` beside it)."""
    if isinstance(data, Examples):
        if y is not None:
            raise ConfigError(expected(name, "None when the data are Examples (they hold the "
                                       "labels)", Described(type(y).__name__)))
        return data.inputs, data.targets
    return data, y


def _take_examples(X: Sequence[Any], labels: list[Any], index: np.ndarray) -> Examples:
    """The examples at ``index``; an :class:`InputList` keeps the ids of the rows it keeps."""
    part = Examples(X, labels).take(index)
    if isinstance(X, InputList):
        return Examples(InputList(part.inputs, [X.ids[int(i)] for i in index]), part.targets)
    return part


def _as_text(X: Sequence[Any]) -> list[str]:
    return [x if isinstance(x, str) else " ".join(x) for x in X]


class SequenceClassifier(Task):
    """Classify whole sequences: texts, token lists or numeric multivariate series.

    Args:
        config: the whole configuration (:class:`ClassifierConfig`, or a dict of its tables,
            or None for the defaults).

    Attributes (after ``fit`` or ``load``):
        classes_: the sorted class labels; column c of :meth:`predict_proba` is ``classes_[c]``.
        class_counts_: training examples per class (the most-frequent-class baseline).
        model_: the :class:`ClassifierNet`.
        inputs_: the fitted :class:`SequenceInputs`.
        history_: the training :class:`~rnnkit.training.History`.
        fit_seconds_: wall time of the last ``fit``.
        baselines_: the baselines fitted beside the model, by name (saved in the bundle;
            a bundle written before they were has none).
        embedding_coverage_: the fraction of vocabulary words that pretrained vectors
            initialized in the last ``fit`` (None without ``pretrained_embeddings``).
    """

    name: ClassVar[str] = "classification"
    primary_metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True
    config_class: ClassVar[type[TaskConfig]] = ClassifierConfig
    legacy_names: ClassVar[tuple[str, ...]] = ("sequence_classification",)
    config: ClassifierConfig

    def __init__(self, config: ClassifierConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.classes_: list[Any] | None = None
        self.class_counts_: list[int] | None = None
        self.model_: ClassifierNet | None = None
        self.inputs_: SequenceInputs | None = None
        self.baselines_: dict[str, Any] = {}
        self.embedding_coverage_: float | None = None

    # -- files ------------------------------------------------------------------------
    def read_data(self, path: str | os.PathLike[str] | None = None, *,
                  labelled: bool = True) -> Examples:
        """Texts or series (and labels) of a CSV or Parquet file in one of the two formats of
        :mod:`.files` (``path``, else ``data.path``); ``labelled=False`` reads the
        inputs only."""
        d = self.config.data
        frame = read_frame(path if path is not None else d.path)
        return self.examples_from_frame(frame, labelled=labelled,
                                        source=str(path if path is not None else d.path))

    def examples_from_frame(self, frame: Any, *, labelled: bool = True,
                            source: str = "data") -> Examples:
        """The Examples of a pandas frame holding the rows of a file in one of the two formats
        of :mod:`.files` (what :meth:`read_data` does after reading the file; batch scoring
        reads a file's chunks through it); ``source`` names the file in errors."""
        d = self.config.data
        if self.file_kind(frame.columns, source) == "text":
            return read_text_frame(frame, text_column=d.text_column, id_column=d.id_column,
                                   label_column=d.label_column, labelled=labelled,
                                   source=source)
        return read_series_frame(frame, id_column=d.id_column, step_column=d.step_column,
                                 feature_columns=d.feature_columns, label_column=d.label_column,
                                 labelled=labelled, source=source)

    def file_kind(self, columns: Sequence[str], source: str = "data") -> str:
        """``"text"`` or ``"series"``: ``data.kind``, or for ``"auto"`` the format of a file
        with these columns (a text column makes it text, else an id column series)."""
        d = self.config.data
        if d.kind != "auto":
            return d.kind
        if d.text_column in columns:
            return "text"
        if d.id_column in columns:
            return "series"
        raise DataError(expected(
            source, f"a text column {d.text_column!r} or a series id column "
            f"{d.id_column!r}", Described(f"the columns {list(columns)}"),
            "set data.kind and data.text_column or data.id_column"))

    def split(self, data: Examples) -> tuple[Examples, Examples]:
        """``(fit_data, test_data)``: ``data.test_path`` read as the test part, else a seeded
        ``data.test`` fraction of ``data`` held out, stratified by class."""
        d = self.config.data
        if d.test_path is not None:
            return data, self.read_data(d.test_path)
        X, y = _unpack(data, None)
        if y is None:
            raise DataError(expected("data", "labelled Examples to split", Described("no labels")))
        labels = [json_label(v) for v in y]
        rest, test = split_validation(len(labels), float(d.test), d.seed, stratify=labels)
        return _take_examples(X, labels, rest), _take_examples(X, labels, test)

    def predict_frame(self, data: Any, *, lengths: Any = None) -> Any:
        """One row per input: its id and text (for series: id and number of steps), the true
        ``label`` when ``data`` has labels, the ``prediction`` and ``proba_<class>`` columns."""
        import pandas as pd

        X, y = _unpack(data, None)
        _, inputs = self._fitted()
        proba = self.predict_proba(X, lengths=lengths)
        ids = X.ids if isinstance(X, InputList) else list(range(len(proba)))
        columns: dict[str, Any] = {self.config.data.id_column: ids}
        if inputs.kind == "numeric":
            columns["steps"] = [len(s) for s in as_series_list(X, lengths)]
        else:
            columns[self.config.data.text_column] = _as_text(X)
        if y is not None:
            columns[self.config.data.label_column] = list(y)
        columns["prediction"] = [self.classes_[i] for i in proba.argmax(1)]  # type: ignore[index]
        for c, label in enumerate(self.classes_):  # type: ignore[arg-type]
            columns[f"proba_{label}"] = proba[:, c]
        return pd.DataFrame(columns)

    # -- fit --------------------------------------------------------------------------
    def _labels(self, y: Any, n: int, name: str = "y") -> list[Any]:
        if y is None:
            raise DataError(expected(name, "labels (one per sample of X)", None,
                                     "call fit(X, y), or fit(examples) with labelled Examples"))
        if isinstance(y, torch.Tensor):
            y = y.detach().cpu().numpy()
        labels = [json_label(v) for v in (y.tolist() if isinstance(y, np.ndarray) else list(y))]
        if len(labels) != n:
            raise ShapeError(expected(name, f"{n} labels (one per sample of X)", len(labels)))
        return labels

    def _encode_labels(self, labels: list[Any], name: str = "y") -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.classes_)}  # type: ignore[arg-type]
        unknown = sorted({str(v) for v in labels if v not in index})
        if unknown:
            raise DataError(expected(name, f"labels among the classes seen in fit {self.classes_}",
                                     unknown[:5]))
        return torch.tensor([index[v] for v in labels], dtype=torch.long)

    def fit(self, data: Any, y: Any = None, *, lengths: Any = None,
            validation: Any = None, callbacks: Sequence[Callback] = ()) -> Self:
        """Fit the preprocessing and train the network.

        Args:
            data: the :class:`~rnnkit.tasks.base.Examples` of :meth:`read_data`, or X: texts,
                token lists, a list of (T_i, F) arrays, or an (N, T, F) array.
            y: N labels (str, int, ...), two classes or more (with X).
            lengths: (N,) real lengths for an (N, T, F) array with padding.
            validation: Examples, ``(X_val, y_val)`` (or ``(X_val, y_val, lengths_val)``), a
                fraction of the training data to hold out (stratified by class), or None:
                ``data.validation`` of the config (None there too: no validation). With
                validation data the History gets ``val_loss``, ``val_accuracy`` and
                ``val_f1_macro``, and early stopping (``[early_stopping]``) is on.
            callbacks: extra :class:`~rnnkit.training.Callback` instances for the Trainer
                (after the task's own, so they see the validation metrics).

        Returns:
            self.
        """
        t0 = time.perf_counter()
        X, y = _unpack(data, y)
        kind = SequenceInputs.detect(X)
        n = len(X)
        labels = self._labels(y, n)
        cfg, tcfg = self.config.model, self.config.training
        if validation is None:
            validation = self.config.data.validation
        if isinstance(validation, Examples):
            validation = (validation.inputs, validation.targets)
        if isinstance(validation, float):
            seed = self.config.data.seed
            tr, va = split_validation(n, validation, seed, stratify=labels)
            validation = (_take(X, va), [labels[i] for i in va],
                          *(() if lengths is None else (_take(lengths, va),)))
            X, labels = _take(X, tr), [labels[i] for i in tr]
            lengths = None if lengths is None else _take(lengths, tr)
        try:
            classes = sorted(set(labels))
        except TypeError as exc:
            raise DataError(expected("y", "labels of one type (all str or all numbers)",
                                     sorted({type(v).__name__ for v in labels}))) from exc
        if len(classes) < 2:
            raise DataError(expected("y", "at least two classes", classes))
        self.classes_ = classes
        counts = Counter(labels)
        self.class_counts_ = [counts[c] for c in classes]
        self.inputs_ = SequenceInputs(kind, config=cfg).fit(X, lengths)
        x, lens = self.inputs_.transform(X, lengths)
        yt = self._encode_labels(labels)

        seed = 0 if tcfg.seed is None else tcfg.seed
        if tcfg.seed is not None:
            seed_everything(tcfg.seed)  # the initial weights depend on the seed too
        self.model_ = self._build()
        self.embedding_coverage_ = self._init_pretrained(seed)
        train = make_loader(x, yt, lens, tcfg.batch_size, shuffle=tcfg.shuffle,
                            bucket=cfg.bucket, seed=seed)
        own: list[Callback] = []
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) not in (2, 3):
                raise ConfigError(expected("validation", "(X_val, y_val), (X_val, y_val, "
                                           "lengths_val), Examples, a fraction or None",
                                           type(validation).__name__))
            Xv, yv = validation[0], validation[1]
            lv = validation[2] if len(validation) == 3 else None
            xv, lenv = self.inputs_.transform(Xv, lv, name="validation X")
            yvt = self._encode_labels(self._labels(yv, len(lenv), "validation y"), "validation y")

            def val_metrics() -> dict[str, float]:
                logits = self._logits_of(xv, lenv)  # (N_val, C), in eval mode
                pred = logits.argmax(-1)
                return {"loss": float(F.cross_entropy(logits, yvt)),
                        "accuracy": accuracy(yvt, pred),
                        "f1_macro": f1(yvt, pred, average="macro")}

            own.append(HistoryMetrics(val_metrics))
            stopping = self.config.early_stopping.callback()
            if stopping is not None:
                own.append(stopping)
        trainer = Trainer(self.model_, tcfg, loss="cross_entropy", callbacks=[*own, *callbacks])
        self.history_ = trainer.fit(train)
        self.model_.eval()
        self.baselines_ = self._fit_baselines(X, labels, lengths)
        self.profile_ = self._fit_profile(X, labels, lengths, validation)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _fit_profile(self, X: Any, labels: list[Any], lengths: Any, validation: Any
                     ) -> Profile:
        """The reference profile (:mod:`rnnkit.monitoring.profile`) of the training part:
        tokens per text and the OOV rate (text), each feature's values and the steps per
        series (numeric), the labels' shares; with validation data the predicted labels'
        shares and ``{"accuracy", "log_loss"}`` on it."""
        _, inputs = self._fitted()
        metrics: dict[str, float] = {}
        predicted = None
        if validation is not None:
            lv = validation[2] if len(validation) == 3 else None
            proba = self.predict_proba(validation[0], lengths=lv)  # (N_val, C)
            truth = np.asarray(self._encode_labels(self._labels(validation[1], len(proba))))
            picked = proba[np.arange(len(truth)), truth]
            metrics = {"accuracy": float((proba.argmax(1) == truth).mean()),
                       "log_loss": float(-np.log(np.clip(picked, 1e-15, 1)).mean())}
            predicted = [self.classes_[i] for i in proba.argmax(1)]  # type: ignore[index]
        if inputs.kind == "numeric":
            seqs = as_series_list(X, lengths)
            profile = text_profile(self.name, [len(q) for q in seqs], labels=labels,
                                   predicted=predicted, validation_metrics=metrics)
            steps = np.concatenate(seqs, axis=0)  # (sum T_i, F)
            profile.features = {f"feature_{j}": Distribution.of(steps[:, j], ordered=False)
                                for j in range(steps.shape[1])}
            return profile
        tokens = inputs._tokens(X, "X")
        return text_profile(self.name, [len(t) for t in tokens],
                            oov_rate=expected_oov_rate(tokens, inputs.vocab), labels=labels,
                            predicted=predicted, validation_metrics=metrics)

    def _fit_baselines(self, X: Any, labels: list[Any], lengths: Any) -> dict[str, Any]:
        """The bag-of-words (texts, tokens) or bag-of-features (series) baseline, fitted on
        the same training data (``evaluation.baselines``)."""
        if not self.config.evaluation.baselines:
            return {}
        if self.inputs_.kind == "numeric":  # type: ignore[union-attr]
            seed = self.config.training.seed
            return {"bag_of_features": BagOfFeaturesClassifier().fit(X, labels, lengths=lengths),
                    "summary_forest": SummaryForestClassifier(seed=seed).fit(
                        X, labels, lengths=lengths),
                    "nearest_neighbor": ResampledNearestNeighbor().fit(X, labels,
                                                                       lengths=lengths)}
        return {"bag_of_words": BagOfWordsClassifier().fit(_as_text(X), labels)}

    def _init_pretrained(self, seed: int) -> float | None:
        """Copy pretrained word vectors into the embedding (``model.pretrained_embeddings``);
        returns the fraction of the vocabulary's words they covered (None without vectors)."""
        cfg, model = self.config.model, self.model_
        if cfg.pretrained_embeddings is None:
            return None
        if model.embedding is None:  # type: ignore[union-attr]
            raise ConfigError(expected("pretrained_embeddings", "None for numeric inputs "
                                       "(word vectors need text or token inputs)",
                                       cfg.pretrained_embeddings))
        from rnnkit.datasets.word_vectors import init_embedding

        return init_embedding(model.embedding, self.inputs_.vocab,  # type: ignore[union-attr, arg-type]
                              cfg.pretrained_embeddings, freeze=cfg.freeze_embeddings, seed=seed)

    def _build(self) -> ClassifierNet:
        cfg, inp = self.config.model, self.inputs_
        token = inp.kind != "numeric"  # type: ignore[union-attr]
        return ClassifierNet(len(self.classes_), cfg.encoder,  # type: ignore[arg-type]
                             vocab_size=inp.input_size if token else None,  # type: ignore[union-attr]
                             n_features=None if token else inp.input_size,  # type: ignore[union-attr]
                             pooling=cfg.pooling, attention_size=cfg.attention_size,
                             embedding_dim=cfg.embedding_dim, dropout=cfg.dropout)

    # -- predict ----------------------------------------------------------------------
    def _fitted(self) -> tuple[ClassifierNet, SequenceInputs]:
        if self.model_ is None or self.inputs_ is None:
            raise ConfigError(expected("SequenceClassifier", "a fitted classifier",
                                       Described("an unfitted one"),
                                       "call fit(X, y) or SequenceClassifier.load(path) first"))
        return self.model_, self.inputs_

    @torch.no_grad()
    def _logits_of(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits (N, C) of encoded inputs, computed in eval mode (the mode is restored)."""
        model, _ = self._fitted()
        device = next(model.parameters()).device
        with eval_mode(model):
            rows = run_in_length_order(
                lambda xb, lb: model(xb.to(device), lb.to(device)).float().cpu(),
                x, lengths, eval_batch_size(self.config.training))
        return torch.stack(rows)  # (N, C)

    def _logits(self, X: Any, lengths: Any = None) -> torch.Tensor:
        _, inputs = self._fitted()
        X, _ = _unpack(X, None)
        return self._logits_of(*inputs.transform(X, lengths))

    def predict_proba(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """Class probabilities (N, C) (softmax of the logits); column c is ``classes_[c]``."""
        return torch.softmax(self._logits(X, lengths), dim=-1).double().numpy()

    def predict(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """The most probable class label of every sample, (N,) (X: inputs or Examples)."""
        idx = self._logits(X, lengths).argmax(-1).numpy()
        return np.asarray(self.classes_)[idx]

    @torch.no_grad()
    def attention(self, X: Any, *, lengths: Any = None) -> list[np.ndarray]:
        """Attention weights of every sample over its real steps (each sums to 1); needs
        ``pooling="attention"``."""
        model, inputs = self._fitted()
        if model.attention is None:
            raise ConfigError(expected("pooling", "'attention' to get attention weights",
                                       self.config.model.pooling))
        x, lens = inputs.transform(X, lengths)
        device = next(model.parameters()).device
        model.eval()
        rows = run_in_length_order(lambda xb, lb: model.encode(xb.to(device), lb.to(device))[1].cpu(),
                                   x, lens, eval_batch_size(self.config.training))
        return [r[: int(n)].double().numpy() for r, n in zip(rows, lens)]

    def evaluate(self, data: Any, y: Any = None, *, lengths: Any = None) -> Report:
        """The model's metrics on labelled data (:func:`classification_metrics`) beside the
        baselines': the most frequent training class, and the bag of words (texts) or of
        features (series) when fitted (``evaluation.baselines``).

        Returns:
            a :class:`~rnnkit.tasks.base.Report`: ``accuracy`` (primary), macro / micro /
            weighted F1, macro precision and recall, ROC AUC per model; ``n``, ``labels``,
            ``confusion_matrix`` and ``per_class`` (the model's) in its details, so
            ``report["confusion_matrix"]`` works as it did.
        """
        X, y = _unpack(data, y)
        labels = self._labels(y, len(X))
        proba = self.predict_proba(X, lengths=lengths)
        pred = [self.classes_[i] for i in proba.argmax(1)]  # type: ignore[index]
        model_m = classification_metrics(labels, pred, proba, labels=self.classes_)
        baselines: dict[str, dict[str, Any]] = {}
        if self.class_counts_ is not None:
            prior = np.asarray(self.class_counts_, dtype=np.float64)
            prior /= prior.sum()
            top = self.classes_[int(prior.argmax())]  # type: ignore[index]
            baselines["most_frequent"] = _scalars(classification_metrics(
                labels, [top] * len(labels), np.tile(prior, (len(labels), 1)),
                labels=self.classes_))
        for name, baseline in self.baselines_.items():
            if name in _SERIES_BASELINES:
                m = baseline.evaluate(X, labels, lengths=lengths)
            else:
                m = baseline.evaluate(_as_text(X), labels)
            baselines[name] = _scalars(m)
        details = {k: model_m[k] for k in _DETAILS}
        return Report(self.name, _scalars(model_m), baselines=baselines,
                      primary=self.primary_metric, higher_is_better=self.higher_is_better,
                      details=details)

    # -- the bundle -------------------------------------------------------------------
    def _preprocessing(self) -> dict[str, Any]:
        _, inputs = self._fitted()
        return {"inputs": inputs.to_dict(), "classes": self.classes_,
                "class_counts": self.class_counts_,
                "baselines": {name: b.to_dict() for name, b in self.baselines_.items()}}

    def _restore(self, preprocessing: dict[str, Any]) -> None:
        self.classes_ = list(preprocessing["classes"])
        counts = preprocessing.get("class_counts")
        self.class_counts_ = None if counts is None else [int(c) for c in counts]
        self.inputs_ = SequenceInputs.from_dict(preprocessing["inputs"], self.config.model)
        # bundles written before the baselines were saved have none: evaluate reports the
        # most frequent class only
        self.baselines_ = {}
        order = list(_BASELINES)  # the bundle's JSON may come back with its keys sorted
        saved = (preprocessing.get("baselines") or {}).items()
        for name, data in sorted(saved, key=lambda kv: order.index(kv[0])
                                 if kv[0] in order else -1):
            if name not in _BASELINES:
                raise BundleError(expected("preprocessing['baselines']",
                                           f"baselines among {sorted(_BASELINES)}", name))
            self.baselines_[name] = _BASELINES[name].from_dict(data)

    @classmethod
    def _config_from_bundle(cls, bundle: Bundle) -> ClassifierConfig:
        """The saved config; bundles written before the one task interface kept the model
        fields (``patience`` and ``monitor`` among them) and the training apart."""
        if "config" in bundle.config:
            return ClassifierConfig.from_dict(bundle.config["config"])
        return ClassifierConfig.from_dict(legacy_config(bundle.config))


#: The baselines a bundle may hold, by the name ``_fit_baselines`` gives them.
_BASELINES: dict[str, Any] = {
    "bag_of_words": BagOfWordsClassifier, "bag_of_features": BagOfFeaturesClassifier,
    "summary_forest": SummaryForestClassifier, "nearest_neighbor": ResampledNearestNeighbor}
#: The baselines that read numeric series (with their lengths) rather than texts.
_SERIES_BASELINES = ("bag_of_features", "summary_forest", "nearest_neighbor")

#: The model's scalar metrics in a Report; the rest of :func:`classification_metrics` goes to
#: its details.
_SCALARS = ("accuracy", "f1_macro", "f1_micro", "f1_weighted", "precision_macro",
            "recall_macro", "roc_auc")
_DETAILS = ("n", "labels", "confusion_matrix", "per_class")


def _scalars(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: metrics[k] for k in _SCALARS if k in metrics}
