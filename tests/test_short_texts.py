"""models/short_texts.py: windows, the length gate, and bow_short's answers on long texts."""

from __future__ import annotations

from pathlib import Path

import common

import keras
import numpy as np
import pytest

from models import short_texts, word_ids
from models.bag_of_ngrams import build_bow, pair_vocabulary


def test_short_text_windows_cut_each_review_into_consecutive_pieces() -> None:
    rng = np.random.default_rng(0)
    reviews = [[word_ids.START, *rng.integers(2, 50, size=length)] for length in (5, 25, 60, 499)]
    x = common.data.pad(reviews, common.data.MAXLEN)
    y = np.array([1, 0, 1, 0])
    x_fit, y_fit = short_texts.with_windows(x, y, seed=7)
    assert np.array_equal(x_fit[:4], x) and y_fit[:4].tolist() == [1, 0, 1, 0]
    low, high = short_texts.WINDOWS
    pieces = [row[np.argmax(row != 0) :] for row in x_fit[4:]]  # padding in front
    start = word_ids.START
    assert all(piece[0] == start and np.all(piece[1:] > start) for piece in pieces)
    # Read in order, the windows give back each review's words, every one once.
    i = 0
    for review, label in zip(reviews, y, strict=True):
        words = []
        while len(words) < len(review) - 1:
            assert y_fit[4 + i] == label
            words.extend(pieces[i][1:].tolist())
            if len(words) < len(review) - 1:  # all but a review's last window: 10 to 50 words
                assert low <= len(pieces[i]) - 1 <= high
            i += 1
        assert words == review[1:]
    assert i == len(pieces) and len(pieces) >= 1 + 1 + 2 + 499 // high


def test_the_length_gate_blends_two_logits_by_the_number_of_words() -> None:
    gate = short_texts.LengthGate(50, 150)
    tokens = np.zeros((4, 300), np.int32)
    for row, words in enumerate((10, 50, 100, 150)):  # up to 50: short only; from 150: long
        tokens[row, -1 - words], tokens[row, -words:] = word_ids.START, 2  # OOV counts as a word
    long, short = np.full((4, 1), 3.0, np.float32), np.full((4, 1), -1.0, np.float32)
    blended = keras.ops.convert_to_numpy(gate([tokens, long, short]))[:, 0]
    np.testing.assert_allclose(blended, [-1.0, -1.0, 1.0, 3.0])  # 100 words: half of each
    assert short_texts.LengthGate.from_config(gate.get_config()).long_from == 150
    with pytest.raises(ValueError):
        short_texts.LengthGate(150, 50)


def test_bow_short_keeps_the_bow_answers_on_long_texts(tmp_path: Path) -> None:
    """The whole-review regression is frozen while the short-text one learns."""
    rng = np.random.default_rng(0)
    lengths = (10, 40, 149, 150, 400)
    x = np.zeros((len(lengths), common.data.MAXLEN), np.int32)
    for row, words in enumerate(lengths):
        x[row, -1 - words] = word_ids.START
        x[row, -words:] = rng.integers(2, common.data.NUM_WORDS, size=words)
    pairs = pair_vocabulary(x, common.data.NUM_WORDS)
    ratios = rng.normal(size=common.data.NUM_WORDS + len(pairs)).astype(np.float32)
    bow = build_bow(pairs, ratios, 100, num_words=common.data.NUM_WORDS, maxlen=common.data.MAXLEN)
    trained = rng.normal(scale=0.01, size=(len(ratios), 1)).astype(np.float32)
    bow.get_layer("weights").set_weights([trained])
    bow_answers = bow.predict(x, verbose=0)[:, 0]

    model = short_texts.add_short_text_regression(bow, num_reviews=100, name="bow_short")
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.1))
    model.fit(x, np.array([1, 0, 1, 0, 1]), epochs=3, verbose=0)
    np.testing.assert_array_equal(bow.get_layer("weights").get_weights()[0], trained)
    answers = model.predict(x, verbose=0)[:, 0]
    np.testing.assert_array_equal(answers[3:], bow_answers[3:])  # 150 words and more
    change = np.abs(answers[:3] - bow_answers[:3])  # the short-text regression speaks
    assert change[0] > 0.1 and change[1] > 0.1 and change[2] > 0  # at 149 words, 1/100 of it

    model.save(tmp_path / "bow_short.keras")  # LengthGate is saved and loaded like any layer
    loaded = keras.models.load_model(tmp_path / "bow_short.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0)[:, 0], answers, rtol=1e-6)
