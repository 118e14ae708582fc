"""Texts to score, from the arguments, a file or standard input, read as they come.

A file or a pipe is read line by line and handed on in small batches, so that
`tail -f tweets.txt | python predict.py` scores each line when it arrives and a file
of a million lines takes no more memory than one of ten.
"""

from __future__ import annotations

import os
import queue
import stat
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from common.cli import UserError, skipped
from common.data import tokenize
from common.files import MAX_LINE_BYTES, BadLine, ChunkLines, utf8_lines


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
    counted; lines are split on line feeds only (a CRLF's CR goes too).
    A line that is not UTF-8, or longer than MAX_LINE_BYTES, ends the reading with
    one sentence naming it.
    """

    def __init__(self, stream: BinaryIO, name: str, size: int) -> None:
        self.stream, self.name, self.size = stream, name, size
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
        batch: list[tuple[str, str]] = []
        try:
            for line in self._lines(self.stream):
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

    def _kept(self, number: int, text: str) -> Iterator[tuple[str, str]]:
        """The line, if it holds more than white space; else counted as blank."""
        text = text.removesuffix("\n").removesuffix("\r")
        if text.strip():
            yield f"line {number}", text
        else:
            self.blank += 1
            if len(self.first_blank) < 10:
                self.first_blank.append(number)

    def report_blank(self) -> None:
        """Say on standard error which blank lines were skipped, if any."""
        if self.blank:
            where = f"in {self.name}"
            print(skipped(self.blank, "blank line", "line", self.first_blank, where) + ".",
                  file=sys.stderr)  # fmt: skip
