"""The seq2seq file format: a TSV file of (source, target) pairs, one pair per line.

::

    cat	K AE T
    dog	D AO G

Without column names the first two columns are the source and the target (no header line);
with ``data.source_column`` / ``data.target_column`` the first line is a header naming the
columns. Blank lines are skipped. Unlabelled files (for prediction) need only the source
column. Texts become tokens by the config's units (:data:`~rnnkit.tasks.seq2seq.config.UNITS`):
characters, or words and punctuation (also for ``"bpe"``, whose sub-words the task learns).

Example::

    >>> sources, targets = read_pairs("g2p.tsv")                       # doctest: +SKIP
    >>> tokenizer("char").tokenize("cat"), tokenizer("word").tokenize("K AE T")
    (['c', 'a', 't'], ['K', 'AE', 'T'])
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rnnkit._validation import Described, expected
from rnnkit.data.text import CharTokenizer, WordTokenizer
from rnnkit.errors import DataError

__all__ = ["pair_columns", "parse_pairs", "read_pairs", "tokenizer"]


def tokenizer(units: str, lower: bool = False) -> CharTokenizer | WordTokenizer:
    """How a text of these units becomes tokens (``"bpe"`` texts are read as words)."""
    return CharTokenizer(lower=lower) if units == "char" else WordTokenizer(lower=lower)


def read_pairs(path: str | os.PathLike[str], *, source_column: str | None = None,
               target_column: str | None = None, labelled: bool = True,
               delimiter: str = "\t") -> tuple[list[str], list[str] | None]:
    """``(sources, targets)`` texts of a TSV file (``targets`` None when not ``labelled``).

    Raises:
        DataError: a missing file or column, a line with too few fields, an empty source
            or target, or a file without pairs.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(expected("data.path", "an existing TSV file", str(p)))
    lines = p.read_text(encoding="utf-8").splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    src_at, tgt_at = 0, 1
    if source_column is not None:
        if not numbered:
            raise DataError(expected(str(p), "a header line naming the columns",
                                     Described("an empty file")))
        _, head = numbered.pop(0)
        src_at, tgt_at = pair_columns(head, source_column=source_column,
                                      target_column=target_column, labelled=labelled,
                                      delimiter=delimiter, source=str(p))
    sources, targets = parse_pairs(numbered, src_at=src_at, tgt_at=tgt_at, labelled=labelled,
                                   delimiter=delimiter, source=str(p))
    if not sources:
        raise DataError(expected(str(p), "at least one pair", Described("none")))
    return sources, targets


def pair_columns(head: str, *, source_column: str, target_column: str | None = None,
                 labelled: bool = True, delimiter: str = "\t", source: str = "data"
                 ) -> tuple[int, int]:
    """``(source index, target index)`` of the fields named by the header line ``head``
    (target -1 when the header lacks it and the file is read unlabelled)."""
    header = [h.strip() for h in head.split(delimiter)]
    wanted = [source_column] + ([target_column] if labelled and target_column else [])
    for name in wanted:
        if name not in header:
            raise DataError(expected(f"{source}: column", f"one of the header's {header}", name,
                                     "set data.source_column / data.target_column"))
    return header.index(source_column), (
        header.index(target_column) if target_column in header else -1)


def parse_pairs(numbered: Iterable[tuple[int, str]], *, src_at: int = 0, tgt_at: int = 1,
                labelled: bool = True, delimiter: str = "\t", source: str = "data"
                ) -> tuple[list[str], list[str] | None]:
    """``(sources, targets)`` of non-blank lines given with their line numbers (what
    :func:`read_pairs` does after the header; batch scoring parses a file's chunks with it)."""
    need = max(src_at, tgt_at if labelled else 0) + 1
    sources: list[str] = []
    targets: list[str] = []
    for number, line in numbered:
        fields = line.split(delimiter)
        if len(fields) < need:
            raise DataError(expected(f"{source}:{number}", f"at least {need} tab-separated "
                                     "fields", Described(f"{len(fields)}: {line[:60]!r}")))
        text = fields[src_at].strip()
        if not text:
            raise DataError(expected(f"{source}:{number}", "a non-empty source", line[:60]))
        sources.append(text)
        if labelled:
            target = fields[tgt_at].strip()
            if not target:
                raise DataError(expected(f"{source}:{number}", "a non-empty target",
                                         line[:60]))
            targets.append(target)
    return sources, (targets if labelled else None)
