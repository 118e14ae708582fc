"""Save a trained model with what it takes to encode new text, and load them back.

A training run saves its model as one folder, a new version each time:

    outputs/cnn/3/model.keras       the Keras model (takes word ids)
    outputs/cnn/3/encoding.json     the word index and the settings of the encoding
    outputs/cnn/3/saved_model.pb    with variables/ and assets/: the TensorFlow export,
                                    which takes raw text (common/export.py)
    outputs/cnn/3/model.onnx        the export for runtimes without TensorFlow, and
    outputs/cnn/3/model.tflite      tokenizer.json, what turns text into its ids there
    outputs/cnn/3/metrics.json      the test figures and the training history ...
    outputs/cnn/3/history.png       ... and its plot; calibration.png, the reliability
    outputs/cnn/3/model_card.md     diagram; and the card: what it is, how far to trust it

The version appears whole or not at all (common.files.write_version); readers use the
newest. Copy a version folder and the model works from any folder. `outputs/cnn` is
also what TensorFlow Serving takes as a model's base path.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.cli import DEFAULT_OUTPUT_DIR, MODELS, UserError, printable
from common.data import (
    IMDB_LABELS,
    PADDING,
    TOKENIZER,
    TRUNCATING,
    WORD_CHARACTERS,
    clip_vocabulary,
    encode,
    pad,
    tokenize,
)
from common.files import file_sha256, is_version_name, read_json, reading_version, versions
from common.labeled import MAX_LABELS

import keras
import numpy as np

# Their layers register as they load, so that keras.models.load_model rebuilds them.
from models import bag_of_ngrams, calibration, minilm, short_texts  # noqa: F401
from models.outputs import output_units
from models.word_ids import INDEX_FROM, OOV, START

# 2: the encoding file records the sha256 of the model file it belongs to.
ENCODING_FORMAT = "imdb-sentiment-encoding/2"
ENCODING_MAX_BYTES = 256 * 2**20  # 10 million words fit; a larger file is refused unread
CONFIG_MAX_BYTES = 64 * 2**20  # a model archive's config.json: kilobytes, even for minilm
# The files of one version of a model, beside the export's saved_model.pb.
MODEL_FILE, ENCODING_FILE = "model.keras", "encoding.json"
METRICS_FILE, HISTORY_PLOT = "metrics.json", "history.png"
CALIBRATION_PLOT = "calibration.png"  # the reliability diagram, before and after calibration
IMDB_NAME = "IMDB"  # what a model trained on the IMDB reviews learned from


@dataclass
class TextEncoding:
    """How text becomes model input: the word index and the keras.datasets settings."""

    word_index: dict[str, int]  # word -> frequency rank, 1 = most frequent
    num_words: int
    maxlen: int
    padding: str = PADDING
    truncating: str = TRUNCATING
    start: int = START
    oov: int = OOV
    index_from: int = INDEX_FROM
    # The class names by class id; with two, the model gives P(labels[1]).
    labels: list[str] = field(default_factory=lambda: list(IMDB_LABELS))
    origin: dict | None = None  # how your own data was read (columns, test part); IMDB: None
    # Below this top probability a text is left unanswered (training's --target-accuracy).
    min_confidence: float | None = None
    tokenizer_version: int = TOKENIZER  # which characters make words (data.WORD_CHARACTERS)

    @property
    def learned_from(self) -> str:
        """The data it was trained on, in a word: IMDB, or your own file's or folder's name
        (hotel.csv), as predict.py, serve.py, analyze_model.py and compare_models.py name it."""
        return IMDB_NAME if self.origin is None else str(self.origin.get("data", "your data"))

    def prepare(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Clip encoded reviews to the vocabulary and pad or cut them: the model's input."""
        return pad([clip_vocabulary(np.asarray(s), self.num_words) for s in sequences], self.maxlen)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Encode raw texts exactly as the training reviews were: shape (len(texts), maxlen)."""
        return self.prepare([encode(text, self.word_index, tokenizer=self.tokenizer_version)
                             for text in texts])  # fmt: skip

    def tokenize(self, text: str) -> list[str]:
        """The words of `text`, as this model's tokenizer reads them."""
        return tokenize(text, self.tokenizer_version)


@dataclass(frozen=True)
class ModelFiles:
    """Where one saved model is: a version folder (outputs/cnn/3/), or a .keras file given by
    path with its encoding.json beside it."""

    model: Path  # the .keras file
    name: str  # cnn: the model folder's name, or the file's stem outside a model folder
    base: Path | None = None  # outputs/cnn when found as its newest version; None otherwise

    @property
    def folder(self) -> Path:
        return self.model.parent

    @property
    def encoding(self) -> Path:
        return self.folder / ENCODING_FILE


def save_model(
    model: keras.Model,
    folder: str | os.PathLike[str],
    word_index: dict[str, int],
    *,
    num_words: int,
    maxlen: int,
    data_source: str,
    labels: Sequence[str] = IMDB_LABELS,
    origin: dict | None = None,
    min_confidence: float | None = None,
) -> tuple[TextEncoding, str]:
    """Save `model` (model.keras) and its encoding file (encoding.json) into `folder`, a new
    version being written; return the encoding and the model file's sha256.

    The encoding file records that sha256, so that `load_model` refuses a pair that was
    put together from different versions.
    """
    folder = Path(folder)
    # Words ranked beyond the vocabulary are encoded as OOV whether known or not, so
    # the words inside it are all that encoding new text needs.
    kept = {word: rank for word, rank in word_index.items() if rank + INDEX_FROM < num_words}
    encoding = TextEncoding(
        kept, num_words, maxlen, labels=list(labels), origin=origin, min_confidence=min_confidence
    )
    settings = {key: value for key, value in asdict(encoding).items() if key != "word_index"}
    model.save(folder / MODEL_FILE)
    digest = file_sha256(folder / MODEL_FILE)
    record = {
        "format": ENCODING_FORMAT,
        "model_file": MODEL_FILE,
        "model_sha256": digest,
        **settings,
        "tokenizer": "common.data.tokenize: lowercase; <br /> and punctuation become "
        "spaces; apostrophes inside words stay; tokenizer_version 2: words of every script",
        "data_source": data_source,
        "word_index": dict(sorted(kept.items(), key=lambda item: item[1])),
    }
    (folder / ENCODING_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return encoding, digest


def describe(encoding: TextEncoding) -> str:
    """What a model learned from, for a line of output: "the IMDB reviews" or "hotel.csv
    (3 labels: negative, neutral, positive)"."""
    if encoding.origin is None:
        return "the IMDB reviews"
    labels = ", ".join(encoding.labels[:10]) + (", ..." if len(encoding.labels) > 10 else "")
    return printable(f"{encoding.learned_from} ({len(encoding.labels):,} labels: {labels})")


def find_model(model: str, models_dir: str | os.PathLike[str]) -> ModelFiles:
    """What --model names: a bare name (cnn, mlp, ...) is the newest version in
    `models_dir`/NAME, and NAME/N its version N; a folder path, its newest version (or
    itself, if it is one); a path ending in .keras, that file. Any problem is one
    UserError sentence."""
    if model.endswith(".keras"):
        path = Path(model)
        if path.exists() and not path.is_file():  # a folder, a FIFO, a device
            raise UserError(f"the model {str(path)!r} is not a regular file.")
        if not path.is_file():
            raise UserError(f"there is no model at {str(path)!r}{_in_cwd(path)}.")
        name = path.parent.parent.name if _is_version(path.parent) else path.stem
        return ModelFiles(path, name or path.stem)
    by_name = "/" not in model and os.sep not in model
    base = Path(models_dir) / model if by_name else Path(model)
    if not by_name and not base.exists() and (Path(models_dir) / model).exists():
        base = Path(models_dir) / model  # NAME/VERSION, as predict.py names a version: bow/1
    if (base / MODEL_FILE).is_file():  # a version folder given by path
        name = base.parent.name if _is_version(base) else base.name
        return ModelFiles(base / MODEL_FILE, name)
    numbers = versions(base)
    if not numbers:
        raise UserError(_no_model(base, model if by_name else None))
    newest = base / str(numbers[-1])
    return ModelFiles(newest / MODEL_FILE, base.resolve().name, base)


def _is_version(folder: Path) -> bool:
    return is_version_name(folder.name) and folder.is_dir()


def _in_cwd(path: Path) -> str:
    return "" if path.is_absolute() else f" (in {str(Path.cwd())!r})"


def _no_model(base: Path, name: str | None) -> str:
    """Why there is no model at `base`, and what to do."""
    if base.exists() and not base.is_dir():
        return f"the model {str(base)!r} is not a folder of versions or a .keras file."
    where = f"there is no model at {str(base)!r}{_in_cwd(base)}"
    legacy = base.with_name(f"{base.name}.keras")
    if legacy.is_file():
        return (
            f"{where}; {str(legacy)!r} is a model saved by an earlier version of this "
            f"project: train it again, and it is saved as {str(base / '1')!r}."
        )
    command = MODELS.get(name or "")
    hint = f"; train it first: python {' '.join(command)}" if command else ""
    return f"{where}{hint}."


def load_model(
    model: ModelFiles | str | os.PathLike[str],
    models_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
) -> tuple[keras.Model, TextEncoding]:
    """Load a saved model and its encoding: `model` is found by `find_model` (load_model("cnn")
    is the newest outputs/cnn/N/). Any problem is one UserError sentence.

    The version is held while it is read, so that a training run replacing it cannot
    remove it meanwhile; one that was removed just before is replaced by the newest.
    """
    with held_model(model, models_dir) as (loaded, encoding, _):
        return loaded, encoding


@contextmanager
def held_model(
    model: ModelFiles | str | os.PathLike[str],
    models_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
) -> Iterator[tuple[keras.Model, TextEncoding, ModelFiles]]:
    """`load_model`'s model and encoding, and the files they came from, with the version held
    until the block ends: training runs meanwhile add versions but never remove this one
    (serve.py holds the version it serves, for as long as it serves it)."""
    files = model if isinstance(model, ModelFiles) else find_model(os.fspath(model), models_dir)
    while True:
        with reading_version(files.folder) as present:
            if present or files.base is None:  # else: removed just before; take the newest
                loaded, encoding = _load_model(files)
                yield loaded, encoding, files
                return
        files = find_model(str(files.base), files.base.parent)


def _load_model(files: ModelFiles) -> tuple[keras.Model, TextEncoding]:
    path = files.model
    if not path.is_file():
        raise UserError(f"the model folder {str(files.folder)!r} has no {MODEL_FILE}.")
    encoding, digest = _load_encoding(files.encoding, path)
    if _uses_keras_hub(path):
        _import_keras_hub(path)
    try:
        model = keras.models.load_model(path)
    except OSError as err:
        raise UserError(f"cannot read the model {str(path)!r}: {err.strerror or err}.") from None
    except Exception as err:  # Keras raises many kinds of errors for a damaged file
        if any(sign in str(err) for sign in ("safe_mode", "Could not locate", "KerasSaveable")):
            raise UserError(
                f"the model {str(path)!r} is refused for safety: it holds code to run (a "
                "Lambda layer) or a class this project does not define."
            ) from None
        raise UserError(
            f"cannot load the model {str(path)!r}: it is damaged or not a Keras model file."
        ) from None
    if digest != file_sha256(path):
        raise UserError(
            f"{str(path)!r} and {str(files.encoding)!r} do not belong together: the "
            "encoding file was saved with another model; copy a model's folder whole."
        )
    _check_model_fits(model, encoding, path)
    return model, encoding


def _uses_keras_hub(path: Path) -> bool:
    """Whether the model holds keras-hub layers (train_minilm.py's encoder). A config.json
    that would inflate beyond CONFIG_MAX_BYTES is refused before anything reads it."""
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.getinfo("config.json").file_size > CONFIG_MAX_BYTES:
                raise UserError(
                    f"the model {str(path)!r} is refused: its config.json would inflate to "
                    f"more than {CONFIG_MAX_BYTES // 2**20} MiB."
                )
            return b'"keras_hub>' in archive.read("config.json")  # read to its size, no more
    except (OSError, KeyError, zipfile.BadZipFile):
        return False  # load_model says what is wrong with the file


def _import_keras_hub(path: Path) -> None:
    """keras-hub registers its layers when imported; without it, one sentence."""
    try:
        import keras_hub  # noqa: F401
    except ImportError:
        raise UserError(
            f"the model {str(path)!r} holds a pre-trained encoder from keras-hub: "
            "pip install -r requirements.txt"
        ) from None


def _load_encoding(path: Path, model_path: Path) -> tuple[TextEncoding, str]:
    """The encoding in `path`, checked value by value, and the model sha256 it records."""
    try:
        saved = read_json(path, ENCODING_MAX_BYTES)
    except FileNotFoundError:
        if model_path.with_name(f"{model_path.stem}_encoding.json").is_file():
            raise UserError(
                f"{str(model_path)!r} is a model saved by an earlier version of this project, "
                "with its encoding in another file: train it again."
            ) from None
        raise UserError(
            f"the model {str(model_path)!r} has no encoding file beside it: expected "
            f"{str(path)!r}, saved with the model by the training script."
        ) from None
    except (OSError, ValueError) as err:  # not a regular file, too large, not JSON, ...
        raise UserError(f"cannot read the encoding file {str(path)!r} ({err}).") from None
    if not isinstance(saved, dict) or not str(saved.get("format", "")).startswith(
        "imdb-sentiment-encoding/"
    ):
        raise UserError(f"{str(path)!r} is not an encoding file of this project.")
    if saved["format"] != ENCODING_FORMAT:
        raise UserError(
            f"{str(path)!r} was saved by another version of this project; train the model "
            "again to save it in this version's format."
        )
    problem = _encoding_problem(saved)
    if problem:
        raise UserError(f"the encoding file {str(path)!r} is damaged: {problem}.")
    saved.setdefault("labels", list(IMDB_LABELS))  # saved before models had labels: IMDB's
    saved.setdefault("origin", None)
    saved.setdefault("min_confidence", None)  # saved before --target-accuracy: none
    saved.setdefault("tokenizer_version", 1)  # saved before every script was read: Latin only
    if saved["origin"] is not None and "data" not in saved["origin"]:  # saved before "data"
        source = str(saved.get("data_source") or "your data").split(" (test: ")[0]
        saved["origin"]["data"] = Path(source).name or source
    encoding = TextEncoding(**{key: saved[key] for key in TextEncoding.__dataclass_fields__})
    conventions = (encoding.start, encoding.oov, encoding.index_from, encoding.padding)
    if conventions + (encoding.truncating,) != (START, OOV, INDEX_FROM, PADDING, TRUNCATING):
        raise UserError(f"{str(path)!r} uses encoding conventions this code does not implement.")
    return encoding, saved["model_sha256"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _encoding_problem(saved: dict) -> str | None:
    """What is wrong with the values of an encoding file, or None."""
    optional = ("labels", "origin", "min_confidence", "tokenizer_version")  # older files
    missing = [key for key in [*TextEncoding.__dataclass_fields__, "model_sha256"]
               if key not in saved and key not in optional]  # fmt: skip
    if missing:
        return f"it has no {', '.join(missing)}"
    num_words, maxlen, word_index = saved["num_words"], saved["maxlen"], saved["word_index"]
    if not _is_int(num_words) or not INDEX_FROM < num_words <= 10_000_000:
        return f"num_words must be a whole number above {INDEX_FROM}, not {num_words!r}"
    if not _is_int(maxlen) or not 0 < maxlen <= 1_000_000:
        return f"maxlen must be a whole number of at least 1, not {maxlen!r}"
    if not isinstance(word_index, dict):
        return f"word_index must map words to ranks, not be {type(word_index).__name__}"
    for word, rank in word_index.items():
        if not _is_int(rank) or not 1 <= rank < num_words - INDEX_FROM:
            return (
                f"the rank of {word!r} must be a whole number from 1 to "
                f"{num_words - INDEX_FROM - 1}, not {rank!r}"
            )
    if not isinstance(saved["model_sha256"], str):
        return "model_sha256 must be a string"
    labels = saved.get("labels", list(IMDB_LABELS))  # saved before models had labels: IMDB's
    if (not isinstance(labels, list) or not 2 <= len(labels) <= MAX_LABELS
            or not all(isinstance(label, str) and label for label in labels)
            or len(set(labels)) != len(labels)):  # fmt: skip
        return f"labels must be 2 to {MAX_LABELS:,} distinct names, not {str(labels)[:80]}"
    if not isinstance(saved.get("origin"), dict | None):
        return "origin must be an object"
    version = saved.get("tokenizer_version", 1)
    if isinstance(version, bool) or version not in WORD_CHARACTERS:
        return f"tokenizer_version must be one of {sorted(WORD_CHARACTERS)}, not {version!r}"
    threshold = saved.get("min_confidence")
    number = isinstance(threshold, int | float) and not isinstance(threshold, bool)
    if threshold is not None and not (number and 0 <= threshold <= 1):
        return f"min_confidence must be a probability from 0 to 1, not {str(threshold)[:40]}"
    name = (saved.get("origin") or {}).get("data", "")
    if not isinstance(name, str) or len(name) > 1000:
        return "origin's data must be the data's name, at most 1,000 characters"
    return None


def _check_model_fits(model: keras.Model, encoding: TextEncoding, path: Path) -> None:
    """The model must take `maxlen` token ids and know every id the encoding can give."""
    shape = tuple(model.input_shape) if isinstance(model.input_shape, tuple) else None
    if shape != (None, encoding.maxlen):
        raise UserError(
            f"the model {str(path)!r} takes inputs of shape {model.input_shape}, but its "
            f"encoding file pads texts to {encoding.maxlen} tokens: they do not fit together."
        )
    units = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
    if units != output_units(len(encoding.labels)):
        raise UserError(
            f"the model {str(path)!r} gives {units} output{'s' if units != 1 else ''}, but its "
            f"encoding file names {len(encoding.labels)} labels: they do not fit together."
        )
    try:  # the largest id the encoding can give, through the model once
        largest = np.full((1, encoding.maxlen), encoding.num_words - 1, dtype=np.int32)
        model.predict(largest, verbose=0)  # compiled: a recurrent model run eagerly takes seconds
    except Exception:
        raise UserError(
            f"the model {str(path)!r} does not accept the word ids its encoding file gives "
            f"(up to {encoding.num_words - 1}): they do not fit together."
        ) from None
