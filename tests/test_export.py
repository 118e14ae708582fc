"""The exported model's tokenizer: TensorFlow ops that must give `common.data.encode`'s ids."""

from __future__ import annotations

import os
from pathlib import Path

import common
from common.export import _TextModel, tokenize_ops

import numpy as np
import pytest
import tensorflow as tf
from conftest import ANY_TEXT
from hypothesis import given, settings
from hypothesis import strategies as st


def python_words(texts: list[str]) -> list[list[str]]:
    return [common.data.tokenize(text) for text in texts]


STRINGS = [tf.TensorSpec(shape=(None,), dtype=tf.string)]
tokenize_graph = tf.function(tokenize_ops, input_signature=STRINGS)  # as exported: in a graph


def tensorflow_words(texts: list[str]) -> list[list[str]]:
    return [[w.decode() for w in row] for row in tokenize_graph(tf.constant(texts)).to_list()]


@given(st.lists(ANY_TEXT, min_size=1, max_size=20))
@settings(max_examples=500, deadline=None)
def test_tensorflow_splits_any_text_into_the_same_words(texts: list[str]) -> None:
    assert tensorflow_words(texts) == python_words(texts)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Don't<br />stop<BR>now", ["don't", "stop", "now"]),
        ("’Tis rock''n'roll, isn’t it?", ["tis", "rock", "n'roll", "isn't", "it"]),
        ("ÉCOLE café Łódź 7½ naïve", ["école", "café", "Łódź", "7½", "naïve"]),
        ("great😀movie — 10/10", ["great", "movie", "10", "10"]),
        # Every script's letters, marks and digits; capitals beyond Latin-1 keep their case.
        (
            "Отличный ФИЛЬМ! हिन्दी फ़िल्म ٣ 日本語の映画",
            ["Отличный", "ФИЛЬМ", "हिन्दी", "फ़िल्म", "٣", "日本語の映画"],
        ),  # fmt: skip
        ("", []),
    ],
)
def test_known_cases(text: str, words: list[str]) -> None:
    assert python_words([text]) == [words]
    assert tensorflow_words([text]) == [words]


def test_models_saved_before_read_as_they_were_trained() -> None:
    """Tokenizer 1, the models saved before every script was read: Latin letters only."""
    text = "Отличный film, très bon 😀"
    old = tf.function(lambda t: tokenize_ops(t, 1), input_signature=STRINGS)
    assert common.data.tokenize(text, 1) == ["film", "très", "bon"]
    assert [[w.decode() for w in row] for row in old(tf.constant([text])).to_list()] == [
        common.data.tokenize(text, 1)]  # fmt: skip


VOCABULARY = ["the", "film", "great", "awful", "don't", "école", "7½"]
ENCODING = common.saving.TextEncoding(
    {word: rank for rank, word in enumerate(VOCABULARY, start=1)}, num_words=8, maxlen=6
)  # ranks 5 to 7 map to ids 8 to 10, beyond num_words: they are OOV, as in training


encode_graph = tf.function(_TextModel(None, ENCODING).encode, input_signature=STRINGS)


@given(st.lists(st.lists(st.sampled_from(VOCABULARY + ["unknown", "GREAT", ",", "<br/>"]),
                         max_size=9).map(" ".join), min_size=1, max_size=8))  # fmt: skip
@settings(max_examples=100, deadline=None)
def test_the_exported_ids_are_the_encoders(texts: list[str]) -> None:
    """Vocabulary, OOV beyond num_words, the start token, padding and cutting at the front."""
    exported = encode_graph(tf.constant(texts)).numpy()
    np.testing.assert_array_equal(exported, ENCODING.encode_texts(texts))


def test_tensorflow_serving_finds_and_runs_the_export(trained: Path) -> None:
    """What TensorFlow Serving does with a model's base path (outputs/cnn): take the child
    folder whose name is the largest number, load its SavedModel with the tag "serve", and
    call the signature serving_default with the named input; it gets predict.py's scores."""
    base = trained.parent
    numbers = [int(p.name) for p in base.iterdir() if p.name.isdigit()]
    version = base / str(max(numbers))
    assert (version / "saved_model.pb").is_file() and (version / "variables").is_dir()
    loaded = tf.saved_model.load(str(version), tags=["serve"])
    serving = loaded.signatures["serving_default"]
    assert list(serving.structured_input_signature[1]) == ["texts"]
    texts = ["a wonderful film", "awful and boring", "the plot"]
    outputs = serving(texts=tf.constant(texts))
    assert list(outputs) == ["output_0"]
    model, encoding = common.load_model(trained)
    expected = model.predict(encoding.encode_texts(texts), verbose=0)[:, 0]
    np.testing.assert_allclose(outputs["output_0"].numpy(), expected, atol=1e-6)


def test_the_export_gets_the_usual_permissions(trained: Path) -> None:
    """Like every other file the scripts write, not the 0700 of a temporary folder."""
    umask = os.umask(0)
    os.umask(umask)
    assert trained.stat().st_mode & 0o777 == 0o777 & ~umask
    assert (trained / "variables").stat().st_mode & 0o777 == 0o777 & ~umask
