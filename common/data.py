"""Load the IMDB reviews once, the same way for every script (your own labeled texts are
common/labeled.py's, encoded the same way; its `load_data` picks between the two).

Two sources of the IMDB reviews give the same kind of arrays:

* `keras.datasets.imdb` (the default), which downloads a pre-encoded copy;
* the Stanford Large Movie Review Dataset on disk (`--data PATH` or `$IMDB_DATA`):
  the official `aclImdb_v1.tar.gz`, an extracted `aclImdb/` folder, or any archive
  with the same `train/{pos,neg}` and `test/{pos,neg}` folders.

A review becomes a list of integers with the keras.datasets conventions: 1 marks
the start, 2 stands for a word outside the vocabulary, and a word of frequency
rank r (1 = most frequent) is r + 3. Keeping the `num_words` most frequent words
turns every index >= num_words into 2. Reviews are then padded with zeros or cut
to `maxlen` tokens, both at the front, as `keras.utils.pad_sequences` does by default.

Tokenizing the local reviews is deliberately simple (see `tokenize`). Words are
ranked by how often they occur in the training reviews only, so the choice of the
5,000 words the models see never looks at the test set; words seen only in test
reviews are ranked after them. The first read of the 50,000 files takes some
seconds; the encoded arrays are then cached in the Keras cache folder, keyed by the
sha256 of the archive's bytes (of a folder: of every review's name and text), so
later runs load in about a second and an edited dataset never gets a stale cache.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import math
import os
import re
import sys
import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from common.cli import UserError
from common.files import atomic_path, file_sha256, remove_stale_temporaries, short_reason

import numpy as np

from models.word_ids import INDEX_FROM, OOV, START

NUM_WORDS = 5000  # keep the 5,000 most frequent words
MAXLEN = 500  # pad or cut every review to 500 tokens
PADDING = TRUNCATING = "pre"  # zeros go in front; long reviews lose their beginning

SPLITS = ("train", "test")
LABELS = {"neg": 0, "pos": 1}
IMDB_LABELS = ("negative", "positive")  # the class names of class ids 0 and 1
SHUFFLE_SEED = 113  # keras.datasets.imdb's; every shuffle and hold-out of the data uses it

# Bump when tokenizing or encoding changes, so that no stale cache is served.
_ENCODING_VERSION = "4"  # 2: file names cached too; 3: code point ranges; 4: every script
_EXPECTED_LAYOUT = "expected aclImdb/train/{pos,neg} and aclImdb/test/{pos,neg}"
_REVIEW_PATH = re.compile(r"(?:^|/)(train|test)/(pos|neg)/[^/]+\.txt$")

# The tokenizer, defined by explicit code point ranges rather than by Python's `\w` and
# `str.lower`, whose Unicode tables differ from TensorFlow's: common/export.py builds
# the same steps from these constants in TensorFlow ops, so that an exported model
# turns any text into exactly the ids `encode` gives (tests/test_export.py checks it).
LINE_BREAK = r"<[bB][rR][\t\n\x0b\x0c\r ]*/?>"  # <br>, <br/>, <BR />: read in both re and RE2
# Capitals that are lowercased (+32): A-Z, and À-Þ of Latin-1 except ×.
UPPERCASE = ((0x41, 0x5A), (0xC0, 0xD6), (0xD8, 0xDE))
# Word characters, by tokenizer version (each saved model's encoding names its own):
# 1: ASCII digits and letters; the letters and numbers of Latin-1 (é, ñ, ø, ß, ½, ², ...)
#    and the letters of Latin Extended-A and -B (ł, ś, ő, ...): the models saved before 2.
# 2: the letters, marks and numbers of every script (Cyrillic, Greek, Arabic, Devanagari,
#    Han, ...), as ranges of Unicode 14's categories L, M and N in word_characters.json,
#    so that TensorFlow and JavaScript read exactly the same characters.
# Anything else (punctuation, symbols, emoji) separates words. Capitals beyond Latin-1
# (Ł, Д) keep their case.
WORD_CHARACTERS_V1 = (
    (0x30, 0x39), (0x61, 0x7A),  # 0-9, a-z (A-Z are lowercased before)
    (0xAA, 0xAA), (0xB2, 0xB3), (0xB5, 0xB5), (0xB9, 0xBA), (0xBC, 0xBE),  # ª ² ³ µ ¹ º ¼ ½ ¾
    (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F),  # À-Ö, Ø-ö, ø-ɏ
)  # fmt: skip
_EVERY_SCRIPT = json.loads((Path(__file__).with_name("word_characters.json")).read_text())
WORD_CHARACTERS = {1: WORD_CHARACTERS_V1, 2: tuple(map(tuple, _EVERY_SCRIPT["ranges"]))}
TOKENIZER = 2  # the version new models are trained with
TYPOGRAPHIC_APOSTROPHE = "\u2019"  # read as a plain apostrophe

_LINE_BREAK = re.compile(LINE_BREAK)
_LOWERCASE = {c: c + 32 for first, last in UPPERCASE for c in range(first, last + 1)}
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _word_pattern(ranges: Sequence[tuple[int, int]], astral: bool) -> re.Pattern:
    """A word: runs of `ranges` joined by single apostrophes. Without `astral`, for a text
    with no code point beyond U+FFFF, those ranges are left out for one that takes them
    all: Python's re then looks each character up in a table, some times faster."""

    def cls(first: int, last: int) -> str:
        return f"\\U{first:08x}-\\U{last:08x}"

    kept = [(a, b) for a, b in ranges if astral or a <= 0xFFFF]
    letter = "".join(cls(a, min(b, 0xFFFF) if not astral else b) for a, b in kept)
    if not astral:
        letter += cls(0x10000, 0x10FFFF)
    return re.compile(f"[{letter}]+(?:'[{letter}]+)*")  # apostrophes inside a word stay


_WORDS = {(version, astral): _word_pattern(ranges, astral)
          for version, ranges in WORD_CHARACTERS.items() for astral in (False, True)}  # fmt: skip


@dataclasses.dataclass
class Dataset:
    """The texts as integer sequences, their class ids and the vocabulary.

    `labels` names the classes by id: with two, class 1 is the positive one and the
    models give its probability; with more, they give one probability per class.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    word_index: dict[str, int]  # word -> frequency rank, 1 = most frequent
    source: str  # where the reviews came from, for the metrics file
    num_words: int | None = None  # the vocabulary kept; None: every word
    maxlen: int | None = None  # the length every review was padded or cut to; None: as is
    test_files: list[str] | None = None  # each test review's file, e.g. test/neg/0_2.txt
    labels: list[str] = dataclasses.field(default_factory=lambda: list(IMDB_LABELS))
    origin: dict | None = None  # how your own data was read: kind, columns, test part
    sha256: str | None = None  # of the file read (an archive, your own table); a folder: None

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def head(self, n: int) -> Dataset:
        """The first `n` training and test reviews: for quick checks, not for results."""
        return dataclasses.replace(
            self, x_train=self.x_train[:n], y_train=self.y_train[:n],
            x_test=self.x_test[:n], y_test=self.y_test[:n],
            test_files=self.test_files and self.test_files[:n],
        )  # fmt: skip

    def clipped(self, num_words: int | None) -> Dataset:
        """The same reviews with the `num_words` most frequent words kept, the rest OOV."""

        def clip(x: np.ndarray) -> np.ndarray:
            if x.dtype != object:  # padded: one array
                return clip_vocabulary(x, num_words)
            clipped = np.empty(len(x), dtype=object)
            clipped[:] = [clip_vocabulary(np.asarray(s), num_words) for s in x]
            return clipped

        return dataclasses.replace(
            self, x_train=clip(self.x_train), x_test=clip(self.x_test), num_words=num_words
        )

    def padded(self, maxlen: int) -> Dataset:
        """The same reviews, each padded or cut to `maxlen` tokens (see `pad`)."""
        return dataclasses.replace(
            self, x_train=pad(self.x_train, maxlen), x_test=pad(self.x_test, maxlen), maxlen=maxlen
        )


def fit_size(num_reviews: int, validation_split: float) -> int:
    """How many of the training reviews `fit(validation_split=...)` learns from.

    Keras validates on the last `validation_split` share of them and fits on the first.
    """
    return int(math.floor(num_reviews * (1.0 - validation_split)))


def tokenize(text: str, version: int = TOKENIZER) -> list[str]:
    """Split a review into lowercase words, as tokenizer `version` does.

    `<br />` tags and punctuation become spaces; an apostrophe inside a word stays
    ("don't", "director's"), typographic apostrophes become plain ones. What is a
    letter, and which capitals are lowercased, is spelled out in WORD_CHARACTERS and
    UPPERCASE above, so that TensorFlow can do exactly the same (common/export.py).
    """
    text = _LINE_BREAK.sub(" ", text)
    # On ASCII, str.lower is the same and much faster than the translation table.
    text = text.lower() if text.isascii() else text.translate(_LOWERCASE)
    text = text.replace(TYPOGRAPHIC_APOSTROPHE, "'")
    astral = not text.isascii() and _ASTRAL.search(text) is not None
    return _WORDS[version, astral].findall(text)


def clip_vocabulary(sequence: np.ndarray, num_words: int | None) -> np.ndarray:
    """Replace every index >= num_words by OOV, as keras.datasets.imdb does."""
    if num_words is None:
        return sequence
    return np.where(sequence < num_words, sequence, OOV).astype(sequence.dtype)


def encode(
    text: str, word_index: dict[str, int], num_words: int | None = None, tokenizer: int = TOKENIZER
) -> np.ndarray:
    """Encode one review: START, then each word's rank + INDEX_FROM, or OOV if unknown.

    This is the encoder for the local archive's training data and for new text alike.
    """
    indices = [START]
    for word in tokenize(text, tokenizer):
        rank = word_index.get(word)
        indices.append(OOV if rank is None else rank + INDEX_FROM)
    return clip_vocabulary(np.array(indices, dtype=np.int32), num_words)


def decode(sequence: np.ndarray | list[int], word_index: dict[str, int]) -> str:
    """Turn an encoded review back into words; padding and the start token are dropped."""
    return decode_many([sequence], word_index)[0]


def decode_many(
    sequences: Sequence[np.ndarray | list[int]], word_index: dict[str, int]
) -> list[str]:
    """`decode` for many reviews, building the index -> word table once."""
    words = {rank + INDEX_FROM: word for word, rank in word_index.items()}
    return [
        " ".join(words.get(int(i), "<unk>") for i in sequence if i not in (0, START))
        for sequence in sequences
    ]


def pad(sequences: np.ndarray, maxlen: int) -> np.ndarray:
    """Pad with zeros or cut every sequence to `maxlen` tokens, at the front."""
    import keras  # here: a script that only reads text or its flags need not load TensorFlow

    return keras.utils.pad_sequences(
        sequences, maxlen=maxlen, padding=PADDING, truncating=TRUNCATING, value=0
    )


def load_imdb(
    data: str | os.PathLike[str] | None = None,
    num_words: int | None = NUM_WORDS,
    maxlen: int | None = MAXLEN,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Dataset:
    """Load the 25,000 training and 25,000 test reviews.

    `data` is None for keras.datasets.imdb, else a path to the Stanford dataset.
    `num_words=None` keeps every word; `maxlen=None` leaves the sequences unpadded
    (a NumPy object array of sequences of varying length).
    """
    if data is None:
        imdb = _load_from_keras(num_words)
    else:
        imdb = _load_local(Path(data), num_words, cache_dir)
    imdb.num_words, imdb.maxlen = num_words, maxlen
    if maxlen is not None:
        imdb.x_train = pad(imdb.x_train, maxlen)
        imdb.x_test = pad(imdb.x_test, maxlen)
    return imdb


def is_imdb(path: Path) -> bool:
    """Whether `path` is the Stanford dataset: an archive, or a folder with its layout. A
    path that does not exist counts as one, so that its loader says it is missing."""

    if path.is_dir():  # train/ and test/ with pos/ and neg/ (and unsup/): meant as IMDB
        folder = path / "aclImdb" if (path / "aclImdb").is_dir() else path
        if (path / "aclImdb").is_dir():
            return True
        try:
            found = {entry.name for split in SPLITS for entry in os.scandir(folder / split)
                     if entry.is_dir()}  # fmt: skip
        except OSError:
            return False
        return bool(found & set(LABELS)) and found <= {*LABELS, "unsup"}
    name = path.name.lower()
    return any(kind in name for kind in (".tar", ".tgz")) or not path.exists()


def _load_from_keras(num_words: int | None) -> Dataset:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(
            num_words=num_words, start_char=START, oov_char=OOV, index_from=INDEX_FROM
        )
        word_index = keras.datasets.imdb.get_word_index()
    except Exception as err:  # keras raises a bare Exception when the download fails
        raise UserError(
            f"could not download the IMDB reviews through keras.datasets ({short_reason(err)}); "
            "to run offline, pass --data PATH (or set IMDB_DATA) to the Stanford dataset, "
            "aclImdb_v1.tar.gz from https://ai.stanford.edu/~amaas/data/sentiment/"
        ) from None
    return Dataset(x_train, y_train, x_test, y_test, word_index, "keras.datasets.imdb")


# --- The local Stanford dataset -----------------------------------------------------


def default_cache_dir() -> Path:
    """The Keras cache folder, where keras.datasets keeps its downloads too."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets"


def _load_local(
    path: Path, num_words: int | None, cache_dir: str | os.PathLike[str] | None
) -> Dataset:
    if not path.exists():
        raise UserError(f"--data {str(path)!r}: no such file or folder.")
    if not (path.is_file() or path.is_dir()):  # a FIFO or a device would be read forever
        raise UserError(f"--data {str(path)!r} is neither a regular file nor a folder.")
    reviews = None
    if path.is_dir():
        # A folder is keyed by its reviews' names and bytes: reading 50,000 small files
        # takes a second or two, and no edit can then be served a stale cache.
        reviews = read_reviews(path)
        content = _reviews_digest(reviews)
    else:
        content = _file_digest(path)
    # The cache key covers the reviews and the way they are encoded: change either,
    # and a new cache file is built instead of a stale one being served.
    key = hashlib.sha256(f"{content} encoding-v{_ENCODING_VERSION}".encode()).hexdigest()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_file = cache / f"imdb_local_{key[:20]}.npz"

    remove_stale_temporaries(cache)  # what a killed run left half-written
    arrays = _read_cache(cache_file)
    if arrays is None:
        if reviews is None:
            reviews = read_reviews(path)
        arrays = _encode_reviews(reviews)
        _write_cache(cache_file, arrays)

    words = bytes(arrays["words"]).decode("utf-8").split("\n")
    word_index = {word: rank for rank, word in enumerate(words, start=1)}
    return Dataset(
        _split(arrays["x_train"], arrays["train_ends"], num_words),
        arrays["y_train"],
        _split(arrays["x_test"], arrays["test_ends"], num_words),
        arrays["y_test"],
        word_index,
        # Its name and digest, never where it lies: a version folder given away does not
        # carry the trainer's home folder.
        f"{path.resolve().name} (sha256 {content[:16]}{', a folder' if path.is_dir() else ''})",
        test_files=bytes(arrays["test_names"]).decode("utf-8").split("\n"),
        sha256=None if path.is_dir() else content,
    )


def read_reviews(path: str | os.PathLike[str]) -> dict[str, str]:
    """Every review's text by its name (test/neg/0_2.txt, ...): an archive or a folder."""
    path = Path(path)
    if path.is_dir():
        return _check_every_part(_read_folder(_dataset_folder(path)), path)
    return _read_archive(path)


def _dataset_folder(path: Path) -> Path:
    """The folder holding train/ and test/: `path` itself or its aclImdb/ subfolder."""
    folder = path / "aclImdb" if (path / "aclImdb").is_dir() else path
    missing = [
        f"{s}/{label}" for s in SPLITS for label in LABELS if not (folder / s / label).is_dir()
    ]
    if missing:
        raise UserError(
            f"--data {str(path)!r} is not the IMDB dataset: it has no {', '.join(missing)} "
            f"folder{'s' if len(missing) > 1 else ''} ({_EXPECTED_LAYOUT})."
        )
    return folder


def _file_digest(path: Path) -> str:
    """The sha256 of an archive's bytes."""
    try:
        return file_sha256(path)
    except OSError as err:
        raise UserError(f"cannot read --data {str(path)!r}: {err.strerror or err}.") from None


def _reviews_digest(reviews: dict[str, str]) -> str:
    """The sha256 of every review's name and text, in name order."""
    digest = hashlib.sha256()
    for name in sorted(reviews):
        text = reviews[name].encode("utf-8", errors="surrogatepass")
        digest.update(f"{name}\t{len(text)}\n".encode())
        digest.update(text)
    return digest.hexdigest()


def _read_folder(folder: Path) -> dict[str, str]:
    try:
        files = []
        for split in SPLITS:
            for label in LABELS:
                for entry in os.scandir(folder / split / label):
                    hidden = entry.name.startswith(".")  # macOS's ._0_8.txt: not a review
                    if entry.name.endswith(".txt") and not hidden and entry.is_file():
                        files.append((f"{split}/{label}/{entry.name}", Path(entry.path)))
        return {name: file.read_text(encoding="utf-8", errors="replace") for name, file in files}
    except OSError as err:
        raise UserError(f"cannot read {err.filename}: {err.strerror}.") from None


class _StrictTarInfo(tarfile.TarInfo):
    """A member header that treats damage as damage.

    `tarfile` takes a damaged header, or an archive that stops between two members, for
    the end of the archive and silently returns fewer reviews; here both are errors.
    """

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> tarfile.TarInfo:
        try:
            return super().fromtarfile(archive)
        except tarfile.EOFHeaderError:
            raise  # a block of zeros: the archive's real end
        except tarfile.HeaderError as err:
            raise tarfile.ReadError(f"a damaged or missing member header ({err})") from None


def _read_archive(path: Path) -> dict[str, str]:
    _status(f"Reading the reviews in {path} (first run only; the result is cached) ...")
    reviews = {}
    try:
        with tarfile.open(path, "r:*", tarinfo=_StrictTarInfo) as archive:
            for member in archive:
                match = _REVIEW_PATH.search(member.name)
                if match and member.isfile():
                    text = archive.extractfile(member).read().decode("utf-8", errors="replace")
                    reviews[match.group(0).lstrip("/")] = text
            # Read on to the very end, so that gzip checks its CRC and length, and so
            # that damage after the last review is noticed too.
            while archive.fileobj.read(1 << 20):
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise UserError(
            f"--data {str(path)!r} is damaged or incomplete ({short_reason(err)}); "
            "download it again."
        ) from None
    return _check_every_part(reviews, path)


def _check_every_part(reviews: dict[str, str], path: Path) -> dict[str, str]:
    """`reviews`, if train/pos, train/neg, test/pos and test/neg each hold one at least."""
    found = {name.rsplit("/", 1)[0] for name in reviews}
    missing = [f"{s}/{label}" for s in SPLITS for label in LABELS if f"{s}/{label}" not in found]
    if missing:
        raise UserError(
            f"--data {str(path)!r} is not the IMDB dataset: it has no reviews in "
            f"{', '.join(missing)} ({_EXPECTED_LAYOUT})."
        )
    return reviews


def _status(message: str) -> None:
    """A line about the data's progress: on stderr, so stdout keeps the results."""
    print(message, file=sys.stderr, flush=True)


def _encode_reviews(reviews: dict[str, str]) -> dict[str, np.ndarray]:
    """Rank the words on the training reviews, then encode every review with `encode`."""
    names = sorted(reviews)  # a fixed order, whatever order the files were read in
    counts = {split: collections.Counter() for split in SPLITS}
    _status(f"Counting the words of {len(names):,} reviews ...")
    for name in names:
        counts[name.split("/", 1)[0]].update(tokenize(reviews[name]))

    # Most frequent first; ties alphabetically, so the ranking never depends on reading order.
    def by_frequency(counter: collections.Counter) -> list[str]:
        return [w for w, _ in sorted(counter.items(), key=lambda wc: (-wc[1], wc[0]))]

    test_only = collections.Counter(
        {w: c for w, c in counts["test"].items() if w not in counts["train"]}
    )
    words = by_frequency(counts["train"]) + by_frequency(test_only)
    word_index = {word: rank for rank, word in enumerate(words, start=1)}

    _status("Encoding them ...")
    arrays = {"words": _text_array(words)}
    rng = np.random.RandomState(SHUFFLE_SEED)
    for split in SPLITS:
        split_names = [name for name in names if name.startswith(f"{split}/")]
        order = [split_names[i] for i in rng.permutation(len(split_names))]
        sequences = [encode(reviews[name], word_index) for name in order]
        arrays[f"x_{split}"] = np.concatenate(sequences)
        arrays[f"{split}_ends"] = np.cumsum([len(s) for s in sequences])
        arrays[f"y_{split}"] = np.array([LABELS[n.split("/")[1]] for n in order], np.int64)
        arrays[f"{split}_names"] = _text_array(order)
    return arrays


def _text_array(lines: list[str]) -> np.ndarray:
    """Strings as one array of UTF-8 bytes, one per line: compact in an .npz file."""
    return np.frombuffer("\n".join(lines).encode("utf-8", errors="surrogatepass"), np.uint8)


def _split(flat: np.ndarray, ends: np.ndarray, num_words: int | None) -> np.ndarray:
    """Cut the concatenated sequences back into one array per review."""
    sequences = np.empty(len(ends), dtype=object)
    sequences[:] = np.split(clip_vocabulary(flat, num_words), ends[:-1])
    return sequences


def _read_cache(cache_file: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None if there are none or they are damaged in any way."""
    try:
        with np.load(cache_file) as cached:
            arrays = {key: cached[key] for key in cached.files}
        _check_cache(arrays)
        return arrays
    except FileNotFoundError:
        return None
    except Exception as err:  # a damaged cache file is rebuilt, never trusted
        _status(f"Ignoring the damaged cache {cache_file} ({short_reason(err)}); rebuilding it.")
        return None


def _check_cache(arrays: dict[str, np.ndarray]) -> None:
    """Raise ValueError unless the arrays are what `_encode_reviews` writes."""
    expected = {"words"} | {f"{k}_{s}" for s in SPLITS for k in ("x", "y")}
    expected |= {f"{s}_{k}" for s in SPLITS for k in ("ends", "names")}
    if set(arrays) != expected:
        raise ValueError(f"arrays {sorted(set(arrays) ^ expected)} missing or unexpected")
    words = bytes(arrays["words"]).decode("utf-8").split("\n")
    for split in SPLITS:
        x, ends, y = arrays[f"x_{split}"], arrays[f"{split}_ends"], arrays[f"y_{split}"]
        names = bytes(arrays[f"{split}_names"]).decode("utf-8").split("\n")
        if not (x.ndim == ends.ndim == y.ndim == 1 and len(ends) == len(y) == len(names) > 0):
            raise ValueError(f"the {split} arrays do not match in length")
        if not (np.issubdtype(x.dtype, np.integer) and np.issubdtype(ends.dtype, np.integer)):
            raise ValueError(f"the {split} reviews are not integers")
        if ends[-1] != len(x) or np.any(np.diff(ends) < 1) or ends[0] < 1:
            raise ValueError(f"the {split} review boundaries are inconsistent")
        if x.min() < 1 or x.max() > len(words) + INDEX_FROM or not np.isin(y, (0, 1)).all():
            raise ValueError(f"the {split} reviews or labels are out of range")


def _write_cache(cache_file: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache_file) as temporary:
            np.savez(temporary, **arrays)
    except OSError as err:
        _status(
            f"Could not cache the encoded reviews in {cache_file.parent} ({err.strerror}); "
            "the next run will read the dataset again."
        )
