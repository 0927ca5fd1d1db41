"""The tagger's file, read by :func:`parse_conll` into :class:`~rnnkit.tasks.base.Examples`.

:meth:`~rnnkit.tasks.tagging.SequenceTagger.read_data` (what ``rnnkit train`` reads from
``data.path``) reads the CoNLL layout, one token per line with its tag, separated by
whitespace (tabs or spaces; the token is the first column and the tag the last, so
CoNLL-2003's middle columns are allowed), a blank line between sentences, ``-DOCSTART-``
lines skipped::

    The     DET
    dog     NOUN
    barks   VERB

    It      PRON
    ...

For prediction (``labelled=False``) a line holds the token alone (other columns are ignored).
``read_data`` returns :class:`~rnnkit.tasks.base.Examples` (token lists and tag lists);
:meth:`~rnnkit.tasks.tagging.SequenceTagger.predict_frame` writes one row per token:
``sentence`` (its index), ``position``, ``token`` (the true ``tag`` when known) and the
``prediction``.
"""

from __future__ import annotations

from rnnkit._validation import Described, expected
from rnnkit.errors import DataError
from rnnkit.tasks.base import Examples

__all__ = ["parse_conll"]


def parse_conll(text: str, *, labelled: bool = True, source: str = "data",
                first_line: int = 1) -> Examples:
    """Sentences (and tags) of CoNLL-layout text (see the module docstring); errors name
    lines counted from ``first_line`` (a part of a file, read in chunks, counts from where
    it starts)."""
    sentences: list[list[str]] = []
    tag_lists: list[list[str]] = []
    words: list[str] = []
    tags: list[str] = []

    def close() -> None:
        if words:
            sentences.append(list(words))
            tag_lists.append(list(tags))
            words.clear()
            tags.clear()

    for number, line in enumerate(text.splitlines(), start=first_line):
        parts = line.split()
        if not parts:
            close()
            continue
        if parts[0] == "-DOCSTART-":
            close()
            continue
        if labelled and len(parts) < 2:
            raise DataError(expected(f"{source} line {number}", "a token and its tag",
                                     Described(f"{line.strip()!r} alone"),
                                     "separate them by a tab or spaces, or read with "
                                     "labelled=False"))
        words.append(parts[0])
        tags.append(parts[-1])
    close()
    if not sentences:
        raise DataError(expected(source, "at least one sentence (token lines)",
                                 Described("none")))
    return Examples(sentences, tag_lists if labelled else None)
