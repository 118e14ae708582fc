"""The bag-of-n-grams features and the logistic regression built on them."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_scripts import PNG_MAGIC, printed_accuracy, saved_files

import common
import train_bow
from common.ngrams import NgramIds, feature_presence, pair_keys, pair_vocabulary

NUM_WORDS = 10  # a tiny vocabulary: token ids 0 to 9
# Two padded reviews: padding, the start token, then words (2 = out of vocabulary).
REVIEWS = np.array(
    [
        [0, 0, 1, 5, 6, 5, 6, 2],  # "a b a b <unk>": the pair (5, 6) twice
        [0, 0, 0, 1, 7, 5, 6, 9],
    ],
    dtype=np.int32,
)


def nonzero_ids(layer: NgramIds, x: np.ndarray) -> list[list[int]]:
    ids = keras.ops.convert_to_numpy(layer(x))
    return [sorted(int(i) for i in row if i != 0) for row in ids]


def test_padding_and_the_start_token_make_no_pairs() -> None:
    keys = pair_keys(REVIEWS, NUM_WORDS)
    pairs = [[(k // NUM_WORDS, k % NUM_WORDS) for k in row if k >= 0] for row in keys]
    assert pairs == [[(5, 6), (6, 5), (5, 6), (6, 2)], [(7, 5), (5, 6), (6, 9)]]


def test_the_pair_vocabulary_is_every_distinct_pair_sorted() -> None:
    vocabulary = pair_vocabulary(REVIEWS, NUM_WORDS)
    assert vocabulary.tolist() == [56, 62, 65, 69, 75]  # 5-6, 6-2, 6-5, 6-9, 7-5


def test_each_feature_once_per_review_and_unknown_pairs_none() -> None:
    vocabulary = pair_vocabulary(REVIEWS[:1], NUM_WORDS)  # pairs of the first review only
    layer = NgramIds(NUM_WORDS, pairs=vocabulary)
    assert layer.num_features == NUM_WORDS + 3  # 5-6, 6-2, 6-5
    first, second = nonzero_ids(layer, REVIEWS)
    # Words: the start token (the bias), 5, 6 and OOV once each; pairs 10 (5-6), 11, 12.
    assert first == [1, 2, 5, 6, 10, 11, 12]
    # 7-5 and 6-9 were never seen: no feature. 5-6 was: feature 10.
    assert second == [1, 5, 6, 7, 9, 10]
    assert keras.ops.convert_to_numpy(layer(REVIEWS)).shape == (2, 2 * REVIEWS.shape[1] - 1)


def test_words_only() -> None:
    layer = NgramIds(NUM_WORDS)
    assert layer.num_features == NUM_WORDS
    assert nonzero_ids(layer, REVIEWS) == [[1, 2, 5, 6], [1, 5, 6, 7, 9]]


def test_the_pair_vocabulary_is_saved_with_the_model(tmp_path: Path) -> None:
    tokens = keras.Input(shape=(REVIEWS.shape[1],), dtype="int32")
    layer = NgramIds(NUM_WORDS, pairs=pair_vocabulary(REVIEWS, NUM_WORDS))
    model = keras.Model(tokens, layer(tokens))
    model.save(tmp_path / "ngrams.keras")
    loaded = keras.models.load_model(tmp_path / "ngrams.keras")
    np.testing.assert_array_equal(loaded.predict(REVIEWS, verbose=0), model.predict(REVIEWS))


def test_feature_presence_counts_reviews_per_class() -> None:
    ids = np.array([[1, 5, 0, 0], [1, 5, 6, 0], [1, 6, 0, 0]])
    counts = feature_presence(ids, np.array([1, 1, 0]), num_features=8)
    assert counts[1].tolist() == [0, 2, 0, 0, 0, 2, 1, 0]  # positive reviews
    assert counts[0].tolist() == [0, 1, 0, 0, 0, 0, 1, 0]  # negative reviews


def test_naive_bayes_ratios_point_the_right_way() -> None:
    counts = np.array([[0, 5, 0, 0, 4], [0, 5, 0, 4, 0]])  # feature 3 positive, 4 negative
    ratios = train_bow.naive_bayes_ratios(counts)
    assert ratios[0] == 0.0  # nothing
    assert ratios[common.START] == 1.0  # the bias
    assert ratios[3] > 0 > ratios[4]
    assert ratios[3] == pytest.approx(-ratios[4])


def test_the_model_is_a_logistic_regression_on_weighted_presence() -> None:
    """P(positive) = sigmoid(sum of ratio x weight over the review's distinct n-grams)."""
    rng = np.random.default_rng(0)
    x = rng.integers(2, common.NUM_WORDS, size=(6, common.MAXLEN)).astype(np.int32)
    x[:, :400], x[:, 400] = 0, common.START  # padding, start, 99 words
    x[0, 401:] = x[0, 401]  # one word repeated: it counts once
    pairs = pair_vocabulary(x[:3], common.NUM_WORDS)
    ids_layer = NgramIds(common.NUM_WORDS, pairs=pairs)
    ratios = rng.normal(size=ids_layer.num_features).astype(np.float32)
    ratios[0] = 0.0
    model = train_bow.build_model(pairs, ratios, num_reviews=100)
    weights = rng.normal(size=(ids_layer.num_features, 1)).astype(np.float32)
    model.get_layer("weights").set_weights([weights])

    expected = []
    for row in x:
        features = set(nonzero_ids(ids_layer, row[None])[0])
        logit = sum(ratios[f] * weights[f, 0] for f in features)
        expected.append(1 / (1 + np.exp(-logit)))
    np.testing.assert_allclose(model.predict(x, verbose=0)[:, 0], expected, rtol=1e-4)


# --- The new training scripts, end to end on the tiny reviews -----------------------------


@pytest.mark.parametrize(
    ("script", "flags", "name"),
    [
        # bow_short holds the bow model and more; bow_words: test_compare.py; bow: real data
        ("train_bow.py", ["--short-texts"], "bow_short"),
        ("train_ensemble.py", [], "ensemble"),
        ("train_lstm.py", ["--epochs", "1", "--validation-split", "0"], "lstm"),
    ],
)
def test_new_models_end_to_end(run_script, tmp_path: Path, tiny_folder: Path, script, flags, name):
    out = tmp_path / "out"
    result = run_script(script, "--data", tiny_folder, "--output-dir", out, *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    if name == "bow_short":
        assert accuracy >= 90.0  # praise and blame words tell the tiny reviews apart
    suffixes = (".keras", "_encoding.json", "_history.png", "_metrics.json", "_savedmodel")
    assert saved_files(out, name) == [f"{name}{suffix}" for suffix in suffixes]
    assert (out / f"{name}_history.png").read_bytes().startswith(PNG_MAGIC)
    metrics = json.loads((out / f"{name}_metrics.json").read_text())
    assert metrics["model"] == name
    assert f"{metrics['test_accuracy'] * 100:.2f}" == f"{accuracy:.2f}"

    # The export takes raw text and scores it as the saved model does, n-gram layer and all.
    model, encoding = common.load_model(out / f"{name}.keras")
    texts = ["great film", "an awful, boring plot", "the actor's scene"]
    expected = model.predict(encoding.encode_texts(texts), verbose=0)[:, 0]
    exported = tf.saved_model.load(str(out / f"{name}_savedmodel"))
    np.testing.assert_allclose(exported.serve(tf.constant(texts)).numpy(), expected, atol=1e-6)

    if name != "ensemble":
        return  # the ensemble holds a bag of n-grams and a CNN: one check covers all three
    # The saved model scores text through predict.py like every other model.
    scored = run_script("predict.py", "--models-dir", out, "--model", name, "great film")
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert scored.stdout.split()[1] in ("positive", "negative")


def test_short_text_windows_cut_each_review_into_consecutive_pieces() -> None:
    rng = np.random.default_rng(0)
    reviews = [[common.START, *rng.integers(2, 50, size=length)] for length in (5, 25, 60, 499)]
    x = common.data.pad(reviews, train_bow.MAXLEN)
    y = np.array([1, 0, 1, 0])
    x_fit, y_fit = train_bow.with_windows(x, y, seed=7)
    assert np.array_equal(x_fit[:4], x) and y_fit[:4].tolist() == [1, 0, 1, 0]
    low, high = train_bow.WINDOWS
    pieces = [row[np.argmax(row != 0) :] for row in x_fit[4:]]  # padding in front
    assert all(piece[0] == common.START and np.all(piece[1:] > common.START) for piece in pieces)
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
    gate = common.LengthGate(50, 150)
    tokens = np.zeros((4, 300), np.int32)
    for row, words in enumerate((10, 50, 100, 150)):  # up to 50: short only; from 150: long
        tokens[row, -1 - words], tokens[row, -words:] = common.START, 2  # OOV counts as a word
    long, short = np.full((4, 1), 3.0, np.float32), np.full((4, 1), -1.0, np.float32)
    blended = keras.ops.convert_to_numpy(gate([tokens, long, short]))[:, 0]
    np.testing.assert_allclose(blended, [-1.0, -1.0, 1.0, 3.0])  # 100 words: half of each
    assert common.LengthGate.from_config(gate.get_config()).long_from == 150
    with pytest.raises(ValueError):
        common.LengthGate(150, 50)


def test_bow_short_keeps_the_bow_answers_on_long_texts(tmp_path: Path) -> None:
    """The whole-review regression is frozen while the short-text one learns."""
    rng = np.random.default_rng(0)
    lengths = (10, 40, 149, 150, 400)
    x = np.zeros((len(lengths), common.MAXLEN), np.int32)
    for row, words in enumerate(lengths):
        x[row, -1 - words] = common.START
        x[row, -words:] = rng.integers(2, common.NUM_WORDS, size=words)
    pairs = pair_vocabulary(x, common.NUM_WORDS)
    ratios = rng.normal(size=common.NUM_WORDS + len(pairs)).astype(np.float32)
    bow = train_bow.build_model(pairs, ratios, num_reviews=100)
    trained = rng.normal(scale=0.01, size=(len(ratios), 1)).astype(np.float32)
    bow.get_layer("weights").set_weights([trained])
    bow_answers = bow.predict(x, verbose=0)[:, 0]

    model = train_bow.add_short_text_regression(bow, num_reviews=100, name="bow_short")
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
