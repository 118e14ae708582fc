"""Save a trained model with what it takes to encode new text, and load them back.

`outputs/cnn.keras` is the Keras model; `outputs/cnn_encoding.json` beside it holds
the word index and the settings the training data was encoded with. Copy both
files together and the model works from any folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from common.cli import MODELS, UserError, short_reason
from common.data import INDEX_FROM, OOV, PADDING, START, TRUNCATING, clip_vocabulary, encode, pad
from common.files import atomic_path
from common.report import write_json

ENCODING_FORMAT = "imdb-sentiment-encoding/1"


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

    def prepare(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Clip encoded reviews to the vocabulary and pad or cut them: the model's input."""
        return pad([clip_vocabulary(np.asarray(s), self.num_words) for s in sequences], self.maxlen)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Encode raw texts exactly as the training reviews were: shape (len(texts), maxlen)."""
        return self.prepare([encode(text, self.word_index) for text in texts])


def encoding_path(model_path: str | os.PathLike[str]) -> Path:
    """Where the encoding file of a model lives: cnn.keras -> cnn_encoding.json."""
    model_path = Path(model_path)
    return model_path.with_name(f"{model_path.stem}_encoding.json")


def save_model(
    model: keras.Model,
    path: str | os.PathLike[str],
    word_index: dict[str, int],
    *,
    num_words: int,
    maxlen: int,
    data_source: str,
) -> None:
    """Save `model` (a .keras file) and its encoding file beside it, each atomically."""
    with atomic_path(path) as temporary:
        model.save(temporary)
    # Words ranked beyond the vocabulary are encoded as OOV whether known or not, so
    # the words inside it are all that encoding new text needs.
    kept = {word: rank for word, rank in word_index.items() if rank + INDEX_FROM < num_words}
    encoding = TextEncoding(kept, num_words=num_words, maxlen=maxlen)
    settings = {key: value for key, value in asdict(encoding).items() if key != "word_index"}
    write_json(
        encoding_path(path),
        {
            "format": ENCODING_FORMAT,
            **settings,
            "tokenizer": "common.data.tokenize: lowercase; <br /> and punctuation become "
            "spaces; apostrophes inside words stay",
            "data_source": data_source,
            "word_index": dict(sorted(kept.items(), key=lambda item: item[1])),
        },
    )
    print(f"Saved {path} and {encoding_path(path)}")


def resolve_model_path(model: str, models_dir: str | os.PathLike[str]) -> Path:
    """A bare name (cnn, mlp, deep_cnn, ...) is a model in `models_dir`; the rest a path."""
    if model.endswith(".keras") or "/" in model or os.sep in model:
        return Path(model)
    return Path(models_dir) / f"{model}.keras"


def load_model(path: str | os.PathLike[str]) -> tuple[keras.Model, TextEncoding]:
    """Load a saved model and its encoding; any problem is one UserError sentence."""
    path = Path(path)
    if not path.is_file():
        command = MODELS.get(path.stem)
        hint = f"; train it first: python {' '.join(command)}" if command else ""
        raise UserError(f"there is no model at {str(path)!r}{hint}.")
    encoding = _load_encoding(encoding_path(path), path)
    try:
        model = keras.models.load_model(path)
    except Exception as err:  # Keras raises many kinds of errors for a damaged file
        raise UserError(
            f"cannot load the model {str(path)!r}; is it damaged? ({short_reason(err)})"
        ) from None
    return model, encoding


def _load_encoding(path: Path, model_path: Path) -> TextEncoding:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"the model {str(model_path)!r} has no encoding file beside it: expected "
            f"{str(path)!r}, saved with the model by the training script."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"cannot read the encoding file {str(path)!r} ({err}).") from None
    if not isinstance(saved, dict) or saved.get("format") != ENCODING_FORMAT:
        raise UserError(f"{str(path)!r} is not an encoding file of this project.")
    try:
        encoding = TextEncoding(
            **{key: saved[key] for key in TextEncoding.__dataclass_fields__ if key in saved}
        )
    except TypeError as err:
        raise UserError(f"the encoding file {str(path)!r} is incomplete ({err}).") from None
    conventions = (encoding.start, encoding.oov, encoding.index_from, encoding.padding)
    if conventions + (encoding.truncating,) != (START, OOV, INDEX_FROM, PADDING, TRUNCATING):
        raise UserError(f"{str(path)!r} uses encoding conventions this code does not implement.")
    return encoding
