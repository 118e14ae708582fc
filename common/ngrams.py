"""Bags of words and word pairs, built inside the model from the encoded reviews.

The bag-of-n-grams models read the same input as every other model here: 500 token
ids per review. `NgramIds` turns those ids into the distinct n-gram features of each
review, so the saved model still takes token ids and predict.py needs nothing new:

* a word is its own token id (2, the out-of-vocabulary token, counts as a word: "a
  rare word occurs"); padding (0) is no feature;
* the start token (1) is a feature present in every review: its weight is the bias;
* an adjacent pair of words (a, b), both real words or OOV, is feature
  `num_words + i`, where i is the pair's place in a vocabulary of the pairs seen in
  the training reviews; a pair never seen there is no feature. Padding and the start
  token make no pairs.

Each feature appears at most once per review (a bag of presence, not counts): the
rest of the row is 0, the feature of nothing.

`LengthGate` lets one model hold two regressions, one for short texts and one for
whole reviews, and answer with the one that fits the length of the text.
"""

from __future__ import annotations

import keras
import numpy as np

from common.data import START


def pair_keys(x: np.ndarray, num_words: int) -> np.ndarray:
    """The key a * num_words + b of every adjacent pair (a, b) of words; -1 for no pair."""
    x = np.asarray(x, dtype=np.int64)
    left, right = x[:, :-1], x[:, 1:]
    return np.where((left > START) & (right > START), left * num_words + right, -1)


def pair_vocabulary(x: np.ndarray, num_words: int) -> np.ndarray:
    """Every distinct word pair in the reviews `x`, as sorted keys (see `pair_keys`)."""
    keys = pair_keys(x, num_words)
    return np.unique(keys[keys >= 0]).astype(np.int32)


@keras.saving.register_keras_serializable(package="imdb_sentiment")
class NgramIds(keras.layers.Layer):
    """Token ids (batch, length) -> the distinct n-gram feature ids of each review.

    The output has one column per word and one per adjacent pair (length * 2 - 1 with
    pairs, `length` without); each feature id appears once, and 0 fills the rest.
    The pair vocabulary is a (non-trainable) weight, so it is saved with the model.
    """

    def __init__(
        self, num_words: int, num_pairs: int = 0, pairs: np.ndarray | None = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        if pairs is not None:
            num_pairs = len(pairs)
        self.num_words, self.num_pairs = num_words, num_pairs
        self.pairs = None
        if num_pairs:
            self.pairs = self.add_weight(
                shape=(num_pairs,), dtype="int32", initializer="zeros", trainable=False,
                name="pair_vocabulary",
            )  # fmt: skip
            if pairs is not None:
                self.pairs.assign(np.asarray(pairs, dtype=np.int32))

    @property
    def num_features(self) -> int:
        """How many feature ids there are: 0, the words, then the pairs."""
        return self.num_words + self.num_pairs

    def call(self, tokens):
        ops = keras.ops
        tokens = ops.cast(tokens, "int32")
        ids = tokens  # a word is its own id; padding is 0, the id of nothing
        if self.num_pairs:
            left, right = tokens[:, :-1], tokens[:, 1:]
            keys = left * self.num_words + right
            # Binary search in the sorted vocabulary: where would each pair be?
            where = ops.searchsorted(self.pairs, ops.reshape(keys, (-1,)))
            where = ops.reshape(where, ops.shape(keys))
            where = ops.minimum(where, self.num_pairs - 1)
            known = (ops.take(self.pairs, where) == keys) & (left > START) & (right > START)
            ids = ops.concatenate([ids, ops.where(known, self.num_words + where, 0)], axis=1)
        # Presence, not counts: sort each row and blank every repeat of the id before it.
        ids = ops.sort(ids, axis=1)
        repeat = ops.concatenate(
            [ops.zeros_like(ids[:, :1], dtype="bool"), ids[:, 1:] == ids[:, :-1]], axis=1
        )
        return ops.where(repeat, 0, ids)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        batch, length = input_shape
        columns = None if length is None else length * 2 - 1 if self.num_pairs else length
        return (batch, columns)

    def compute_output_spec(self, tokens):
        return keras.KerasTensor(self.compute_output_shape(tokens.shape), dtype="int32")

    def get_config(self) -> dict:
        return {**super().get_config(), "num_words": self.num_words, "num_pairs": self.num_pairs}


@keras.saving.register_keras_serializable(package="imdb_sentiment")
class LengthGate(keras.layers.Layer):
    """(token ids, logit for long texts, logit for short texts) -> one logit, by text length.

    A text of `short_up_to` words or fewer gets the short-text logit, one of
    `long_from` words or more the long-text logit, one in between a straight-line blend
    of the two. Words are the tokens above the start token (out-of-vocabulary included).
    """

    def __init__(self, short_up_to: int, long_from: int, **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0 <= short_up_to < long_from:
            raise ValueError(f"need 0 <= short_up_to < long_from, got {short_up_to}, {long_from}")
        self.short_up_to, self.long_from = short_up_to, long_from

    def call(self, inputs):
        tokens, long, short = inputs
        words = keras.ops.sum(keras.ops.cast(tokens > START, long.dtype), axis=1, keepdims=True)
        span = self.long_from - self.short_up_to
        share = keras.ops.clip((words - self.short_up_to) / span, 0.0, 1.0)  # of the long logit
        return share * long + (1.0 - share) * short

    def compute_output_shape(self, input_shapes: list) -> tuple:
        return tuple(input_shapes[1])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "short_up_to": self.short_up_to,
            "long_from": self.long_from,
        }


def feature_presence(ids: np.ndarray, labels: np.ndarray, num_features: int) -> np.ndarray:
    """How many reviews of each class contain each feature: shape (2, num_features).

    `ids` is the output of `NgramIds` (distinct ids per row, 0 = nothing); row 0 of the
    result counts negative reviews, row 1 positive ones.
    """
    counts = np.zeros((2, num_features), dtype=np.int64)
    for label in (0, 1):
        rows = np.asarray(ids)[np.asarray(labels) == label]
        counts[label] = np.bincount(rows[rows > 0], minlength=num_features)
    return counts
