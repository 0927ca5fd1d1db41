"""Batch scoring: predictions for a file larger than memory, read and written in chunks.

:func:`score_file` is what ``rnnkit predict RUN --input IN --output OUT`` runs. It reads the
input a chunk at a time, builds each chunk's inputs with the task's own parsing (the code
``read_data`` runs), predicts, and appends the chunk's rows of ``predict_frame`` to ``OUT``
(Parquet or CSV, by its suffix). The result equals
``task.predict_frame(task.read_data(IN, labelled=False))`` on the whole file, row for row; only
one chunk of inputs and predictions is in memory at a time.

How each task's file is cut (``chunk_rows`` counts the task's inputs):

============== ============================== ===================================================
task           input                          a chunk
============== ============================== ===================================================
classification CSV or Parquet, one text a row ``chunk_rows`` rows (ids: the file's row numbers
                                              when it has no id column)
classification long series (id, step, ...)    about ``chunk_rows`` rows, never splitting a
                                              series: the last id's rows wait for the next
                                              chunk (an id's rows must lie together)
tagging        CoNLL text                     ``chunk_rows`` sentences, cut at blank lines
                                              (``sentence`` numbers count over the file)
language_model text, one prompt a line        ``chunk_rows`` prompts (prompt i keeps its seed)
seq2seq        TSV of sources                 ``chunk_rows`` sources
forecasting    CSV or Parquet series          the file streams by; only its tail is kept (the
                                              last ``look_back`` rows with a margin, plus the
                                              trailing known-future rows), then one forecast
============== ============================== ===================================================

Nothing half-written is left behind: rows go to a temporary sibling of ``OUT``, renamed over
``OUT`` only once every chunk is written; an error or an interrupt removes it and leaves an
existing ``OUT`` as it was.

Example::

    >>> from rnnkit.tasks import load                                          # doctest: +SKIP
    >>> task = load("runs/imdb/model")                                         # doctest: +SKIP
    >>> score_file(task, "reviews.parquet", "scored.parquet", chunk_rows=50_000)  # doctest: +SKIP
    ScoringSummary(output=PosixPath('scored.parquet'), inputs=1200000, rows=1200000, ...)
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.data.tables import check_unique_header
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.seq2seq.data import pair_columns, parse_pairs
from rnnkit.tasks.tagging.files import parse_conll
from rnnkit.training.progress import ProgressBar

if TYPE_CHECKING:
    from rich.console import Console

    from rnnkit.tasks.base import Task

__all__ = ["DEFAULT_CHUNK_ROWS", "OUTPUT_FORMATS", "ScoringSummary", "output_format",
           "prediction_chunks", "score_file"]

#: Inputs per chunk when none is given: a few MB of text rows, a few hundred MB at most.
DEFAULT_CHUNK_ROWS = 10_000

#: Output formats by file suffix.
OUTPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

_PARQUET_SUFFIXES = (".parquet", ".pq")
_TABLE_TASKS = ("classification", "forecasting")  # CSV or Parquet inputs, read by pandas
# Forecasting keeps at least this many rows before the last look_back ones, so filling a
# missing value (interpolate, ffill) or an irregular step's delta sees what the whole file shows
_FORECAST_MARGIN = 64

# advance(units done, inputs scored) after each chunk
Advance = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class ScoringSummary:
    """What :func:`score_file` did.

    Attributes:
        output: the file written.
        inputs: the inputs scored (texts, series, sentences, prompts, sources; forecasting:
            the series' rows read).
        rows: the rows written (one per input; tagging: one per token; forecasting: one per
            forecast step).
        chunks: the chunks predicted.
        seconds: wall time.
    """

    output: Path
    inputs: int
    rows: int
    chunks: int
    seconds: float


def output_format(path: str | os.PathLike[str]) -> str:
    """``"csv"`` or ``"parquet"``, by the suffix of ``path``; a ConfigError otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ConfigError(expected("--output", f"a file ending in {sorted(OUTPUT_FORMATS)}",
                                   Path(path).name, "name the output .csv or .parquet"))
    return OUTPUT_FORMATS[suffix]


# ---------------------------------------------------------------------------- reading
def _frames(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The rows of a CSV or Parquet file, ``chunk_rows`` at a time, indexed by their row
    numbers in the file (or by the index a Parquet file stores, as ``read_parquet`` gives)."""
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        start = 0
        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                frame = batch.to_pandas()  # a stored index (a column) comes back as the index
                if isinstance(frame.index, pd.RangeIndex):  # else pandas numbers each batch
                    frame.index = pd.RangeIndex(start, start + len(frame))
                start += len(frame)
                yield frame
        return
    check_unique_header(path, "--input")
    with pd.read_csv(path, chunksize=chunk_rows) as reader:
        yield from reader  # pandas numbers the rows over the whole file


def _lines(path: Path) -> Iterator[tuple[int, str, int]]:
    """``(line number, line, bytes read)`` of a UTF-8 text file, as ``str.splitlines`` cuts
    its text (what the tasks' whole-file readers see)."""
    number = 0
    with path.open("rb") as f:
        for raw in f:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(expected(f"{path} line {number + 1}", "UTF-8 text",
                                         Described(f"{err.reason} at byte {err.start}"))
                                ) from None
            for line in text.splitlines():
                number += 1
                yield number, line, len(raw)
                raw = b""  # the bytes count once, with the raw line's first piece


def _progress_units(task: Any, path: Path) -> tuple[int | None, str]:
    """The bar's total and unit: bytes of a text file (tagging, language model, seq2seq),
    rows of a table: a Parquet file's from its footer, a CSV file's unknown ahead."""
    if task.name not in _TABLE_TASKS:
        return path.stat().st_size, "bytes"
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows, "rows"
    return None, "rows"


# ---------------------------------------------------------------------- chunks per task
def _classification(task: Any, path: Path, chunk_rows: int, advance: Advance
                    ) -> Iterator[pd.DataFrame]:
    source = str(path)
    d = task.config.data
    kind: str | None = None
    inputs = 0  # texts read so far
    carry: pd.DataFrame | None = None  # the rows of the last series id, waiting for its end
    done: set[Any] = set()  # the series ids already scored
    for frame in _frames(path, chunk_rows):
        rows = len(frame)
        kind = kind or task.file_kind(frame.columns, source)
        if kind == "text":
            examples = task.examples_from_frame(frame, labelled=False, source=source)
            out = task.predict_frame(examples) if len(frame) else None
            if out is not None and d.id_column not in frame.columns:
                out[d.id_column] = range(inputs, inputs + len(frame))  # the file's row numbers
            inputs += len(frame)
            advance(rows, len(frame))
            if out is not None:
                yield out
            continue
        if d.id_column not in frame.columns:
            task.examples_from_frame(frame, labelled=False, source=source)  # its DataError
        frame = frame[frame[d.id_column].notna()]  # as groupby drops them
        if carry is not None:
            frame = pd.concat([carry, frame])
        body, carry = _split_last_series(frame, d.id_column, done, source)
        if len(body):
            yield _score_series(task, body, done, d.id_column, source, advance, rows)
        else:
            advance(rows, 0)
    if carry is not None and len(carry):
        yield _score_series(task, carry, done, d.id_column, source, advance, 0)


def _split_last_series(frame: pd.DataFrame, id_column: str, done: set[Any], source: str
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(rows of complete series, rows of the last id)``; a DataError when a series' rows
    do not lie together (chunks could not give what the whole file gives)."""
    ids = frame[id_column]
    runs = int((ids != ids.shift()).sum())
    seen = ids.unique()
    again = [i for i in seen if i in done]
    if runs != len(seen) or again:
        counts = ids[ids != ids.shift()].value_counts()
        sid = again[0] if again else counts.index[counts.to_numpy() > 1][0]
        raise DataError(expected(
            f"{source} series {sid!r}", "its rows together (one block of rows per series id, "
            "to score the file in chunks)", Described("its rows in blocks apart"),
            "sort the file by the id column (a stable sort keeps the step order)"))
    last = ids.to_numpy() == ids.iloc[-1] if len(ids) else ids.to_numpy().astype(bool)
    return frame[~last], frame[last]


def _score_series(task: Any, body: pd.DataFrame, done: set[Any], id_column: str,
                  source: str, advance: Advance, rows: int) -> pd.DataFrame:
    examples = task.examples_from_frame(body, labelled=False, source=source)
    done.update(body[id_column].unique())
    out = task.predict_frame(examples)
    advance(rows, len(out))
    return out


def _tagging(task: Any, path: Path, chunk_rows: int, advance: Advance) -> Iterator[pd.DataFrame]:
    source = str(path)
    lines: list[str] = []
    first, sentences, offset, done_bytes = 1, 0, 0, 0
    in_sentence = False
    any_sentence = False

    def flush() -> pd.DataFrame:
        nonlocal lines, sentences, offset, done_bytes
        examples = parse_conll("\n".join(lines), labelled=False, source=source,
                               first_line=first)
        out = task.predict_frame(examples)
        out["sentence"] += offset
        offset += len(examples.inputs)
        advance(done_bytes, len(examples.inputs))
        lines, sentences, done_bytes = [], 0, 0
        return out

    for number, line, size in _lines(path):
        done_bytes += size
        parts = line.split()
        boundary = not parts or parts[0] == "-DOCSTART-"
        if boundary and in_sentence:
            sentences += 1
        in_sentence = not boundary
        any_sentence = any_sentence or in_sentence
        if boundary and sentences >= chunk_rows:  # cut between sentences
            yield flush()
            first = number
        lines.append(line)
    if in_sentence or sentences:
        yield flush()
    elif not any_sentence:
        raise DataError(expected(source, "at least one sentence (token lines)",
                                 Described("none")))


def _language_model(task: Any, path: Path, chunk_rows: int, advance: Advance
                    ) -> Iterator[pd.DataFrame]:
    prompts: list[str] = []
    offset, done_bytes = 0, 0
    for _, line, size in _lines(path):
        done_bytes += size
        if line.strip():
            prompts.append(line)
        if len(prompts) >= chunk_rows:
            yield task.predict_frame(prompts, start=offset)
            advance(done_bytes, len(prompts))
            offset, prompts, done_bytes = offset + len(prompts), [], 0
    if prompts:
        yield task.predict_frame(prompts, start=offset)
        advance(done_bytes, len(prompts))


def _seq2seq(task: Any, path: Path, chunk_rows: int, advance: Advance) -> Iterator[pd.DataFrame]:
    source = str(path)
    d = task.config.data
    src_at, tgt_at = 0, 1
    header = d.source_column is None  # True once the header (if any) is read
    numbered: list[tuple[int, str]] = []
    done_bytes = 0
    scored = False

    def score() -> pd.DataFrame:
        nonlocal numbered, done_bytes
        sources, _ = parse_pairs(numbered, src_at=src_at, tgt_at=tgt_at, labelled=False,
                                 source=source)
        out = task.predict_frame(sources)
        advance(done_bytes, len(sources))
        numbered, done_bytes = [], 0
        return out

    for number, line, size in _lines(path):
        done_bytes += size
        if not line.strip():
            continue
        if not header:
            src_at, tgt_at = pair_columns(line, source_column=d.source_column,
                                          target_column=d.target_column, labelled=False,
                                          source=source)
            header = True
            continue
        numbered.append((number, line))
        if len(numbered) >= chunk_rows:
            scored = True
            yield score()
    if numbered:
        yield score()
    elif not scored:
        what = "a header line naming the columns" if not header else "at least one pair"
        raise DataError(expected(source, what, Described("none")))


def _forecasting(task: Any, path: Path, chunk_rows: int, advance: Advance,
                 horizon: int | None) -> Iterator[pd.DataFrame]:
    look_back = task.preprocessing_.look_back
    targets = list(task.targets)
    used = [*targets, *task.covariates, *task.future_covariates]
    if task.time_column is not None:
        used.append(task.time_column)
    tail: pd.DataFrame | None = None
    numbered = True  # rows indexed by their numbers (not by an index the file stores)
    for frame in _frames(path, chunk_rows):
        rows = len(frame)
        numbered = numbered and isinstance(frame.index, pd.RangeIndex)
        tail = frame if tail is None else pd.concat([tail, frame])
        tail = _forecast_tail(tail, targets, used, look_back + _FORECAST_MARGIN)
        advance(rows, rows)
    if tail is None:
        raise DataError(expected(str(path), f"at least look_back = {look_back} rows",
                                 Described("none")))
    yield task.predict(tail.reset_index(drop=True) if numbered else tail, horizon=horizon)


def _forecast_tail(frame: pd.DataFrame, targets: list[str], used: list[str], keep: int
                   ) -> pd.DataFrame:
    """The rows a forecast reads: ``keep`` rows up to the last with a target value, the
    known-future rows after it, and further back while the first kept row misses a value
    (so that filling it reads what the whole file gives)."""
    present = [c for c in targets if c in frame.columns]
    if not present:
        return frame  # the forecaster's own read names what is missing
    has_target = frame[present].notna().any(axis=1).to_numpy()
    last = int(has_target.nonzero()[0][-1]) if has_target.any() else len(frame) - 1
    start = max(0, last - keep + 1)
    complete = frame[[c for c in used if c in frame.columns]].notna().all(axis=1).to_numpy()
    while start > 0 and not complete[start]:
        start -= 1
    return frame.iloc[start:]


_CHUNKERS: dict[str, Callable[..., Iterator[pd.DataFrame]]] = {
    "classification": _classification,
    "tagging": _tagging,
    "language_model": _language_model,
    "seq2seq": _seq2seq,
}


def prediction_chunks(task: Task, input: str | os.PathLike[str], *,
                      horizon: int | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                      advance: Advance | None = None) -> Iterator[pd.DataFrame]:
    """The rows of ``task.predict_frame(task.read_data(input, labelled=False))``, a chunk of
    inputs at a time (forecasting: ``task.predict(..., horizon=horizon)``, one frame).

    Args:
        task: a fitted task.
        input: the file, in the task's format.
        horizon: forecasting only: steps ahead (default: the model's).
        chunk_rows: inputs per chunk (see the module docstring), >= 1.
        advance: called after each chunk with the units read (bytes or rows) and the inputs
            scored (the progress bar's hook).
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ConfigError(expected("chunk_rows", "an integer >= 1", chunk_rows))
    path = Path(input)
    if not path.is_file():
        raise DataError(expected("--input", "an existing file", str(path)))
    step = advance if advance is not None else (lambda units, inputs: None)
    if task.name == "forecasting":
        if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, int)
                                    or horizon < 1):  # before reading the whole file
            raise ConfigError(expected("horizon", "an integer >= 1", horizon))
        return _forecasting(task, path, chunk_rows, step, horizon)
    if horizon is not None:
        raise ConfigError(expected("horizon", f"unset for a {task.name} model", horizon))
    if task.name not in _CHUNKERS:
        raise ConfigError(expected("task", f"one of {sorted([*_CHUNKERS, 'forecasting'])}",
                                   task.name))
    return _CHUNKERS[task.name](task, path, chunk_rows, step)


# ---------------------------------------------------------------------------- writing
class _ChunkWriter:
    """Appends frames to a temporary sibling of ``output`` (Parquet or CSV);
    :meth:`commit` renames it over ``output``, :meth:`discard` removes it."""

    def __init__(self, output: Path, *, index: bool) -> None:
        self.output = output
        self.format = output_format(output)
        self.index = index
        self.tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
        self._parquet: Any = None
        self._csv: IO[str] | None = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.format == "csv":
            if self._csv is None:
                self._csv = self.tmp.open("w", encoding="utf-8", newline="")
                frame.to_csv(self._csv, index=self.index)
            else:
                frame.to_csv(self._csv, index=self.index, header=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._parquet is None:
                table = pa.Table.from_pandas(frame, preserve_index=self.index)
                self._parquet = pq.ParquetWriter(self.tmp, table.schema)
            else:
                try:
                    table = pa.Table.from_pandas(frame, schema=self._parquet.schema,
                                                 preserve_index=self.index)
                except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
                    raise DataError(expected(
                        "--output", "the same column types in every chunk",
                        Described(f"rows {self.rows}.. that differ: {err}"),
                        "write CSV, or score with a larger --chunk-rows")) from err
            self._parquet.write_table(table)
        self.rows += len(frame)

    def _close(self) -> None:
        if self._csv is not None:
            self._csv.close()
            self._csv = None
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None

    def commit(self) -> None:
        self._close()
        os.replace(self.tmp, self.output)

    def discard(self) -> None:
        try:
            self._close()
        finally:
            self.tmp.unlink(missing_ok=True)


class _Bar:
    """A rich bar on stderr over the input (bytes or rows) with the inputs scored."""

    def __init__(self, enabled: bool, total: int | None, unit: str,
                 console: Console | None) -> None:
        self.progress: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]scoring"), BarColumn(),
            TextColumn("{task.completed:,.0f}" + ("/{task.total:,.0f}" if total else "")
                       + f" {unit}"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            TextColumn("{task.fields[scored]:,} scored"),
            console=console if console is not None else Console(stderr=True))
        self.progress.start()
        self.task = self.progress.add_task("scoring", total=total, scored=0)
        self.scored = 0

    def advance(self, units: int, inputs: int) -> None:
        if self.progress is not None:
            self.scored += inputs
            self.progress.update(self.task, advance=units, scored=self.scored)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def score_file(task: Task, input: str | os.PathLike[str], output: str | os.PathLike[str], *,
               horizon: int | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
               progress: bool | None = None, console: Console | None = None
               ) -> ScoringSummary:
    """Score ``input`` in chunks and write the predictions to ``output`` (see the module
    docstring): what ``task.predict_frame(task.read_data(input, labelled=False))`` gives
    (forecasting: ``task.predict(..., horizon=horizon)`` with its time index: the first CSV
    column, the Parquet file's stored index), written as Parquet or CSV by ``output``'s
    suffix.

    Args:
        task: a fitted task (``rnnkit.tasks.load(RUN / "model")``).
        input: the inputs, in the task's file format.
        output: a ``.parquet`` / ``.pq`` or ``.csv`` path; replaced only once complete.
        horizon: forecasting only: steps ahead (default: the model's).
        chunk_rows: inputs per chunk (texts, series rows, sentences, prompts, sources).
        progress: a rich bar on stderr; None: on when stderr is a terminal and ``CI`` unset.
        console: the rich Console to draw on (default: stderr).

    Returns:
        a :class:`ScoringSummary`.

    Raises:
        ConfigError: an output that is the input or has another suffix, a bad chunk_rows or
            horizon. DataError: what the task's own reader raises, with the file's line or
            row; a series whose rows lie apart.
    """
    begin = time.perf_counter()
    source, target = Path(input), Path(output)
    output_format(target)
    if target.resolve() == source.resolve():
        raise ConfigError(expected("--output", "a file other than the input", str(target)))
    writer = _ChunkWriter(target, index=task.name == "forecasting")
    total, unit = _progress_units(task, source) if source.is_file() else (None, "rows")
    enabled = ProgressBar.auto_enabled() if progress is None else bool(progress)
    bar = _Bar(enabled, total, unit, console)
    inputs, chunks = 0, 0

    def advance(units: int, scored: int) -> None:
        nonlocal inputs
        inputs += scored
        bar.advance(units, scored)

    try:
        frames = prediction_chunks(task, source, horizon=horizon, chunk_rows=chunk_rows,
                                   advance=advance)
        target.parent.mkdir(parents=True, exist_ok=True)
        for frame in frames:
            writer.write(frame)
            chunks += 1
        if not chunks:
            raise DataError(expected(str(source), "at least one input to score",
                                     Described("none")))
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    finally:
        bar.stop()
    return ScoringSummary(target, inputs, writer.rows, chunks, time.perf_counter() - begin)
