"""Texts to score, from the arguments, a file or standard input: checked before any model loads."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from common.cli import UserError
from common.data import tokenize

MAX_INPUT_BYTES = 2**30  # texts from a file or standard input: 1 GiB at most, read whole


def read_texts(texts: Sequence[str], file: str | None) -> list[tuple[str, str]]:
    """(where, text) pairs: `texts` if any, else the lines of `file`, else of standard input.

    Blank lines are skipped and reported; no texts at all, or a text without a word the
    models can read, is one UserError sentence.
    """
    lines = read_lines(texts, file)
    check_texts(lines)
    return lines


def read_lines(texts: Sequence[str], file: str | None) -> list[tuple[str, str]]:
    """(where, text) pairs from the arguments, `file` or standard input; blank lines skipped."""
    if texts:
        return [(f"text {i}", text) for i, text in enumerate(texts, start=1)]
    if file is not None:
        name = file
        if Path(name).exists() and not Path(name).is_file():  # a FIFO or a device: endless
            raise UserError(f"--file {name!r} is not a regular file.")
        try:
            with open(name, "rb") as f:
                raw = f.read(MAX_INPUT_BYTES + 1)
        except OSError as err:
            raise UserError(f"cannot read --file {name!r}: {err.strerror}.") from None
    else:
        name = "standard input"
        if sys.stdin is None:  # started with stdin closed (<&-)
            raise UserError(
                "standard input is closed: give texts as arguments, with --file, or on stdin."
            )
        if sys.stdin.isatty():
            print("Type or paste reviews, one per line; end with Ctrl-D.", file=sys.stderr)
        raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    if len(raw) > MAX_INPUT_BYTES:
        raise UserError(
            f"{name} holds more than {MAX_INPUT_BYTES // 2**20:,} MiB of text: split it into "
            "smaller files and score them one by one."
        )
    try:
        text = raw.decode("utf-8-sig")  # -sig: a byte-order mark is not text
        # One review per line: split on line feeds only (a CRLF's CR goes too), never on the
        # form feeds, U+2028 or lone CRs that str.splitlines also takes for line ends.
        lines = [line.removesuffix("\r") for line in text.split("\n")]
        if lines and lines[-1] == "":
            lines.pop()  # the file's final newline ends the last line; it starts none
    except UnicodeDecodeError as err:
        raise UserError(
            f"{name} is not UTF-8 text (byte {raw[err.start]:#04x} at offset {err.start}); "
            "save it as UTF-8 and try again."
        ) from None
    blank = [number for number, line in enumerate(lines, start=1) if not line.strip()]
    if blank:
        shown = ", ".join(map(str, blank[:10])) + (", ..." if len(blank) > 10 else "")
        lines_word = "line" if len(blank) == 1 else "lines"
        print(
            f"Skipped {len(blank)} blank {lines_word} in {name} ({lines_word} {shown}).",
            file=sys.stderr,
        )
    return [(f"line {n}", line) for n, line in enumerate(lines, start=1) if line.strip()]


def check_texts(texts: list[tuple[str, str]]) -> None:
    """Refuse what the model cannot read: no texts, an empty text, a text without words."""
    if not texts:
        raise UserError("there is no text to score: give texts as arguments, --file or stdin.")
    for where, text in texts:
        if not text.strip():
            raise UserError(f"{where} is empty: there is nothing to score.")
        if not tokenize(text):
            raise UserError(
                f"{where} has no words the model can read ({text.strip()[:40]!r}): "
                "it reads only letters and digits of the Latin alphabet."
            )
