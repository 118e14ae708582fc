"""Export a trained model as a TensorFlow SavedModel that takes raw text.

`outputs/cnn/1/model.keras` takes 500 word ids: a program that loads it must also copy
this repository's tokenizer and vocabulary. The export, saved_model.pb and its
variables/ in the same version folder, holds both inside it, as TensorFlow ops and a
lookup table, so that a program with only TensorFlow installed (or TensorFlow Serving,
given outputs/cnn as the model's base path) can score a review:

    import tensorflow as tf
    model = tf.saved_model.load("outputs/cnn/1")
    print(model.serve(tf.constant(["I loved it.", "A waste of two hours."])).numpy())

`serve` returns P(positive) per text (a model of more than two labels: one probability
per label, in the order `labels` returns); `encode` returns the word ids the model saw.
The ops below are the steps of `common.data.tokenize` and `encode`, built from the same
constants; tests/test_export.py checks on arbitrary Unicode text that they give
exactly the same ids.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

from common.cli import printable
from common.data import (
    LINE_BREAK,
    TOKENIZER,
    TYPOGRAPHIC_APOSTROPHE,
    UPPERCASE,
    WORD_CHARACTERS,
)
from common.saving import TextEncoding

import keras
import tensorflow as tf
from keras.export import ExportArchive

from models.bag_of_ngrams import NgramIds

# Beside the SavedModel: the model alone, from word ids to its (calibrated) probabilities,
# for runtimes without TensorFlow (onnxruntime; LiteRT on phones and in ai-edge-litert),
# and the tokenizer as data, for a program in another language to give it those ids.
PORTABLE_FILES = {"onnx": "model.onnx", "litert": "model.tflite"}
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_FORMAT = "imdb-sentiment-tokenizer/1"


def _letter(version: int) -> str:
    """The word characters of tokenizer `version` as a class's ranges in RE2's syntax
    (TensorFlow's regexes)."""
    return "".join(f"\\x{{{first:x}}}-\\x{{{last:x}}}" for first, last in WORD_CHARACTERS[version])


def tokenize_ops(texts: tf.Tensor, version: int = TOKENIZER) -> tf.RaggedTensor:
    """`common.data.tokenize` in TensorFlow ops: a batch of strings -> their words."""
    letter = _letter(version)
    texts = tf.strings.regex_replace(texts, LINE_BREAK, " ")
    # Lowercase the capitals of UPPERCASE (+32), code point by code point.
    points = tf.strings.unicode_decode(texts, "UTF-8")
    capital = tf.zeros_like(points.flat_values, dtype=tf.bool)
    for first, last in UPPERCASE:
        capital |= (points.flat_values >= first) & (points.flat_values <= last)
    points = points.with_flat_values(tf.where(capital, points.flat_values + 32, points.flat_values))
    texts = tf.strings.unicode_encode(points, "UTF-8")
    texts = tf.strings.regex_replace(texts, TYPOGRAPHIC_APOSTROPHE, "'")
    # A word is letters with single apostrophes inside (re.findall of common.data._WORD).
    # RE2 has no findall: turn everything else into spaces, then split on them.
    texts = tf.strings.regex_replace(texts, f"[^{letter}']+", " ")  # keep letters and '
    texts = tf.strings.regex_replace(texts, "''+", " ")  # two apostrophes end a word
    texts = tf.strings.join([" ", texts, " "])
    texts = tf.strings.regex_replace(texts, " '", " ")  # an apostrophe that starts a word
    texts = tf.strings.regex_replace(texts, "' ", " ")  # or ends one is not part of it
    words = tf.strings.split(texts, sep=" ")
    return tf.ragged.boolean_mask(words, words != "")


class _TextModel:
    """The model behind two string-input functions: `encode` (ids) and `serve` (probabilities)."""

    def __init__(self, model: keras.Model, encoding: TextEncoding) -> None:
        self.model, self.encoding = model, encoding
        vocabulary = word_ids(encoding)
        words, ids = list(vocabulary), list(vocabulary.values())
        # Traced once, and called by `serve` as it is: tracing the tokenizer's ops is most of
        # an export's time, and without this `serve` would trace them all again.
        strings = [tf.TensorSpec(shape=(None,), dtype=tf.string, name="texts")]
        self.traced_encode = tf.function(self.encode, input_signature=strings, autograph=False)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(words, tf.string), tf.constant(ids, tf.int32)
            ),
            default_value=encoding.oov,
        )

    def encode(self, texts: tf.Tensor) -> tf.Tensor:
        """Strings (batch,) -> word ids (batch, maxlen), as `TextEncoding.encode_texts` gives."""
        maxlen = self.encoding.maxlen
        ids = self.table.lookup(tokenize_ops(texts, self.encoding.tokenizer_version))
        count = tf.shape(texts)[0]
        start = tf.fill([count, 1], self.encoding.start)
        zeros = tf.zeros([count, maxlen], tf.int32)
        # [0] * maxlen + [START] + ids, then the last maxlen: padding and cutting at the front.
        ids = tf.concat([zeros, start, ids], axis=1)[:, -maxlen:]
        return tf.reshape(ids.to_tensor(), [count, maxlen])

    def serve(self, texts: tf.Tensor) -> tf.Tensor:
        """Strings (batch,) -> P(positive) (batch,); with more labels, (batch, labels)."""
        outputs = self.model(self.traced_encode(texts), training=False)
        return outputs[:, 0] if len(self.encoding.labels) == 2 else outputs

    def labels(self) -> tf.Tensor:
        """The class names, in the order of `serve`'s probabilities (with two: the second
        is the positive one, whose probability `serve` gives)."""
        return tf.constant(self.encoding.labels, tf.string)


def export_text_model(
    model: keras.Model, encoding: TextEncoding, folder: str | os.PathLike[str]
) -> None:
    """Write `model` with its tokenizer and vocabulary as a SavedModel into `folder` (the
    version being written: common.files.write_version makes it appear whole)."""
    text_model = _TextModel(model, encoding)
    archive = ExportArchive()  # the model's weights are tracked as the endpoints use them;
    archive.track(text_model.table)  # a lookup table is not a variable: track it by hand
    strings = text_model.traced_encode.input_signature  # a batch of texts, named "texts"
    # The first endpoint is also TensorFlow Serving's default signature, serving_default.
    archive.add_endpoint("serve", text_model.serve, input_signature=strings)
    archive.add_endpoint("encode", text_model.traced_encode)
    archive.add_endpoint("labels", text_model.labels, input_signature=[])
    archive.write_out(str(folder), verbose=False)


def word_ids(encoding: TextEncoding) -> dict[str, int]:
    """Each word the model can tell apart and the id it reads for it, by id: every other
    word is OOV, as clip_vocabulary makes an id of num_words or more."""
    ids = {word: rank + encoding.index_from for word, rank in encoding.word_index.items()
           if rank + encoding.index_from < encoding.num_words}  # fmt: skip
    return dict(sorted(ids.items(), key=lambda item: item[1]))


def tokenizer_spec(encoding: TextEncoding) -> dict:
    """Everything another language needs to turn a text into the model's word ids, exactly
    as `TextEncoding.encode_texts` does: the rules of `common.data.tokenize` as code point
    ranges and a regular expression, the vocabulary as each word's id, and the padding.
    web/tokenizer.js follows it (tests/test_page.py checks it on any text)."""
    return {
        "format": TOKENIZER_FORMAT,
        "steps": [
            "replace each match of line_break (a <br /> tag) by a space",
            "lowercase: add 32 to each code point in the uppercase ranges, and no other",
            "replace typographic_apostrophe by an apostrophe (')",
            "the words: the leftmost-longest runs of word_characters (code point ranges, "
            "inclusive), each run joined to the next by one apostrophe between them: "
            "the regular expression [W]+(?:'[W]+)*, W the ranges",
            "ids: start, then each word's id in vocabulary, or oov for any other word",
            "pad with 0 or cut to maxlen ids, both at the front (the last maxlen are kept)",
        ],
        "line_break": LINE_BREAK,
        "uppercase": [list(pair) for pair in UPPERCASE],
        "word_characters": [list(pair) for pair in WORD_CHARACTERS[encoding.tokenizer_version]],
        "typographic_apostrophe": TYPOGRAPHIC_APOSTROPHE,
        "start": encoding.start,
        "oov": encoding.oov,
        "maxlen": encoding.maxlen,
        "padding": encoding.padding,
        "truncating": encoding.truncating,
        "labels": list(encoding.labels),
        "vocabulary": word_ids(encoding),
    }


def portable_model(model: keras.Model) -> keras.Model:
    """`model`, with the same weights, its bag of n-grams' pair lookup made of operations
    that ONNX and LiteRT have (`NgramIds(portable=True)`); `model` itself if it has none."""
    if not any(isinstance(layer, NgramIds) for layer in _layers(model)):
        return model

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        return layer.__class__.from_config({**config, "portable": True} if isinstance(
            layer, NgramIds) else config)  # fmt: skip

    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    copy.set_weights(model.get_weights())
    tokens = model.inputs[0]
    copy(keras.ops.zeros((1, *tokens.shape[1:]), tokens.dtype))  # the ONNX export needs a call
    return copy


def _layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer of `model`, those of the models inside it too."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found += _layers(layer)
    return found


def export_portable(
    model: keras.Model, encoding: TextEncoding, folder: str | os.PathLike[str]
) -> list[str]:
    """Write tokenizer.json, model.onnx and model.tflite into `folder` (the model files by
    Keras's own `export`); return one line for each model file that this model cannot be
    made into, saying why."""
    spec = json.dumps(tokenizer_spec(encoding), ensure_ascii=False, separators=(",", ":"))
    Path(folder, TOKENIZER_FILE).write_text(spec + "\n", encoding="utf-8")
    portable = portable_model(model)
    missing = [export_file(portable, kind, os.path.join(folder, name))
               for kind, name in PORTABLE_FILES.items()]  # fmt: skip
    return [line for line in missing if line]


def export_file(portable: keras.Model, kind: str, path: str | os.PathLike[str]) -> str | None:
    """Write `portable` (`portable_model`'s) as a file of `kind`, "onnx" or "litert", at
    `path`; None, or the line that says why this model cannot be made into one."""
    name = os.path.basename(path)
    logger, level = tf.get_logger(), tf.get_logger().level
    try:
        # The converters' notices say nothing wrong: a FutureWarning of Keras's shim for
        # tf2onnx, TensorFlow's "Issue encountered when serializing table_initializer".
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            logger.setLevel("ERROR")
            portable.export(path, format=kind, verbose=False)
        flex = _tensorflow_ops(path) if kind == "litert" else None
        if flex:
            os.remove(path)
            return (f"No {name}: LiteRT alone cannot run this model (it would need "
                    f"TensorFlow's own {flex}, through the Flex delegate).")  # fmt: skip
    except ImportError as err:  # tf2onnx, which requirements.txt installs
        return f"No {name}: {printable(str(err))} (pip install -r requirements.txt)."
    except Exception as err:  # noqa: BLE001 - a converter's refusal, of any kind
        if os.path.exists(path):
            os.remove(path)
        reason = printable((str(err).strip().splitlines() or [type(err).__name__])[0])
        return f"No {name}: {kind} cannot convert this model ({reason[:200]})."
    finally:
        logger.setLevel(level)
    return None


def _tensorflow_ops(path: str) -> str | None:
    """The first TensorFlow operation (`FlexTensorListReserve`, ...) that the converter
    left in a LiteRT file for want of a LiteRT one, or None: a file with any needs
    TensorFlow's Flex delegate, which LiteRT alone (ai-edge-litert, a phone) has not."""
    with open(path, "rb") as file:
        found = re.search(rb"Flex[A-Z][A-Za-z0-9]+", file.read())
    return found.group().decode("ascii") if found else None
