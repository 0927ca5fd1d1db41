r"""Non-sequential baselines for sequence classification and tagging.

A recurrent classifier or tagger earns its keep only if it beats these, measured on the same
split with the same metrics:

=============================  ================================================================
BagOfWordsClassifier           texts -> TF-IDF of word n-grams -> logistic regression
                               (scikit-learn). Word order is lost beyond ``ngram_range``.
BagOfFeaturesClassifier        numeric series (T_i, F) -> per-feature summary statistics over
                               the real steps (mean, std, min, max, first, last, slope) and the
                               length -> standardized -> logistic regression. Time order is
                               lost beyond the first/last/slope features.
MostFrequentTagTagger          each word gets the tag it had most often in training (ties: the
                               tag seen first); a word never seen gets, after a lower-case
                               lookup, the most frequent tag of the words seen once (usually
                               NOUN). No context at all.
=============================  ================================================================

All share the task API: ``fit`` -> self, ``predict``, ``evaluate`` (the same metric
dictionaries as :class:`~rnnkit.tasks.classification.SequenceClassifier` and
:class:`~rnnkit.tasks.tagging.SequenceTagger`), and ``predict_proba`` for the classifiers.
They are small, deterministic references. ``to_dict()`` writes a fitted one as plain JSON
values (the fitted scikit-learn attributes as lists of floats; never a pickle) and
``from_dict(data)`` rebuilds it predicting exactly what it did: the classification and
tagging tasks keep their baselines in the bundle that way.

Example:
    >>> clf = BagOfWordsClassifier().fit(["good", "bad", "very good", "very bad"], [1, 0, 1, 0])
    >>> clf.predict(["good good"]).tolist()
    [1]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.data.examples import as_series_list, check_sentences, check_tag_lists, json_label
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics.classification import classification_metrics
from rnnkit.metrics.sequence import tagging_metrics

__all__ = [
    "SUMMARY_STATISTICS",
    "BagOfFeaturesClassifier",
    "BagOfWordsClassifier",
    "MostFrequentTagTagger",
    "summary_features",
]

#: The per-feature statistics of :func:`summary_features`, in column order.
SUMMARY_STATISTICS = ("mean", "std", "min", "max", "first", "last", "slope")


def _labels(y: Any, n: int) -> list[Any]:
    values = y.tolist() if hasattr(y, "tolist") else list(y)
    labels = [json_label(v) for v in values]
    if len(labels) != n:
        raise DataError(expected("y", f"{n} labels (one per sample of X)", len(labels)))
    if len(set(labels)) < 2:
        raise DataError(expected("y", "at least two classes", sorted(set(map(str, labels)))))
    return labels


def _field(data: Any, key: str, name: str = "data") -> Any:
    """``data[key]`` of a dict written by a ``to_dict()``; a DataError names a missing key."""
    if not isinstance(data, Mapping):
        raise DataError(expected(name, "a dict written by to_dict()", type(data).__name__))
    if key not in data:
        raise DataError(expected(name, f"a dict written by to_dict() with the key {key!r}",
                                 Described(f"the keys {sorted(map(str, data))}")))
    return data[key]


def _check_type(data: Any, kind: str) -> None:
    if _field(data, "type") != kind:
        raise DataError(expected("data['type']", repr(kind), data["type"],
                                 "pass the dict that this class's to_dict() wrote"))


def _floats(data: Any, key: str, name: str, ndim: int) -> np.ndarray:
    """``data[key]`` as a float64 array of ``ndim`` dimensions."""
    value = _field(data, key, name)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(expected(f"{name}[{key!r}]", "numbers", Described("other values"))) from exc
    if arr.ndim != ndim:
        raise DataError(expected(f"{name}[{key!r}]", f"a {ndim}-d list of numbers",
                                 Described(f"{arr.ndim} dimensions")))
    return arr


def _pair(data: Any, key: str, name: str) -> tuple[int, int]:
    """``data[key]`` as the (min_n, max_n) pair that JSON stores as a list of two integers."""
    value = _field(data, key, name)
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise DataError(expected(f"{name}[{key!r}]", "a list [min_n, max_n]", value))
    return value[0], value[1]


def _logistic_to_dict(lr: Any) -> dict[str, Any]:
    """The fitted attributes of a LogisticRegression that predict and predict_proba read."""
    return {"classes": lr.classes_.tolist(), "coef": lr.coef_.tolist(),
            "intercept": lr.intercept_.tolist(), "n_iter": lr.n_iter_.tolist(),
            "fit_intercept": bool(lr.fit_intercept)}


def _logistic_from_dict(data: Any, n_features: int, C: float, max_iter: int) -> Any:
    """A LogisticRegression set to the attributes of :func:`_logistic_to_dict` (no fit)."""
    from sklearn.linear_model import LogisticRegression

    name = "data['logistic']"
    classes = _field(data, "classes", name)
    if not isinstance(classes, list):
        raise DataError(expected(f"{name}['classes']", "a list of class labels",
                                 type(classes).__name__))
    classes = [json_label(c) for c in classes]
    coef = _floats(data, "coef", name, 2)
    intercept = _floats(data, "intercept", name, 1)
    n_rows = 1 if len(classes) == 2 else len(classes)
    if len(classes) < 2 or coef.shape != (n_rows, n_features) or intercept.shape != (n_rows,):
        raise DataError(expected(name, f"coef of shape {(n_rows, n_features)} and intercept "
                                 f"of shape {(n_rows,)} for {len(classes)} classes (at least 2)",
                                 Described(f"coef {coef.shape}, intercept {intercept.shape}")))
    lr = LogisticRegression(C=C, max_iter=max_iter,
                            fit_intercept=bool(_field(data, "fit_intercept", name)))
    lr.classes_ = np.asarray(classes)  # str, int, float or bool: the dtype fit gave them
    lr.coef_ = coef
    lr.intercept_ = intercept
    lr.n_iter_ = np.asarray(_field(data, "n_iter", name), dtype=np.int32)
    lr.n_features_in_ = n_features
    return lr


class _LogisticBaseline:
    """Shared predict / evaluate of the two scikit-learn classifiers."""

    pipeline_: Any = None

    def _features(self, X: Any, lengths: Any = None) -> Any:
        raise NotImplementedError

    def _require_fitted(self) -> Any:
        if self.pipeline_ is None:
            raise ConfigError(expected(type(self).__name__, "a fitted baseline",
                                       Described("an unfitted one"), "call fit(X, y) first"))
        return self.pipeline_

    @property
    def classes_(self) -> list[Any]:
        """The sorted class labels (the columns of :meth:`predict_proba`)."""
        return self._require_fitted().classes_.tolist()

    def predict_proba(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """Class probabilities (N, C); column c is ``classes_[c]``."""
        return self._require_fitted().predict_proba(self._features(X, lengths))

    def predict(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        return self._require_fitted().predict(self._features(X, lengths))

    def evaluate(self, X: Any, y: Any, *, lengths: Any = None) -> dict[str, Any]:
        """The metrics of :func:`~rnnkit.metrics.classification_metrics`."""
        proba = self.predict_proba(X, lengths=lengths)
        classes = self.classes_
        pred = [classes[i] for i in proba.argmax(1)]
        return classification_metrics(_labels(y, len(pred)), pred, proba, labels=classes)


class BagOfWordsClassifier(_LogisticBaseline):
    """TF-IDF of word n-grams + logistic regression.

    Args:
        ngram_range: (min_n, max_n) word n-grams (default unigrams and bigrams).
        min_df: ignore n-grams found in fewer training documents.
        C: inverse L2 regularization strength of the logistic regression.
        lowercase: lower-case before counting.
        max_iter: solver iterations.

    ``X`` is a list of texts (tokenized by scikit-learn's default word pattern) or of token
    lists (used as given).
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), min_df: int = 1, C: float = 4.0,
                 lowercase: bool = True, max_iter: int = 1000) -> None:
        lo, hi = ngram_range
        check_positive_int("ngram_range[0]", lo)
        if isinstance(hi, bool) or not isinstance(hi, int) or hi < lo:
            raise ConfigError(expected("ngram_range", "(min_n, max_n) with 1 <= min_n <= max_n",
                                       ngram_range))
        self.ngram_range = (lo, hi)
        self.min_df = check_positive_int("min_df", min_df)
        if isinstance(C, bool) or not isinstance(C, (int, float)) or not C > 0:
            raise ConfigError(expected("C", "a number > 0", C))
        self.C = float(C)
        self.lowercase = bool(lowercase)
        self.max_iter = check_positive_int("max_iter", max_iter)
        self.pipeline_ = None

    def __repr__(self) -> str:
        return (f"BagOfWordsClassifier(ngram_range={self.ngram_range}, min_df={self.min_df}, "
                f"C={self.C})")

    def _features(self, X: Any, lengths: Any = None) -> Any:
        if lengths is not None:
            raise ConfigError(expected("lengths", "None for texts", Described("lengths")))
        if isinstance(X, str) or not isinstance(X, Sequence):
            raise DataError(expected("X", "a list of texts or token lists", type(X).__name__))
        if X and not isinstance(X[0], str):
            # pre-tokenized: join with a separator no token contains, split on it again
            return ["\x1f".join(t.lower() if self.lowercase else t for t in toks) for toks in X]
        return list(X)

    def fit(self, X: Sequence[Any], y: Any) -> Self:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        docs = self._features(X)
        labels = _labels(y, len(docs))
        tokenized = bool(X) and not isinstance(X[0], str)
        vec = TfidfVectorizer(ngram_range=self.ngram_range, min_df=self.min_df,
                              lowercase=self.lowercase and not tokenized, sublinear_tf=True,
                              **({"tokenizer": _split_unit, "token_pattern": None}
                                 if tokenized else {}))
        self.pipeline_ = make_pipeline(vec, LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.pipeline_.fit(docs, np.asarray(labels))
        return self

    def to_dict(self) -> dict[str, Any]:
        """The fitted baseline as plain JSON values: the settings, the TF-IDF vectorizer's
        settings, terms (in column order) and idf weights, the logistic regression's
        coefficients and classes."""
        pipe = self._require_fitted()
        vec, lr = pipe[0], pipe[-1]
        terms = [""] * len(vec.vocabulary_)
        for term, column in vec.vocabulary_.items():
            terms[column] = term
        settings = {k: vec.get_params()[k] for k in _TFIDF_SETTINGS}
        settings["ngram_range"] = list(settings["ngram_range"])
        return {"type": "bag_of_words",
                "params": {"ngram_range": list(self.ngram_range), "min_df": self.min_df,
                           "C": self.C, "lowercase": self.lowercase, "max_iter": self.max_iter},
                "vectorizer": {**settings, "tokenized": vec.tokenizer is _split_unit,
                               "terms": terms, "idf": vec.idf_.tolist()},
                "logistic": _logistic_to_dict(lr)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BagOfWordsClassifier:
        """Rebuild a fitted baseline from :meth:`to_dict` (no fitting, no pickle)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline

        _check_type(data, "bag_of_words")
        params = _field(data, "params")
        out = cls(ngram_range=_pair(params, "ngram_range", "data['params']"),
                  **{k: _field(params, k, "data['params']")
                     for k in ("min_df", "C", "lowercase", "max_iter")})
        v = _field(data, "vectorizer")
        settings = {k: _field(v, k, "data['vectorizer']") for k in _TFIDF_SETTINGS}
        settings["ngram_range"] = _pair(v, "ngram_range", "data['vectorizer']")
        tokenized = bool(_field(v, "tokenized", "data['vectorizer']"))
        terms = _field(v, "terms", "data['vectorizer']")
        idf = _floats(v, "idf", "data['vectorizer']", 1)
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise DataError(expected("data['vectorizer']['terms']", "a list of str terms",
                                     Described(type(terms).__name__)))
        if not terms or len(set(terms)) != len(terms) or len(idf) != len(terms):
            raise DataError(expected("data['vectorizer']", "distinct terms, one idf weight each",
                                     Described(f"{len(set(terms))} distinct of {len(terms)} "
                                               f"terms, {len(idf)} weights")))
        vec = TfidfVectorizer(**settings, **({"tokenizer": _split_unit} if tokenized else {}))
        vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
        vec.fixed_vocabulary_ = False
        vec.idf_ = idf
        lr = _logistic_from_dict(_field(data, "logistic"), len(terms), out.C, out.max_iter)
        out.pipeline_ = make_pipeline(vec, lr)
        return out


#: The TfidfVectorizer settings that shape its features (``to_dict`` stores them).
_TFIDF_SETTINGS = ("analyzer", "binary", "lowercase", "ngram_range", "norm", "smooth_idf",
                   "strip_accents", "sublinear_tf", "token_pattern", "use_idf")


def _split_unit(doc: str) -> list[str]:
    return doc.split("\x1f") if doc else []


def summary_features(X: Any, lengths: Any = None) -> np.ndarray:
    """Per-feature summaries of every series over its real steps: (N, 7·F + 1).

    Columns: for each statistic of :data:`SUMMARY_STATISTICS` (``slope`` is the least-squares
    slope against the step index, 0 for a single step) the F features, then the length.
    """
    seqs = as_series_list(X, lengths)
    rows = []
    for s in seqs:
        T = s.shape[0]
        t = np.arange(T, dtype=np.float64) - (T - 1) / 2.0  # centred step index
        denom = float((t**2).sum())
        slope = (t @ (s - s.mean(0))) / denom if denom > 0 else np.zeros(s.shape[1])
        rows.append(np.concatenate([s.mean(0), s.std(0), s.min(0), s.max(0), s[0], s[-1],
                                    slope, [T]]))
    return np.asarray(rows)


class BagOfFeaturesClassifier(_LogisticBaseline):
    """Summary statistics of each series (:func:`summary_features`) + standardization +
    logistic regression.

    Args:
        C: inverse L2 regularization strength.
        max_iter: solver iterations.

    ``X`` is a list of (T_i, F) arrays or an (N, T, F) array with optional ``lengths``.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 5000) -> None:
        if isinstance(C, bool) or not isinstance(C, (int, float)) or not C > 0:
            raise ConfigError(expected("C", "a number > 0", C))
        self.C = float(C)
        self.max_iter = check_positive_int("max_iter", max_iter)
        self.pipeline_ = None

    def __repr__(self) -> str:
        return f"BagOfFeaturesClassifier(C={self.C})"

    def _features(self, X: Any, lengths: Any = None) -> np.ndarray:
        return summary_features(X, lengths)

    def fit(self, X: Any, y: Any, *, lengths: Any = None) -> Self:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        feats = self._features(X, lengths)
        labels = _labels(y, len(feats))
        self.pipeline_ = make_pipeline(StandardScaler(),
                                       LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.pipeline_.fit(feats, np.asarray(labels))
        return self

    def to_dict(self) -> dict[str, Any]:
        """The fitted baseline as plain JSON values: the settings, the scaler's statistics,
        the logistic regression's coefficients and classes."""
        pipe = self._require_fitted()
        scaler, lr = pipe[0], pipe[-1]
        return {"type": "bag_of_features", "params": {"C": self.C, "max_iter": self.max_iter},
                "scaler": {"with_mean": bool(scaler.with_mean), "with_std": bool(scaler.with_std),
                           "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
                           "var": scaler.var_.tolist(),
                           "n_samples_seen": np.asarray(scaler.n_samples_seen_).tolist()},
                "logistic": _logistic_to_dict(lr)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BagOfFeaturesClassifier:
        """Rebuild a fitted baseline from :meth:`to_dict` (no fitting, no pickle)."""
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        _check_type(data, "bag_of_features")
        params = _field(data, "params")
        out = cls(C=_field(params, "C", "data['params']"),
                  max_iter=_field(params, "max_iter", "data['params']"))
        s = _field(data, "scaler")
        name = "data['scaler']"
        stats = {k: _floats(s, k, name, 1) for k in ("mean", "scale", "var")}
        n_features = len(stats["mean"])
        if any(len(v) != n_features for v in stats.values()) or n_features == 0:
            raise DataError(expected(name, "mean, scale and var of one length > 0",
                                     Described(str({k: len(v) for k, v in stats.items()}))))
        scaler = StandardScaler(with_mean=bool(_field(s, "with_mean", name)),
                                with_std=bool(_field(s, "with_std", name)))
        scaler.mean_, scaler.scale_, scaler.var_ = stats["mean"], stats["scale"], stats["var"]
        scaler.n_samples_seen_ = np.asarray(_field(s, "n_samples_seen", name))[()]
        scaler.n_features_in_ = n_features
        lr = _logistic_from_dict(_field(data, "logistic"), n_features, out.C, out.max_iter)
        out.pipeline_ = make_pipeline(scaler, lr)
        return out


class MostFrequentTagTagger:
    """Tag each word with its most frequent training tag (see the module table).

    Args:
        lowercase_fallback: look an unseen word up lower-cased before giving up on it.

    Attributes (after ``fit``): ``lexicon_`` (word -> tag), ``unknown_tag_`` (the tag for
    unseen words), ``tags_`` (sorted tag names).
    """

    def __init__(self, lowercase_fallback: bool = True) -> None:
        self.lowercase_fallback = bool(lowercase_fallback)
        self.lexicon_: dict[str, str] | None = None
        self.lower_lexicon_: dict[str, str] = {}
        self.unknown_tag_: str | None = None
        self.tags_: list[str] = []

    def __repr__(self) -> str:
        return "MostFrequentTagTagger()" if self.lowercase_fallback else \
            "MostFrequentTagTagger(lowercase_fallback=False)"

    @staticmethod
    def _argmax(counts: Counter[str], order: dict[str, int]) -> str:
        # most frequent; ties go to the tag seen first in training
        return min(counts, key=lambda t: (-counts[t], order[t]))

    def fit(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> Self:
        sents = check_sentences(sentences, "sentences")
        tag_lists = check_tag_lists(sents, tags, "tags")
        by_word: dict[str, Counter[str]] = defaultdict(Counter)
        by_lower: dict[str, Counter[str]] = defaultdict(Counter)
        order: dict[str, int] = {}
        for s, ts in zip(sents, tag_lists):
            for w, t in zip(s, ts):
                by_word[w][t] += 1
                by_lower[w.lower()][t] += 1
                order.setdefault(t, len(order))
        self.lexicon_ = {w: self._argmax(c, order) for w, c in by_word.items()}
        self.lower_lexicon_ = {w: self._argmax(c, order) for w, c in by_lower.items()}
        hapax: Counter[str] = Counter()
        for c in by_word.values():
            if sum(c.values()) == 1:
                hapax.update(c)
        overall: Counter[str] = Counter()
        for c in by_word.values():
            overall.update(c)
        self.unknown_tag_ = self._argmax(hapax or overall, order)
        self.tags_ = sorted(order)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The fitted tagger as plain JSON values (its lexicons and tags)."""
        self._require_fitted()
        return {"type": "most_frequent_tag", "lowercase_fallback": self.lowercase_fallback,
                "lexicon": dict(self.lexicon_),  # type: ignore[arg-type]
                "lower_lexicon": dict(self.lower_lexicon_), "unknown_tag": self.unknown_tag_,
                "tags": list(self.tags_)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MostFrequentTagTagger:
        """Rebuild a fitted tagger from :meth:`to_dict`."""
        _check_type(data, "most_frequent_tag")
        out = cls(lowercase_fallback=bool(_field(data, "lowercase_fallback")))
        tags = _field(data, "tags")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise DataError(expected("data['tags']", "a list of tag names", tags))
        known = set(tags)
        lexicons = []
        for key in ("lexicon", "lower_lexicon"):
            lex = _field(data, key)
            if not isinstance(lex, Mapping):
                raise DataError(expected(f"data[{key!r}]", "a dict word -> tag",
                                         type(lex).__name__))
            bad = next(((w, t) for w, t in lex.items() if not isinstance(w, str) or t not in known),
                       None)
            if bad is not None:
                raise DataError(expected(f"data[{key!r}][{bad[0]!r}]", f"one of the tags {tags}",
                                         bad[1]))
            lexicons.append(dict(lex))
        unknown_tag = _field(data, "unknown_tag")
        if unknown_tag not in known:
            raise DataError(expected("data['unknown_tag']", f"one of {tags}", unknown_tag))
        out.lexicon_, out.lower_lexicon_ = lexicons
        out.unknown_tag_, out.tags_ = unknown_tag, list(tags)
        return out

    def _tag(self, word: str) -> str:
        lex = self.lexicon_
        if word in lex:  # type: ignore[operator]
            return lex[word]  # type: ignore[index]
        if self.lowercase_fallback and word.lower() in self.lower_lexicon_:
            return self.lower_lexicon_[word.lower()]
        return self.unknown_tag_  # type: ignore[return-value]

    def _require_fitted(self) -> None:
        if self.lexicon_ is None:
            raise ConfigError(expected("MostFrequentTagTagger", "a fitted tagger",
                                       Described("an unfitted one"), "call fit(sentences, tags) first"))

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        self._require_fitted()
        return [[self._tag(w) for w in s] for s in check_sentences(sentences, "sentences")]

    def is_known(self, sentences: Sequence[Sequence[str]]) -> list[list[bool]]:
        """Whether each token was seen (exactly) in training."""
        self._require_fitted()
        return [[w in self.lexicon_ for w in s] for s in sentences]  # type: ignore[operator]

    def evaluate(self, sentences: Sequence[Sequence[str]],
                 tags: Sequence[Sequence[str]]) -> dict[str, Any]:
        """The metrics of :func:`~rnnkit.metrics.tagging_metrics`; ``oov_accuracy`` is
        over words not seen in training."""
        sents = check_sentences(sentences, "sentences")
        gold = check_tag_lists(sents, tags, "tags")
        return tagging_metrics(gold, self.predict(sents), self.is_known(sents))
