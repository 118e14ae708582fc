"""Texts to score: from the arguments, a file or standard input, read as they come; and the
texts of a corpus file, each with the line it starts on.

A file or a pipe is read line by line and handed on in small batches (`Lines`), so that
`tail -f tweets.txt | python predict.py` scores each line when it arrives and a file
of a million lines takes no more memory than one of ten.

score_corpus.py hands every file it matches to `read_texts`, one file to one worker, so
that each text keeps its file and line. A file is read by its name, as the training
scripts read theirs: `.csv`, `.tsv` and `.jsonl` (each also compressed: `.gz`, `.bz2`,
...) are tables whose text is in `--text-column` or a column named as `common.labeled`
recognises; any other file holds one text per line, as `predict.py --file` reads it.
Nothing there raises for what a file holds: a line that is not UTF-8 or too long, an
empty text, a row without its column, a line that is not JSON, comes back as a `Skip`
that says where and why, so that one bad line among millions costs that line, not the run.
"""

from __future__ import annotations

import os
import queue
import re
import stat
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from common.cli import UserError, skipped
from common.data import tokenize
from common.files import (
    MAX_LINE_BYTES,
    BadLine,
    ChunkLines,
    Damaged,
    Decompressed,
    compression,
    decoded_line,
    utf8_lines,
)
from common.labeled import (
    TABLE_SUFFIXES,
    TEXT_NAMES,
    BadRow,
    csv_records,
    find_column,
    json_records,
    missing_column,
    table_kind,
)

BATCH_SIZE = 256  # texts scored at a time: large batches are much faster than one at a time


def check_texts(texts: Sequence[tuple[str, str]]) -> None:
    """Refuse what the model cannot read: no texts, an empty text, a text without words."""
    if not texts:
        raise UserError("there is no text to score: give texts as arguments, --file or stdin.")
    for where, text in texts:
        problem = text_problem(text)
        if problem:
            raise UserError(f"{where} {problem}.")


def text_problem(text: str) -> str | None:
    """Why the model cannot score `text` (as the end of a sentence), or None if it can."""
    if not text.strip():
        return "is empty: there is nothing to score"
    if not tokenize(text):
        return (
            f"has no words the model can read ({text.strip()[:40]!r}): "
            "it reads only letters and digits, of any script"
        )
    return None


def open_input(file: str | None) -> tuple[BinaryIO, str]:
    """The stream to read lines from, `file` or standard input, and its name for messages.

    Checked before any model loads, so that a wrong path costs no start-up.
    """
    if file is None:
        if sys.stdin is None:  # started with stdin closed (<&-)
            raise UserError(
                "standard input is closed: give texts as arguments, with --file, or on stdin."
            )
        if sys.stdin.isatty():
            print("Type or paste reviews, one per line; end with Ctrl-D.", file=sys.stderr)
        return sys.stdin.buffer, "standard input"
    if os.path.exists(file) and not os.path.isfile(file):  # a FIFO or a device: endless
        raise UserError(f"--file {file!r} is not a regular file.")
    try:
        return open(file, "rb"), file  # noqa: SIM115 (read to the end, closed at exit)
    except OSError as err:
        raise UserError(f"cannot read --file {file!r}: {err.strerror}.") from None


class Lines:
    """The texts of a stream, one per line, in batches of at most `size` as they come.

    A batch ends when it holds `size` lines, or when no more input is waiting: a pipe
    or a terminal between lines. A regular file always has more waiting, so its
    batches are always whole, and the same on every run. Blank lines are skipped and
    counted, and a line without a word the model reads is skipped with a sentence; lines
    are split on line feeds only (a CRLF's CR goes too).
    A line that is not UTF-8, or longer than MAX_LINE_BYTES, ends the reading with
    one sentence naming it. A file named as compressed (.gz, ...) is decompressed; one
    named as a table (.csv, .tsv, .jsonl) is read as score_corpus.py reads it (`read_texts`):
    its text in `column`, and a row it cannot read skipped with a sentence.
    """

    def __init__(
        self, stream: BinaryIO, name: str, size: int, column: str | int | None = None
    ) -> None:
        self.stream, self.name, self.size, self.column = stream, name, size, column
        self.blank = 0  # how many blank lines were skipped
        self.first_blank: list[int] = []  # the numbers of the first ten of them

    def __iter__(self) -> Iterator[list[tuple[str, str]]]:
        try:
            regular = stat.S_ISREG(os.fstat(self.stream.fileno()).st_mode)
        except (OSError, ValueError, AttributeError):  # not a file descriptor (a test's stream)
            regular = True
        if not regular:
            # Read by os.read, which holds no lock: a buffered stream's reader holds one while
            # it waits for a line, and Python aborts at exit if a thread still holds it.
            fd = self.stream.fileno()
            unbuffered = ChunkLines(lambda size: os.read(fd, size))
            yield from self._as_they_come(self._lines(unbuffered))
            return
        suffix = compression(self.name)
        stream = Decompressed(self.stream, suffix) if suffix else self.stream
        if table_kind(self.name) is not None:  # read as score_corpus.py reads it
            lines = self._rows(stream)
        else:
            lines = self._lines(ChunkLines(stream.read) if suffix else stream)
        batch: list[tuple[str, str]] = []
        try:
            for line in lines:
                batch.append(line)
                if len(batch) == self.size:
                    yield batch
                    batch = []
        except UserError:
            if batch:  # the lines before the bad one are scored, as on a stream
                yield batch
            raise
        if batch:
            yield batch

    def _as_they_come(self, lines: Iterator[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
        """Batches of what has arrived: a thread reads ahead (at most four batches), so
        that a line is handed on as soon as it is read, and many at once when many wait."""
        waiting: queue.Queue = queue.Queue(maxsize=4 * self.size)
        end = object()

        def read() -> None:
            try:
                for line in lines:
                    waiting.put(line)
                waiting.put(end)
            except UserError as err:
                waiting.put(err)

        # A daemon: Ctrl-C must not wait for a terminal to send one more line.
        threading.Thread(target=read, daemon=True, name="read lines").start()
        while True:
            batch, item = [], waiting.get()
            while item is not end and not isinstance(item, UserError):
                batch.append(item)
                if len(batch) == self.size:
                    break
                try:
                    item = waiting.get_nowait()
                except queue.Empty:
                    break
            if batch:
                yield batch
            if item is end:
                return
            if isinstance(item, UserError):
                raise item

    def _lines(self, stream: BinaryIO | ChunkLines) -> Iterator[tuple[str, str]]:
        try:
            for number, text in utf8_lines(stream, MAX_LINE_BYTES):
                yield from self._kept(number, text)
        except BadLine as err:
            advice = "give one review per line" if err.too_long else "save it as UTF-8"
            raise UserError(f"line {err.number:,} of {self.name} {err.reason}: {advice}.") from None
        except Damaged as err:
            raise UserError(f"--file {self.name!r} is damaged: {err}.") from None

    def _rows(self, stream: BinaryIO | Decompressed) -> Iterator[tuple[str, str]]:
        """The texts of a CSV, TSV or JSON Lines file, as `read_texts` reads them: a row it
        cannot score is skipped with a sentence, an empty one counted as blank; damage ends
        the reading after the rows before it."""
        try:
            for item in read_texts(stream, self.name, self.column):
                if isinstance(item, Text):
                    yield f"line {item.line}", item.text
                elif item.whole_file:  # a UTF-16 file, a table without its text column
                    raise UserError(f"--file {self.name!r} {item.reason}.")
                elif item.kind == EMPTY:
                    self._blank(item.line)
                else:
                    self._skip(item.line, item.reason)
        except Damaged as err:
            raise UserError(f"--file {self.name!r} is damaged: {err}.") from None

    def _kept(self, number: int, text: str) -> Iterator[tuple[str, str]]:
        """The line, if it holds a word the model reads; blank, it is counted; without words
        (emoji, punctuation), skipped with a sentence, so that one such tweet does not end
        a stream."""
        text = text.removesuffix("\n").removesuffix("\r")
        if not text.strip():
            self._blank(number)
        elif (problem := text_problem(text)) is not None:
            self._skip(number, problem)
        else:
            yield f"line {number}", text

    def _skip(self, number: int, reason: str) -> None:
        print(f"line {number} of {self.name} {reason}: skipped.", file=sys.stderr)

    def _blank(self, number: int) -> None:
        self.blank += 1
        if len(self.first_blank) < 10:
            self.first_blank.append(number)

    def report_blank(self) -> None:
        """Say on standard error which blank lines were skipped, if any."""
        if self.blank:
            where = f"in {self.name}"
            print(skipped(self.blank, "blank line", "line", self.first_blank, where) + ".",
                  file=sys.stderr)  # fmt: skip


# ## The texts of a corpus file, for score_corpus.py

# Why a line is skipped, in a word or two: the summary counts them by these.
NOT_UTF8, TOO_LONG, EMPTY, NO_WORDS = "not UTF-8", "too long", "empty", "no words"
NO_TEXT, NOT_A_ROW, DAMAGED = "no text", "not a row", "damaged"
_SURROGATE = re.compile("[\ud800-\udfff]")
JSON_TYPES = {dict: "an object", list: "an array", int: "a number", float: "a number",
              bool: "true or false"}  # fmt: skip


@dataclass(frozen=True)
class Text:
    """A text to score, and where it starts: its file and 1-based line."""

    source: str
    line: int
    text: str


@dataclass(frozen=True)
class Skip:
    """A line that is not scored: where, why (a phrase: "is not UTF-8 (...)"), and the
    kind of reason it is, for the counts."""

    source: str
    line: int
    reason: str
    kind: str
    whole_file: bool = False  # the rest of the file is skipped with it

    def record(self) -> dict[str, object]:
        """What the skipped-lines files hold of it: one JSON object per line."""
        reason = self.reason + (": the file is skipped" if self.whole_file else "")
        return {"source": self.source, "line": self.line, "reason": reason}


def source_name(path: str) -> str:
    """`path` as text UTF-8 can carry: each byte of a file name that is not UTF-8 (which
    Python holds as a lone surrogate) written as \\xNN, so that its texts are scored."""
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name's byte gives
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


def read_texts(
    stream: BinaryIO, source: str, column: str | int | None = None
) -> Iterator[Text | Skip]:
    """Each text of the file `stream` (named `source`), or a Skip for each line or row that
    cannot be scored. `column`: a table's text column, by name or 0-based position (a
    CSV or TSV without a header row); None: the first named as TEXT_NAMES names it."""
    kind = table_kind(source)
    if kind is None:
        found = _plain(stream, source)
    elif kind == ".jsonl":
        found = _json_rows(stream, source, column)
    else:
        found = _csv_rows(stream, source, column, TABLE_SUFFIXES[kind])
    for item in found:
        yield item if isinstance(item, Skip) else _checked(item)


def _checked(text: Text) -> Text | Skip:
    """The text, or a Skip if the model cannot read it (empty, or no word it knows how to read)."""
    problem = text_problem(text.text)
    if problem is None:
        return text
    return Skip(text.source, text.line, problem, NO_WORDS if text.text.strip() else EMPTY)


def _lines(stream: BinaryIO, source: str, limit: int) -> Iterator[tuple[int, str] | Skip]:
    """(number, text) of each line, its line end dropped; a Skip for a line that is not UTF-8
    or longer than `limit` bytes (read past, never held)."""
    lines = ChunkLines(stream.read)
    number = offset = 0
    while raw := lines.readline(limit + 2):  # room for \r\n after `limit` bytes
        number += 1
        start, offset = offset, offset + len(raw)
        try:
            text = decoded_line(raw, number, limit, start)
        except BadLine as err:
            if err.whole_file:
                yield Skip(source, number, err.reason, NOT_UTF8, whole_file=True)
                return
            while err.too_long and not raw.endswith(b"\n") and (raw := lines.readline(limit)):
                offset += len(raw)  # the rest of it, read past
            yield Skip(source, number, err.reason, TOO_LONG if err.too_long else NOT_UTF8)
            continue
        yield number, text.removesuffix("\n").removesuffix("\r")


def _plain(stream: BinaryIO, source: str) -> Iterator[Text | Skip]:
    for item in _lines(stream, source, MAX_LINE_BYTES):
        yield item if isinstance(item, Skip) else Text(source, *item)


def _csv_rows(
    stream: BinaryIO, source: str, column: str | int | None, delimiter: str
) -> Iterator[Text | Skip]:
    """The texts of a CSV or TSV file; a quoted text may span lines, and is placed at the
    line it starts on."""
    skipped: list[Skip] = []  # the lines not UTF-8 or too long, said before the next row
    lines = _set_apart(_lines(stream, source, MAX_LINE_BYTES), skipped, newline=True)
    position = column if isinstance(column, int) else None
    names = {column: f"column {column}"} if isinstance(column, int) else {}
    for item in _in_order(csv_records(lines, delimiter), skipped, source):
        if isinstance(item, Skip):
            yield item
            continue
        line, record = item
        if position is None:  # the first row is the header: find the column in it
            names = [name.strip() for name in record]
            position = find_column(names, column, TEXT_NAMES)
            if position is None:
                reason = missing_column(names, column, "text")
                yield Skip(source, line, reason, NO_TEXT, whole_file=True)
                return
            continue
        if position >= len(record):
            yield Skip(source, line, f"has no field {names[position]!r}", NO_TEXT)
            continue
        yield Text(source, line, record[position])


def _in_order(
    records: Iterator[tuple[int, object] | BadRow], skipped: list[Skip], source: str
) -> Iterator[tuple[int, object] | Skip]:
    """Each record, or a Skip for a BadRow, each after the lines set apart in `skipped`
    before it, so that what is skipped comes in the order of the file."""
    for item in records:
        yield from skipped
        skipped.clear()
        yield Skip(source, item.line, item.reason, NOT_A_ROW) if isinstance(item, BadRow) else item
    yield from skipped


def _set_apart(
    items: Iterator[tuple[int, str] | Skip], skipped: list[Skip], newline: bool = False
) -> Iterator[tuple[int, str]]:
    """The (number, text) lines of `items`, each Skip among them put in `skipped` for the
    caller to say in its place; `newline`: each line with its line feed again, for csv."""
    for item in items:
        if isinstance(item, Skip):
            skipped.append(item)
        else:
            yield (item[0], item[1] + "\n") if newline else item


def _json_rows(stream: BinaryIO, source: str, column: str | int | None) -> Iterator[Text | Skip]:
    """The texts of a JSON Lines file: one object per line, its text under `column` or the
    first key TEXT_NAMES names."""
    skipped: list[Skip] = []  # bad lines and blank ones, said before the next row
    lines = _set_apart(_lines(stream, source, MAX_LINE_BYTES), skipped)
    for item in _in_order(json_records(_blank_as_empty(lines, source, skipped)), skipped, source):
        if isinstance(item, Skip):
            yield item
            continue
        number, record = item
        keys = list(record)
        found = None if isinstance(column, int) else find_column(keys, column, TEXT_NAMES)
        key = column if found is None else keys[found]
        text = record.get(key) if isinstance(key, str) else None
        if not isinstance(text, str):
            said = "no key named as a text is" if key is None else f"no {key!r}"
            if text is not None:
                said = f"{JSON_TYPES[type(text)]} as its {key!r}, not a string"
            yield Skip(source, number, f"has {said}", NO_TEXT)
            continue
        if _SURROGATE.search(text):  # "\ud800" in JSON: no character, and no UTF-8 for it
            shown = ascii(_SURROGATE.search(text).group())[1:-1]
            yield Skip(source, number, f"has {shown} in its {key!r}, half of a character", NOT_UTF8)
            continue
        yield Text(source, number, text)


def _blank_as_empty(
    lines: Iterator[tuple[int, str]], source: str, skipped: list[Skip]
) -> Iterator[tuple[int, str]]:
    """The lines that hold more than white space; a blank one is an empty text, skipped as
    every empty text is."""
    for number, line in lines:
        if line.strip():
            yield number, line
        else:
            skipped.append(_checked(Text(source, number, "")))
