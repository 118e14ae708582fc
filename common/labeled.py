"""Your own labeled texts: a CSV, TSV or JSON Lines file, or a folder of class folders.

`load_data` is what every script's --data goes to: the IMDB reviews (common/data.py),
or your own texts, read as below. `--data` takes, besides the IMDB dataset:

* `reviews.csv`, `reviews.tsv` or `reviews.jsonl` (each also compressed: `.gz`, `.bz2`,
  `.xz`, `.zst`, ..., as score_corpus.py reads them): one text and its label per row.
  The columns are `--text-column` and `--label-column`, by name (a CSV or TSV then has
  a header row) or by 0-based position (a file without one); without them, the usual
  names are recognised (text, review, sentence, ...; label, sentiment, class, ...);
* a folder with one sub-folder of .txt files per class (`neutral/0001.txt`), optionally
  under `train/` and `test/`: the layout `keras.utils.text_dataset_from_directory` reads.

Without a test part (`test/` or `--test-data FILE`), a stratified hold-out of
`--test-split` of each class is the test set, drawn with a fixed seed so that every
model and every seed is tested on the same texts. The rows are read as a stream: each
text becomes word ids at once (`_Encoded.read`, with common/data.py's `tokenize`), and
no list of the texts is ever held.

CSV as spreadsheets and pandas write it is read with Python's csv module (quoted fields
with commas, doubled quotes and line breaks; a byte-order mark; CRLF line ends); a TSV
likewise, with tabs. A blank line is skipped; a row without text or label is skipped
and counted; anything else that is wrong is one sentence naming the line.
"""

from __future__ import annotations

import argparse
import array
import csv
import dataclasses
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from common.cli import UserError, printable, skipped
from common.data import (
    MAXLEN,
    NUM_WORDS,
    SHUFFLE_SEED,
    Dataset,
    clip_vocabulary,
    is_imdb,
    load_imdb,
    pad,
    tokenize,
)
from common.files import (
    DECODERS,
    MAX_LINE_BYTES,
    BadLine,
    ChunkLines,
    Damaged,
    Decompressed,
    compression,
    file_sha256,
    short_reason,
    utf8_lines,
)

import numpy as np

from models.word_ids import INDEX_FROM, OOV, START

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None}  # the delimiter; None: JSON Lines
TEXT_NAMES = ("text", "review", "sentence", "tweet", "content", "body", "comment", "document")
LABEL_NAMES = ("label", "sentiment", "class", "target", "category", "polarity")
POSITIVE_NAMES = ("positive", "pos", "1", "true", "yes", "good")  # what "positive" may be called
MAX_TEXT_FILE_BYTES = 16 * 2**20  # one file of a class folder
TEXT_FILE_SUFFIX = ".txt"
MAX_LABELS = 10_000  # a softmax over more is not sentiment analysis any more
TEST_SPLIT = 0.2  # without a test part, the share of each label held out to test on


@dataclasses.dataclass
class Columns:
    """Which column holds the text and which the label: a name, a 0-based position, or None
    (recognised from the header)."""

    text: str | int | None = None
    label: str | int | None = None


def table_kind(path: str | os.PathLike[str]) -> str | None:
    """ ".csv", ".tsv" or ".jsonl" for a file of that kind (compressed or not: each of
    files.DECODERS), else None."""
    name = Path(path).name.lower()
    name = next((name.removesuffix(s) for s in DECODERS if name.endswith(s)), name)
    return next((suffix for suffix in TABLE_SUFFIXES if name.endswith(suffix)), None)


@dataclasses.dataclass(frozen=True)
class BadRow:
    """A row of a table that cannot be read: the line it starts on, and why, as a phrase.
    Training refuses the file with it; a corpus skips the row."""

    line: int
    reason: str


def csv_records(
    lines: Iterator[tuple[int, str]], delimiter: str, escape_char: str | None = None
) -> Iterator[tuple[int, list[str]] | BadRow]:
    """Each record of CSV or TSV `lines` ((number, text) pairs, line ends kept) with the line
    it starts on, blank lines left out; a BadRow for what the csv module cannot read."""
    csv.field_size_limit(MAX_LINE_BYTES)
    fed: list[tuple[int, str]] = []  # the lines the csv module has read for this record

    def feed() -> Iterator[str]:
        for line in lines:
            fed.append(line)
            yield line[1]

    reader = csv.reader(feed(), delimiter=delimiter, strict=True, escapechar=escape_char)
    kind = "TSV" if delimiter == "\t" else "CSV"
    while True:
        fed.clear()
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            start, reason = fed[0][0] if fed else 1, str(err)
            if "end of data" in reason or "field limit" in reason:
                yield BadRow(start, "opens a quote that is never closed (or a field is too long)")
                continue
            reason = f"is not valid {kind}: {reason}"
            if escape_char is None and fed and '\\"' in fed[-1][1]:
                reason += (" (its quotes look escaped with a backslash, \\\", as in Kaggle's "
                           "labeledTrainData.tsv: add --escape-char '\\')")  # fmt: skip
            yield BadRow(start, reason)
            continue
        if record:
            yield fed[0][0], record


def json_records(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, dict] | BadRow]:
    """Each object of JSON Lines `lines` ((number, text) pairs, blank ones left out by the
    caller) with its line; a BadRow for a line that is not a JSON object."""
    for number, line in lines:
        try:
            record = json.loads(line)
        except ValueError as err:
            yield BadRow(number, f"is not valid JSON ({short_reason(err)})")
            continue
        except RecursionError:  # thousands of [ or {: no text to read
            yield BadRow(number, "is JSON nested too deeply to read")
            continue
        if not isinstance(record, dict):
            kind = type(record).__name__
            yield BadRow(number, f"is a JSON {kind}, not an object of named fields")
            continue
        yield number, record


def find_column(names: list[str], wanted: str | None, usual: tuple[str, ...]) -> int | None:
    """Where the column `wanted` is among a header's `names` (or a JSON object's keys); with
    None, the first of the `usual` names there, in any case. None: it is not there."""
    if wanted is not None:
        return names.index(wanted) if wanted in names else None
    lowered = [str(name).lower() for name in names]
    return next((lowered.index(name) for name in usual if name in lowered), None)


def missing_column(names: list[str], wanted: str | None, kind: str) -> str:
    """What a file lacks when `find_column` finds nothing, in the same words wherever it is read."""
    shown = ", ".join(repr(printable(str(name))) for name in names[:20])
    shown += f" and {len(names) - 20} more" if len(names) > 20 else ""
    if wanted is not None:
        return f"has no column {wanted!r}; its columns are {shown}"
    return (f"has no column recognised as the {kind} among {shown}: name it with "
            f"--{kind}-column (or give 0-based positions for a file without a header)")  # fmt: skip


@dataclasses.dataclass
class Row:
    """One labeled text, and where it came from: a file's line number, or a file's name."""

    where: int | str
    text: str
    label: str


@dataclasses.dataclass
class Options:
    """How to read your own data: its columns, its test part and its positive label."""

    columns: Columns = dataclasses.field(default_factory=Columns)
    test_data: str | None = None  # a file or folder of the same form; None: a hold-out
    test_split: float | None = None  # the share of each class held out (None: TEST_SPLIT)
    positive_label: str | None = None  # with two labels: which is class 1
    escape_char: str | None = None  # a CSV or TSV whose quotes are escaped with it (\\")


def load_data(
    data: str | os.PathLike[str] | None = None,
    num_words: int | None = NUM_WORDS,
    maxlen: int | None = MAXLEN,
    options: Options | None = None,
) -> Dataset:
    """What --data names: the IMDB reviews (None, the Stanford archive or folder), or your
    own labeled texts (a CSV, TSV or JSON Lines file, a folder of class folders;
    below), read as `options` say."""
    options = options or Options()
    if data is None or is_imdb(Path(data)):
        given = [flag for flag, value in (
            ("--text-column", options.columns.text), ("--label-column", options.columns.label),
            ("--test-data", options.test_data), ("--positive-label", options.positive_label),
            ("--test-split", options.test_split), ("--escape-char", options.escape_char),
        ) if value is not None]  # fmt: skip
        if given:
            raise UserError(
                f"{given[0]} is for your own data (a CSV, TSV or JSON Lines file, or a folder "
                "of class folders); the IMDB dataset has its own columns and test set."
            )
        return load_imdb(data, num_words=num_words, maxlen=maxlen)
    dataset = load_labeled(Path(data), options, num_words=num_words, maxlen=maxlen)
    dataset.num_words, dataset.maxlen = num_words, maxlen
    if maxlen is not None:
        dataset.x_train, dataset.x_test = pad(dataset.x_train, maxlen), pad(dataset.x_test, maxlen)
    return dataset


def options(args: argparse.Namespace) -> Options:
    """How to read your own data, from the flags of `common.cli.data_parser`."""
    return Options(
        Columns(args.text_column, args.label_column),
        test_data=getattr(args, "test_data", None),  # not a flag of find_label_issues.py
        test_split=getattr(args, "test_split", None),
        positive_label=args.positive_label,
        escape_char=args.escape_char,
    )


class TableReader:
    """The rows of a CSV, TSV or JSON Lines file, read as a stream.

    After iterating, `columns` names the columns used and `skipped` the lines of the rows
    without text or label.
    """

    def __init__(self, path: str | os.PathLike[str], columns: Columns, flag: str = "--data",
                 escape_char: str | None = None):  # fmt: skip
        self.path, self.wanted, self.flag, self.escape_char = Path(path), columns, flag, escape_char
        self.kind = table_kind(path)
        self.keys: tuple[str | int, str | int] | None = None  # (text, label): names or positions
        self._has_header = True
        self.recognised: set[str] = set()  # which of "text" and "label" were found by name
        self.skipped: list[int] = []
        self.rows = 0

    def _error(self, line: int | None, message: str) -> UserError:
        where = f"{self.flag} {str(self.path)!r}" + (f", line {line:,}," if line else "")
        return UserError(f"{where} {message}")

    def lines(self) -> Iterator[str]:
        """The file's lines, decoded: one sentence for a line that is not UTF-8 or too long."""
        suffix = compression(self.path.name)
        try:
            with open(self.path, "rb") as file:
                stream = ChunkLines(Decompressed(file, suffix).read) if suffix else file
                for _, text in utf8_lines(stream, MAX_LINE_BYTES):
                    yield text
        except BadLine as err:
            advice = "." if err.too_long else ": save the file as UTF-8."
            raise self._error(err.number, err.reason + advice) from None
        except Damaged as err:
            raise self._error(None, f"is damaged: {err}.") from None
        except ImportError as err:  # zstandard, for a .zst file
            raise self._error(None, f"cannot be read: {short_reason(err)}.") from None
        except OSError as err:
            raise self._error(
                None, f"cannot be read: {err.strerror or short_reason(err)}."
            ) from None

    def __iter__(self) -> Iterator[Row]:
        rows = self._json_rows() if self.kind == ".jsonl" else self._csv_rows()
        for line, text, label in rows:
            if text is None or label is None or not text.strip() or not label.strip():
                self.skipped.append(line)
                continue
            self.rows += 1
            yield Row(line, text, label.strip())
        if self.rows == 0 and not self.skipped:
            raise self._error(None, "holds no rows: it is empty, or has only a header.")
        if self.rows == 0:
            raise self._error(
                None, f"has no row with both a text and a label ({len(self.skipped):,} without)."
            )

    def _csv_rows(self) -> Iterator[tuple[int, str | None, str | None]]:
        lines = enumerate(self.lines(), start=1)
        wanted = (self.wanted.text, self.wanted.label)
        header = None
        for item in csv_records(lines, TABLE_SUFFIXES[self.kind], self.escape_char):
            if isinstance(item, BadRow):
                raise self._error(item.line, f"{item.reason}.")
            start, record = item
            if header is None:
                header = self._header(record, start, wanted)
                if header:  # a header row, not data
                    continue
                header = [str(i) for i in range(len(record))]  # positions only
            if len(record) != len(header):
                raise self._error(
                    start,
                    f"has {len(record)} field{'s' if len(record) != 1 else ''} where the "
                    f"{'header has' if self._has_header else 'first row has'} {len(header)}: "
                    "a stray delimiter, or a text with a delimiter that is not quoted?",
                )
            yield start, record[self._text], record[self._label]

    @property
    def columns(self) -> tuple[str, str]:
        """The text and label columns used, for the report: a name, or "column 2"."""
        return tuple(f"column {key}" if isinstance(key, int) else key for key in self.keys)

    def _header(self, record: list[str], line: int, wanted: tuple) -> list[str] | None:
        """Decide the columns from the first row; return it if it is a header, else None."""
        if all(isinstance(w, int) for w in wanted):  # positions: the file has no header
            self._has_header = False
            self._text, self._label = (self._position(w, len(record), line) for w in wanted)
            self.keys = (self._text, self._label)
            return None
        names = [name.strip() for name in record]
        self._text, self._label = (
            self._find(names, w, choices, kind)
            for w, choices, kind in zip(
                wanted, (TEXT_NAMES, LABEL_NAMES), ("text", "label"), strict=True
            )
        )
        self.keys = (names[self._text], names[self._label])
        return names

    def _position(self, position: int, count: int, line: int) -> int:
        if position >= count:
            raise self._error(
                line, f"has {count} columns (0 to {count - 1}): there is no column {position}."
            )
        return position

    def _find(self, names: list[str], wanted: str | int | None, choices: tuple, kind: str) -> int:
        """The index of the text or label column among the header's `names`."""
        if isinstance(wanted, int):
            return self._position(wanted, len(names), 1)
        found = find_column(names, wanted, choices)
        if found is None:
            raise self._error(None, f"{missing_column(names, wanted, kind)}.")
        if wanted is None:
            self.recognised.add(kind)
        return found

    def _json_rows(self) -> Iterator[tuple[int, str | None, str | None]]:
        wanted = (self.wanted.text, self.wanted.label)
        if any(isinstance(w, int) for w in wanted):
            raise self._error(
                None, "is JSON Lines, whose rows are objects: name the keys, not positions."
            )
        keys = None
        lines = ((n, line.removesuffix("\n").removesuffix("\r"))  # as a corpus reads them
                 for n, line in enumerate(self.lines(), start=1) if line.strip())  # fmt: skip
        for item in json_records(lines):
            if isinstance(item, BadRow):
                raise self._error(item.line, f"{item.reason}.")
            number, record = item
            if keys is None:
                names = list(record)
                keys = [names[self._find(names, w, choices, kind)] for w, choices, kind in
                        zip(wanted, (TEXT_NAMES, LABEL_NAMES), ("text", "label"),
                            strict=True)]  # fmt: skip
                self.keys = (keys[0], keys[1])
            text, label = (record.get(key) for key in keys)
            if text is not None and not isinstance(text, str):
                raise self._error(
                    number, f"has a {type(text).__name__} as its text {keys[0]!r}, not a string."
                )
            if isinstance(label, bool) or not isinstance(label, str | int | type(None)):
                raise self._error(
                    number,
                    f"has a {type(label).__name__} as its label {keys[1]!r}: a label is a "
                    "string or a whole number.",
                )
            yield number, text, None if label is None else str(label)


class FolderReader:
    """The texts of a folder of class folders: `<folder>/<label>/*.txt`, one text per file."""

    def __init__(self, folder: Path, flag: str = "--data") -> None:
        self.folder, self.flag = folder, flag
        try:
            self.labels = sorted(
                entry.name for entry in os.scandir(folder)
                if entry.is_dir() and not entry.name.startswith(".")
            )  # fmt: skip
        except OSError as err:
            raise UserError(f"cannot read {flag} {str(folder)!r}: {err.strerror}.") from None
        if not self.labels:
            raise UserError(
                f"{flag} {str(folder)!r} has no class folders: expected one folder of .txt "
                "files per label (e.g. negative/, neutral/, positive/), or a CSV, TSV or "
                "JSON Lines file."
            )
        self.skipped: list[str] = []
        self.rows = 0

    def __iter__(self) -> Iterator[Row]:
        for label in self.labels:
            try:
                names = sorted(  # hidden files (macOS's ._name.txt) are not texts
                    entry.name for entry in os.scandir(self.folder / label)
                    if entry.name.endswith(TEXT_FILE_SUFFIX) and not entry.name.startswith(".")
                    and entry.is_file()
                )  # fmt: skip
            except OSError as err:
                raise UserError(f"cannot read {err.filename}: {err.strerror}.") from None
            for name in names:
                path = self.folder / label / name
                text = self._read(path)
                where = f"{label}/{name}"
                if not text.strip():
                    self.skipped.append(where)
                    continue
                self.rows += 1
                yield Row(where, text, label)
        if self.rows == 0:
            raise UserError(
                f"{self.flag} {str(self.folder)!r} holds no text: its class folders "
                f"({', '.join(self.labels)}) have no non-empty {TEXT_FILE_SUFFIX} files."
            )

    def _read(self, path: Path) -> str:
        try:
            with open(path, "rb") as file:
                raw = file.read(MAX_TEXT_FILE_BYTES + 1)
        except OSError as err:
            raise UserError(f"cannot read {str(path)!r}: {err.strerror}.") from None
        if len(raw) > MAX_TEXT_FILE_BYTES:
            raise UserError(f"{str(path)!r} is larger than {MAX_TEXT_FILE_BYTES >> 20} MiB.")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            raise UserError(
                f"{str(path)!r}, line {line}, is not UTF-8 (byte {raw[err.start]:#04x}): "
                "save it as UTF-8."
            ) from None


def split_folders(folder: Path) -> tuple[Path, Path | None]:
    """A class-folder tree's training and test folders: train/ and test/ if both are there."""
    train, test = folder / "train", folder / "test"
    if train.is_dir() and test.is_dir():
        return train, test
    return folder, None


def reader(path: Path, columns: Columns, flag: str = "--data",
           escape_char: str | None = None) -> TableReader | FolderReader:  # fmt: skip
    """The reader for a table file or a folder of class folders (not the IMDB layout)."""
    if not path.exists():
        raise UserError(f"{flag} {str(path)!r}: no such file or folder.")
    if path.is_dir():
        return FolderReader(path, flag)
    if not path.is_file():
        raise UserError(f"{flag} {str(path)!r} is neither a regular file nor a folder.")
    if table_kind(path) is None:
        raise UserError(
            f"{flag} {str(path)!r} is not a file this project reads: a .csv, .tsv or .jsonl "
            "file (also compressed: .gz, .bz2, .xz, .zst, ...), a folder, or the IMDB archive "
            "(.tar.gz)."
        )
    return TableReader(path, columns, flag, escape_char)


def label_order(labels: set[str], positive: str | None) -> list[str]:
    """The class names in class-id order. Numbers sort as numbers, other labels
    alphabetically; with two labels, the positive one is class 1: `positive` if given,
    else the one called positive (pos, 1, true, ...), else the second in that order."""
    if positive is not None and positive not in labels:
        raise UserError(
            f"--positive-label {positive!r} is not a label of the data; its labels are "
            f"{', '.join(repr(printable(label)) for label in _sorted(labels))}."
        )
    if len(labels) > MAX_LABELS:
        raise UserError(
            f"the data has {len(labels):,} different labels, more than {MAX_LABELS:,}: is the "
            "label column the right one (--label-column)?"
        )
    ordered = _sorted(labels)
    if len(ordered) != 2:
        return ordered
    if positive is None:
        known = [label for label in ordered if label.lower() in POSITIVE_NAMES]
        positive = known[0] if len(known) == 1 else ordered[1]
    return [next(label for label in ordered if label != positive), positive]


def _sorted(labels: set[str]) -> list[str]:
    try:
        return sorted(labels, key=int)
    except ValueError:
        return sorted(labels)


# --- From rows to word ids -----------------------------------------------------------


class _Encoded:
    """Rows read so far, as provisional word ids (in order of first appearance), compactly."""

    def __init__(self, vocabulary: dict[str, int]) -> None:
        self.vocabulary = vocabulary  # word -> provisional id, shared by the training and test rows
        self.ids = array.array("i")
        self.lengths = array.array("i")
        self.labels: list[str] = []
        self.where: list[int | str] = []

    def read(self, rows: Iterator[Row]) -> _Encoded:
        vocabulary, ids = self.vocabulary, self.ids
        for row in rows:
            words = tokenize(row.text)
            ids.extend([vocabulary.setdefault(word, len(vocabulary)) for word in words])
            self.lengths.append(len(words))
            self.labels.append(row.label)
            self.where.append(row.where)
        return self

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The provisional ids of `rows` (indices) end to end, and each one's length."""
        lengths = np.frombuffer(self.lengths, np.int32)
        ends = np.cumsum(lengths, dtype=np.int64)
        starts = ends - lengths
        flat = np.frombuffer(self.ids, np.int32)
        picked = lengths[rows]
        # Each picked row's ids: its start plus 0, 1, ... its length - 1.
        offsets = np.arange(picked.sum(), dtype=np.int64) - np.repeat(
            np.cumsum(picked, dtype=np.int64) - picked, picked
        )
        return flat[np.repeat(starts[rows], picked) + offsets], picked


def load_labeled(
    path: Path, options: Options, *, num_words: int | None, maxlen: int | None
) -> Dataset:
    """Your own labeled texts, encoded like the IMDB reviews (common/data.py): word ids
    ranked by frequency in the training part only, START first; class ids by `label_order`."""
    train_path, test_path = split_folders(path) if path.is_dir() else (path, None)
    if options.test_data:  # a test part of its own, whatever is under --data
        test_path = Path(options.test_data)
        _check_apart(train_path, test_path)
    _check_flags_apply(path, options, test_path)
    escape = options.escape_char
    train_reader = reader(train_path, options.columns, escape_char=escape)
    vocabulary: dict[str, int] = {}
    train = _Encoded(vocabulary).read(iter(train_reader))
    test, test_reader = None, None
    if test_path is not None:
        flag = "--test-data" if options.test_data else "--data"
        test_reader = reader(test_path, options.columns, flag, escape)
        test = _Encoded(vocabulary).read(iter(test_reader))
    _report_reading(path, train_reader, test_reader)

    labels, y_all = _class_ids(path, train.labels, options.positive_label)
    test_split = TEST_SPLIT if options.test_split is None else options.test_split
    if test is None:
        fit_rows, test_rows = stratified_split(y_all, test_split, labels)
        test, y_test, test_where = train, y_all[test_rows], [train.where[i] for i in test_rows]
        split = f"a stratified hold-out of {test_split:.0%} of each label"
        split += f" (seed {SHUFFLE_SEED})"
    else:
        fit_rows, test_rows = np.arange(len(y_all)), np.arange(len(test.labels))
        y_test = test_class_ids(labels, test.labels)
        test_where = test.where
        split = f"{str(test_path)!r}"
    # A file sorted by label would leave validation (the last share) one label: shuffle.
    fit_rows = np.random.RandomState(SHUFFLE_SEED).permutation(fit_rows)
    y_train = y_all[fit_rows]

    # The vocabulary: the words of the training part, most frequent first, ties
    # alphabetically; a word seen only in the test part is unknown (OOV) like any other.
    train_ids, train_lengths = train.take(fit_rows)
    final, word_index = _ranked_ids(vocabulary, train_ids)
    if not word_index:
        raise UserError(
            f"no text to learn from in {str(path)!r} has a word the model can read (letters "
            "or digits, of any script): there is nothing to train on."
        )
    if _unspaced_share(word_index) > 0.5:
        print(UNSPACED_NOTE)
    test_ids, test_lengths = test.take(test_rows)

    print(f"Labels: {_counts(labels, y_all if test is train else np.concatenate([y_all, y_test]))}")
    print(
        f"Test set: {split}; training {len(y_train):,} ({_counts(labels, y_train)}), "
        f"test {len(y_test):,} ({_counts(labels, y_test)})"
    )
    if len(labels) == 2:
        print(
            f"Positive label: {labels[1]!r} (class 1; the models give its probability; "
            "--positive-label to choose)"
        )
    dataset = Dataset(
        _sequences(final[train_ids], train_lengths, num_words),
        y_train,
        _sequences(final[test_ids], test_lengths, num_words),
        y_test,
        word_index,
        # Names and digests, never where they lie (a version folder may be given away).
        _described(path) + (f" (test: {_described(test_path)})" if test_path else ""),
        test_files=[f"line {w}" if isinstance(w, int) else str(w) for w in test_where],
        labels=labels,
        sha256=None if path.is_dir() else file_sha256(path),  # the card's, and compare's
        origin={
            "data": path.resolve().name,  # what the model learned from, as it is named
            "kind": "folders" if path.is_dir() else table_kind(path).lstrip("."),
            "text_column": getattr(train_reader, "keys", (None, None))[0],
            "label_column": getattr(train_reader, "keys", (None, None))[1],
            "test_data": test_path.name if options.test_data else None,  # not where it lay
            "test_split": None if test_path else test_split,
            "split_seed": SHUFFLE_SEED,
            "escape_char": options.escape_char,
        },
    )  # fmt: skip
    return dataset


def _class_ids(path: Path, given: list[str], positive: str | None) -> tuple[list[str], np.ndarray]:
    """The labels in class-id order (`label_order`) and each row's class id; one sentence
    for data of fewer than two labels, or a positive label for more than two."""
    labels = label_order(set(given), positive)
    if positive is not None and len(labels) != 2:
        raise UserError(
            f"--positive-label is for data of two labels; this data has {len(labels):,}, "
            "each with its own probability."
        )
    if len(labels) < 2:
        one = f"one label only ({labels[0]!r})" if labels else "no labeled rows"
        raise UserError(
            f"--data {str(path)!r} has {one}: a classifier needs texts of two labels at least."
        )
    return labels, class_ids(labels, given)


def test_class_ids(labels: list[str], given: list[str]) -> np.ndarray:
    """The class ids of a test part's labels `given`; one sentence for a label the training
    data (`labels`) never has, or for one of `labels` that the test part lacks."""
    unseen = sorted(set(given) - set(labels))
    if unseen:
        raise UserError(
            f"the test data has labels the training data never has: "
            f"{', '.join(repr(printable(label)) for label in unseen[:10])}."
        )
    missing = [label for label in labels if label not in set(given)]
    if missing:
        raise UserError(
            f"the test data has no texts labeled {printable(missing[0])!r}: a test set "
            "needs every label the training data has, to measure each one."
        )
    return class_ids(labels, given)


def class_ids(labels: list[str], given: list[str]) -> np.ndarray:
    """Each of `given`'s class id: its place in `labels`."""
    class_of = {label: i for i, label in enumerate(labels)}
    return np.array([class_of[label] for label in given], np.int64)


# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, Japanese's kana,
# and the Han ideographs of Chinese and Japanese.
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
                       "\u4e00-\u9fff\uf900-\ufaff]")  # fmt: skip
UNSPACED_NOTE = (
    "Note: most of these texts are written without spaces between words (Chinese, "
    "Japanese, Thai, ...), so the model reads each run of letters between two spaces or "
    "signs as one word, a whole phrase it will seldom see again; split the words first, "
    "with spaces between them (a segmenter such as jieba for Chinese, fugashi for "
    "Japanese, PyThaiNLP for Thai)."
)


def _unspaced_share(words: dict[str, int]) -> float:
    """The share of the vocabulary's letters that are of scripts written without spaces."""
    letters = sum(len(word) for word in words)
    return sum(len(_UNSPACED.findall(word)) for word in words) / max(letters, 1)


def _ranked_ids(vocabulary: dict[str, int], ids: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Each provisional id's final id (the words of `ids` by frequency, ties alphabetically,
    from INDEX_FROM + 1; any other word OOV), and the word index they make."""
    words = list(vocabulary)
    counts = np.bincount(ids, minlength=len(words))
    seen = np.flatnonzero(counts)
    ranked = sorted(seen.tolist(), key=lambda i: (-counts[i], words[i]))
    final = np.full(len(words) + 1, OOV, np.int32)
    final[ranked] = np.arange(1, len(ranked) + 1, dtype=np.int32) + INDEX_FROM
    return final, {words[i]: rank for rank, i in enumerate(ranked, start=1)}


def load_every_row(
    path: Path, options: Options, *, num_words: int | None, maxlen: int
) -> tuple[np.ndarray, np.ndarray, list[str], list[int | str]]:
    """Every row of your own labeled texts, in file order, encoded as `load_labeled`
    encodes them (the vocabulary of all the rows: it reads no label), with its labels and
    where each row is (its line, or its file): what find_label_issues.py checks."""
    if is_imdb(path):
        raise UserError(
            f"--data {str(path)!r} is the IMDB dataset, whose labels come from its ratings: "
            "give a file or folder of your own labeled texts."
        )
    _check_flags_apply(path, options, None)
    rows = reader(path, options.columns, escape_char=options.escape_char)
    encoded = _Encoded({}).read(iter(rows))
    _report_reading(path, rows, None)
    labels, y = _class_ids(path, encoded.labels, options.positive_label)
    ids, lengths = encoded.take(np.arange(len(y)))
    final, _ = _ranked_ids(encoded.vocabulary, ids)
    print(f"Labels: {_counts(labels, y)}")
    return pad(_sequences(final[ids], lengths, num_words), maxlen), y, labels, encoded.where


def _check_apart(train: Path, test: Path) -> None:
    """Refuse a test file that is the training file, by path or by content: its accuracy
    would say how well the model remembers, not how well it does on texts it never saw."""
    try:
        same = test.exists() and (os.path.samefile(train, test) or (
            train.is_file() and test.is_file() and train.stat().st_size == test.stat().st_size
            and file_sha256(train) == file_sha256(test)))  # fmt: skip
    except OSError:
        return  # reading it says what is wrong, in one sentence
    if same:
        raise UserError(
            f"--test-data {str(test)!r} holds the very texts of --data: a model tested on what "
            "it learned from scores what it remembers. Give a test file of other texts, or "
            "leave --test-data out to hold out a share of --data."
        )


def _check_flags_apply(path: Path, options: Options, test_path: Path | None) -> None:
    """Refuse a flag that this data would ignore, rather than ignore it without a word."""
    folders = path.is_dir()
    if test_path is not None and options.test_split is not None:
        part = "--test-data" if options.test_data else "its test/ folder"
        raise UserError(
            f"--test-split holds out a share of data that has no test part; this data has "
            f"one ({part}): leave --test-split out."
        )
    for flag, value in (("--text-column", options.columns.text),
                        ("--label-column", options.columns.label),
                        ("--escape-char", options.escape_char)):  # fmt: skip
        if value is not None and folders:
            raise UserError(
                f"{flag} is for a CSV, TSV or JSON Lines file; a folder of class folders has "
                "one text per file and its labels in the folders' names."
            )
    if options.escape_char is not None and table_kind(path) == ".jsonl":
        raise UserError("--escape-char is for a CSV or TSV file; JSON has escapes of its own.")


def stratified_split(
    y: np.ndarray, test_split: float, labels: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The rows to train on and to test on: `test_split` of each class, at least one, drawn
    with SHUFFLE_SEED; the test rows in file order."""
    if test_split <= 0:
        raise UserError(
            "--test-split 0 leaves nothing to test on: give a test file with --test-data."
        )
    rng = np.random.RandomState(SHUFFLE_SEED)
    test = []
    for label in _sorted(set(labels)):  # not in class order: --positive-label moves none
        rows = np.flatnonzero(y == labels.index(label))
        held = max(1, round(len(rows) * test_split))
        if len(rows) - held < 1:
            raise UserError(
                f"the label {label!r} has {len(rows)} text{'s' if len(rows) != 1 else ''}: a "
                f"stratified hold-out of {test_split:.0%} needs at least 2 of each label, one "
                "to train on and one to test on."
            )
        test.append(rng.permutation(rows)[:held])
    test_rows = np.sort(np.concatenate(test))
    fit_rows = np.setdiff1d(np.arange(len(y)), test_rows)
    return fit_rows, test_rows


def _sequences(ids: np.ndarray, lengths: np.ndarray, num_words: int | None) -> np.ndarray:
    """One array per text: START, then its word ids (clipped to the vocabulary)."""
    ends = np.cumsum(lengths + 1, dtype=np.int64)
    flat = np.empty(len(ids) + len(lengths), np.int32)
    is_start = np.zeros(len(flat), bool)
    is_start[ends - lengths - 1] = True
    flat[is_start] = START
    flat[~is_start] = ids
    flat = clip_vocabulary(flat, num_words)
    sequences = np.empty(len(lengths), dtype=object)
    sequences[:] = np.split(flat, ends[:-1]) if len(lengths) else []
    return sequences


def _counts(labels: list[str], y: np.ndarray) -> str:
    counts = np.bincount(y, minlength=len(labels))
    pairs = zip(labels, counts, strict=True)
    return ", ".join(f"{printable(label)} {count:,}" for label, count in pairs)


def _report_reading(
    path: Path, train: TableReader | FolderReader, test: TableReader | FolderReader | None
) -> None:
    """Print how many texts were read, from which columns, and what was skipped."""
    for part in (train, test):
        if part is None:
            continue
        if isinstance(part, TableReader):
            found = [f"{kind} column {name!r}" + (" (recognised by its name)" if kind in
                     part.recognised else "") for kind, name in zip(("text", "label"),
                     part.columns, strict=True)]  # fmt: skip
            columns, where = f"; {', '.join(found)}", part.path
        else:
            columns, where = f"; {len(part.labels)} class folders", part.folder
        print(f"Read {printable(str(where))}: {part.rows:,} texts{columns}")
        if part.skipped:
            kind = "line" if isinstance(part, TableReader) else "file"
            detail = "without a text or a label"
            print(skipped(len(part.skipped), "row", kind, part.skipped, detail))


def _described(path: Path) -> str:
    """A data file as a model's records name it: its name and the start of its sha256."""
    if path.is_dir():
        return f"{path.resolve().name} (a folder)"
    return f"{path.resolve().name} (sha256 {file_sha256(path)[:16]})"
