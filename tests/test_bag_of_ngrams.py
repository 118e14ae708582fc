"""models/bag_of_ngrams.py: the n-gram features, the ratios, the regression."""

from __future__ import annotations

from pathlib import Path

import common

import keras
import numpy as np
import pytest

from models import word_ids
from models.bag_of_ngrams import (
    NgramIds,
    build_bow,
    feature_presence,
    naive_bayes_ratios,
    pair_keys,
    pair_vocabulary,
)

NUM_WORDS = 10  # a tiny vocabulary: token ids 0 to 9


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


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 1000, 1024])
def test_the_pair_lookup_is_searchsorted(size: int) -> None:
    """The fixed-step binary search gives NumPy's searchsorted for every key: below the
    first pair, on each, between, and above the last (the sizes around powers of two)."""
    rng = np.random.RandomState(size)
    pairs = np.sort(rng.choice(10**6, size, replace=False)).astype(np.int32)
    keys = np.concatenate([pairs, pairs + 1, pairs - 1, [0, 10**6 - 1],
                           rng.randint(0, 10**6, 500)]).astype(np.int32)  # fmt: skip
    keys = np.clip(keys, 0, 10**6 - 1)  # pairs of words 0 to 999
    layer = NgramIds(1000, pairs=pairs)
    left, right = (keras.ops.convert_to_tensor(part) for part in divmod(keys, 1000))
    found = keras.ops.convert_to_numpy(layer._lower_bound(left, right))
    np.testing.assert_array_equal(found, np.searchsorted(pairs, keys))


def test_the_portable_layer_gives_the_same_ids() -> None:
    rng = np.random.RandomState(1)
    x = rng.randint(0, NUM_WORDS, (32, 40)).astype(np.int32)
    x[:, :5] = 0  # padding, then the start token
    x[:, 5] = word_ids.START
    vocabulary = pair_vocabulary(x[:16], NUM_WORDS)  # pairs known and unknown
    both = [NgramIds(NUM_WORDS, pairs=vocabulary, portable=p) for p in (False, True)]
    np.testing.assert_array_equal(*(keras.ops.convert_to_numpy(layer(x)) for layer in both))
    rebuilt = NgramIds.from_config(both[1].get_config())  # saved and loaded as it is
    assert rebuilt.portable and not NgramIds.from_config(both[0].get_config()).portable


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
    ratios = naive_bayes_ratios(counts)
    assert ratios[0] == 0.0  # nothing
    assert ratios[word_ids.START] == 1.0  # the bias
    assert ratios[3] > 0 > ratios[4]
    assert ratios[3] == pytest.approx(-ratios[4])


def test_the_model_is_a_logistic_regression_on_weighted_presence() -> None:
    """P(positive) = sigmoid(sum of ratio x weight over the review's distinct n-grams)."""
    rng = np.random.default_rng(0)
    x = rng.integers(2, common.data.NUM_WORDS, size=(6, common.data.MAXLEN)).astype(np.int32)
    x[:, :400], x[:, 400] = 0, word_ids.START  # padding, start, 99 words
    x[0, 401:] = x[0, 401]  # one word repeated: it counts once
    pairs = pair_vocabulary(x[:3], common.data.NUM_WORDS)
    ids_layer = NgramIds(common.data.NUM_WORDS, pairs=pairs)
    ratios = rng.normal(size=ids_layer.num_features).astype(np.float32)
    ratios[0] = 0.0
    model = build_bow(
        pairs, ratios, 100, num_words=common.data.NUM_WORDS, maxlen=common.data.MAXLEN
    )
    weights = rng.normal(size=(ids_layer.num_features, 1)).astype(np.float32)
    model.get_layer("weights").set_weights([weights])

    expected = []
    for row in x:
        features = set(nonzero_ids(ids_layer, row[None])[0])
        logit = sum(ratios[f] * weights[f, 0] for f in features)
        expected.append(1 / (1 + np.exp(-logit)))
    np.testing.assert_allclose(model.predict(x, verbose=0)[:, 0], expected, rtol=1e-4)
