"""Time-series classification sets in the ``.ts`` format, read from the sktime source archive.

The source distribution of PyPI ``sktime`` 1.2.0 (36 MB, sha256-pinned in :data:`SKTIME`)
carries eleven problems of the UCR/UEA archive (timeseriesclassification.com) as
``sktime-1.2.0/sktime/datasets/data/<Name>/<Name>_{TRAIN,TEST}.ts``. :func:`fetch` downloads
it once into rnnkit's cache (see :mod:`rnnkit.datasets.cache`); :func:`load_ts_classification`
reads a set's official train or test split straight from the archive with :func:`parse_ts`.
sktime itself is neither installed nor imported.

The nine classification sets (:data:`TS_DATASETS`; dimensions, steps per series, classes,
official train / test sizes, counted from the files):

================  ====  =========  =======  ============
name              dims  steps      classes  train / test
================  ====  =========  =======  ============
ACSF1             1     1460       10       100 / 100
ArrowHead         1     251        3        36 / 175
BasicMotions      6     100        4        40 / 40
GunPoint          1     150        2        50 / 150
ItalyPowerDemand  1     24         2        67 / 1029
JapaneseVowels    12    7-29       9        270 / 370
OSULeaf           1     427        6        200 / 242
PLAID             1     100-1344   11       537 / 537
UnitTest          1     24         2        20 / 22
================  ====  =========  =======  ============

The other two, Covid3Month and Tecator, are regression sets (``@targetLabel true``: one number
per series, not a class) and are refused with a :class:`~rnnkit.errors.ConfigError`. None of
the files has missing values or time stamps.

Example::

    >>> X, y = load_ts_classification("BasicMotions", "train")   # doctest: +SKIP
    >>> len(X), X[0].shape, sorted(set(y))                         # doctest: +SKIP
    (40, (100, 6), ['Badminton', 'Running', 'Standing', 'Walking'])
"""

from __future__ import annotations

import functools
import os
import tarfile
from pathlib import Path

import numpy as np

from rnnkit._validation import check_choice, expected
from rnnkit.datasets.cache import Archive, fetch
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "SKTIME",
    "TS_DATASETS",
    "TS_REGRESSION",
    "load_ts_classification",
    "parse_ts",
    "parse_ts_header",
]

#: The sktime source distribution that carries the ``.ts`` files.
SKTIME = Archive("pypi", "sktime", "1.2.0", size=36_398_732,
                 sha256="641425178b3215a0a8dbcf4e6948a8b589e46def39c91989f71d9fa297bc3709")
_MEMBER = "sktime-1.2.0/sktime/datasets/data/{name}/{name}_{split}.ts"

#: Classification sets of :data:`SKTIME` by name -> what they hold (dimensions, steps per
#: series, classes, official train / test sizes; counted from the files).
TS_DATASETS: dict[str, str] = {
    "ACSF1": "1 dim, 1460 steps, 10 classes, 100 train / 100 test: appliance power "
             "consumption (ACS-F1)",
    "ArrowHead": "1 dim, 251 steps, 3 classes, 36 train / 175 test: outlines of arrowheads "
                 "(Avonlea, Clovis, Mix)",
    "BasicMotions": "6 dims, 100 steps, 4 classes, 40 train / 40 test: smartwatch 3D "
                    "accelerometer and gyroscope, standing / walking / running / badminton",
    "GunPoint": "1 dim, 150 steps, 2 classes, 50 train / 150 test: x of an actor's right hand, "
                "drawing a gun or pointing",
    "ItalyPowerDemand": "1 dim, 24 steps, 2 classes, 67 train / 1029 test: hourly Italian "
                        "power demand of a day, October-March or April-September",
    "JapaneseVowels": "12 dims, 7-29 steps, 9 classes, 270 train / 370 test: 12 LPC cepstrum "
                      "coefficients of the vowels /ae/, which of nine speakers",
    "OSULeaf": "1 dim, 427 steps, 6 classes, 200 train / 242 test: leaf outlines, which of six "
               "species",
    "PLAID": "1 dim, 100-1344 steps, 11 classes, 537 train / 537 test: appliance current "
             "(Plug Load Appliance Identification Dataset)",
    "UnitTest": "1 dim, 24 steps, 2 classes, 20 train / 22 test: a cut-down Chinatown "
                "(hourly pedestrian counts, weekday or weekend)",
}

#: Regression sets of :data:`SKTIME` (``@targetLabel true``), which
#: :func:`load_ts_classification` refuses.
TS_REGRESSION: dict[str, str] = {
    "Covid3Month": "1 dim, 84 steps, 140 train / 61 test: daily COVID-19 cases of a country "
                   "-> its death rate",
    "Tecator": "1 dim, 100 steps, 172 train / 43 test: meat NIR spectra -> fat content",
}


def parse_ts_header(text: str) -> dict[str, str]:
    """The ``@key value`` lines of a ``.ts`` file before ``@data``.

    Keys are lower-cased without the ``@`` (files differ: ``@classLabel`` / ``@classlabel``);
    values are the rest of the line, stripped. A repeated key keeps its first value. Lines
    that do not start with ``@`` (comments: ``#``, in some files ``%``) are skipped.
    """
    header: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("@"):
            continue
        key, _, value = line[1:].partition(" ")
        key = key.lower()
        if key == "data":
            break
        header.setdefault(key, value.strip())
    return header


def _flag(header: dict[str, str], key: str) -> bool | None:
    """``@key true`` / ``@key false`` (first word) as a bool, ``None`` when absent."""
    words = header.get(key, "").split()
    if not words:
        return None
    if words[0].lower() not in ("true", "false"):
        raise DataError(expected(f"@{key}", "true or false", header[key]))
    return words[0].lower() == "true"


def _declared_int(header: dict[str, str], key: str) -> int | None:
    if key not in header:
        return None
    try:
        return int(header[key])
    except ValueError as exc:
        raise DataError(expected(f"@{key}", "an integer", header[key])) from exc


def parse_ts(text: str) -> tuple[list[np.ndarray], list[str]]:
    """Parse a time-series file in the ``.ts`` format (sktime / timeseriesclassification.com).

    Header lines start with ``#`` (comments) or ``@`` (``@problemName``, ``@dimensions``,
    ...; see :func:`parse_ts_header`); after ``@data`` each line is one series: its
    dimensions separated by ``:``, each a comma-separated list of values (all of one series'
    dimensions have the same length), and the label last (a class, or the target number of
    a regression set with ``@targetLabel true``). A file with ``@classLabel false`` and no
    target has no label field.

    What the header declares is checked line by line: ``@dimensions`` (``1`` when
    ``@univariate true``), ``@seriesLength`` when ``@equalLength true``, and the labels
    listed by ``@classLabel true LABEL ...``. Time stamps (``@timeStamps true``) and missing
    values (``?``) are not supported.

    Returns:
        ``(series, labels)``: float64 arrays of shape (T_i, dimensions) and label strings
        (empty for an unlabelled file).

    Raises:
        DataError: naming the line (or header key), what was expected and what was found.
    """
    header = parse_ts_header(text)
    if _flag(header, "timestamps"):
        raise DataError(expected("@timeStamps", "false (plain values; time stamps are not "
                                 "supported)", header["timestamps"]))
    n_dims = 1 if _flag(header, "univariate") else _declared_int(header, "dimensions")
    length = _declared_int(header, "serieslength") if _flag(header, "equallength") else None
    classes = header.get("classlabel", "").split()[1:] if _flag(header, "classlabel") else []
    has_label = bool(_flag(header, "targetlabel")) or _flag(header, "classlabel") is not False

    series: list[np.ndarray] = []
    labels: list[str] = []
    in_data = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower().startswith("@data")
            continue
        dims = line.split(":")
        if has_label:
            *dims, label = dims
            if not dims:
                raise DataError(expected(f"line {lineno}", "dimension:...:label", line[:60]))
            label = label.strip()
            if classes and label not in classes:
                raise DataError(expected(f"line {lineno} label",
                                         f"one of the @classLabel classes {classes}", label))
            labels.append(label)
        if n_dims is not None and len(dims) != n_dims:
            raise DataError(expected(f"line {lineno}", f"{n_dims} dimensions (@dimensions)",
                                     len(dims)))
        try:
            cols = [np.array([float(v) for v in d.split(",")]) for d in dims]
        except ValueError as exc:
            raise DataError(expected(f"line {lineno}", "comma-separated numbers (no missing "
                                     "values)", line[:60])) from exc
        if len({len(c) for c in cols}) != 1:
            raise DataError(expected(f"line {lineno}", "dimensions of equal length",
                                     [len(c) for c in cols]))
        if length is not None and len(cols[0]) != length:
            raise DataError(expected(f"line {lineno}", f"{length} steps (@seriesLength)",
                                     len(cols[0])))
        series.append(np.stack(cols, axis=1))  # (T_i, dimensions)
    if not series:
        raise DataError(expected("text", "a .ts file with series after @data", "none"))
    return series, labels


def load_ts_classification(name: str, split: str = "train", *,
                           cache_dir: str | os.PathLike[str] | None = None,
                           ) -> tuple[list[np.ndarray], list[str]]:
    """One official split of a classification set of the sktime archive.

    Args:
        name: a key of :data:`TS_DATASETS` (``"JapaneseVowels"``, ``"BasicMotions"``, ...).
        split: ``"train"`` or ``"test"``.
        cache_dir: cache root (default ``$RNNKIT_CACHE`` or ``~/.cache/rnnkit``).

    Returns:
        ``(series, labels)``: float64 arrays of shape (T_i, F), F the set's dimensions, in
        file order, and their class labels as strings.

    Raises:
        ConfigError: ``name`` is not a classification set of the archive (the message lists
            them) or ``split`` is neither ``"train"`` nor ``"test"``.
        FetchError: the archive is not cached and cannot be fetched.
        DataError: the archive lacks the files or a file is malformed.
    """
    if name in TS_REGRESSION:
        raise ConfigError(expected(
            "name", f"a classification set, one of {sorted(TS_DATASETS)}", name,
            f"{name} is a regression set (@targetLabel true: {TS_REGRESSION[name]})"))
    check_choice("name", name, sorted(TS_DATASETS))
    check_choice("split", split, ("train", "test"))
    return parse_ts(_ts_texts(str(fetch(SKTIME, cache_dir)), name)[split.upper()])


@functools.lru_cache(maxsize=4)
def _ts_texts(archive: str, name: str) -> dict[str, str]:
    """Both ``.ts`` files of ``name`` (``"TRAIN"``, ``"TEST"``), read in one pass over the
    archive (they lie in its first percent)."""
    wanted = {_MEMBER.format(name=name, split=s): s for s in ("TRAIN", "TEST")}
    texts: dict[str, str] = {}
    try:
        with tarfile.open(archive) as tf:
            for info in tf:
                if info.name in wanted:
                    fh = tf.extractfile(info)
                    if fh is not None:
                        texts[wanted[info.name]] = fh.read().decode("utf-8-sig")
                if len(texts) == len(wanted):
                    break
    except (tarfile.TarError, OSError) as exc:
        raise DataError(f"cannot read the {name} files from {archive}: {exc}") from exc
    missing = sorted(m for m, s in wanted.items() if s not in texts)
    if missing:
        raise DataError(expected(Path(archive).name, f"members {missing}", "none"))
    return texts
