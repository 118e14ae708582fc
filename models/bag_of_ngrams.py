"""The bag of n-grams: a logistic regression on the words and word pairs of a review.

Two choices make it strong, both from Wang & Manning, "Baselines and Bigrams" (2012):

* presence, not counts: a review either contains "not good" or it does not; a word
  said five times is not five times the evidence;
* naive-Bayes weighting: each feature is scaled by its log-count ratio
  r = log(share of positive reviews' features that are this one /
          share of negative reviews' features that are this one),
  measured on the reviews the model is fitted on, so the regression starts from what
  the counts already say and only has to learn corrections.

The model reads the same input as every other model here, 500 token ids per review:
`NgramIds` turns them into the distinct n-gram features of each review inside the
model, so the saved model still takes token ids and predict.py needs nothing new:

* a word is its own token id (2, the out-of-vocabulary token, counts as a word: "a
  rare word occurs"); padding (0) is no feature;
* the start token (1) is a feature present in every review: its weight is the bias;
* an adjacent pair of words (a, b), both real words or OOV, is feature
  `num_words + i`, where i is the pair's place in a vocabulary of the pairs seen in
  the training reviews; a pair never seen there is no feature. Padding and the start
  token make no pairs.

Each feature appears at most once per review (a bag of presence, not counts): the
rest of the row is 0, the feature of nothing. Then one weight per feature, summed,
through a sigmoid. With 633,000 features a dense input would hold 633,000 mostly zero
numbers per review, so the present features' weights are looked up in an Embedding
of one number per feature instead; the sum is the same.
"""

from __future__ import annotations

import keras
import numpy as np

from models import outputs
from models.word_ids import START


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
    `portable=True` looks the pairs up with operations that ONNX and LiteRT have, for
    the same ids (`_lower_bound`).
    """

    def __init__(
        self, num_words: int, num_pairs: int = 0, pairs: np.ndarray | None = None,
        portable: bool = False, **kwargs,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.portable = portable
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
            if self.portable:
                where = self._lower_bound(left, right)
            else:  # binary search in the sorted vocabulary: where would each pair be?
                where = ops.reshape(ops.searchsorted(self.pairs, ops.reshape(keys, (-1,))),
                                    ops.shape(keys))  # fmt: skip
            where = ops.minimum(where, self.num_pairs - 1)
            if self.portable:  # the pair's two words, as `_lower_bound` compares them
                first, second = self._words_of(where)
                known = (first == left) & (second == right)
            else:
                known = ops.take(self.pairs, where) == keys
            known = known & (left > START) & (right > START)
            ids = ops.concatenate([ids, ops.where(known, self.num_words + where, 0)], axis=1)
        # Presence, not counts: sort each row and blank every repeat of the id before it.
        ids = ops.sort(ids, axis=1)
        repeat = ops.concatenate(
            [ops.zeros_like(ids[:, :1], dtype="bool"), ids[:, 1:] == ids[:, :-1]], axis=1
        )
        return ops.where(repeat, 0, ids)

    def _words_of(self, where):
        """The two words of the pairs at places `where` of the vocabulary."""
        key = keras.ops.take(self.pairs, where)
        first = key // self.num_words
        return first, key - first * self.num_words

    def _lower_bound(self, left, right):
        """Where each pair (left, right) is, or would go, in the sorted pair vocabulary:
        the first place whose pair is not below it, as `searchsorted` gives for its key.
        A binary search of a fixed number of halvings, each a gather and comparisons, of
        word ids, never of keys (a * num_words + b, up to 25 million): operations that
        ONNX and LiteRT have, where `searchsorted` (TensorFlow's LowerBound) is in
        neither, on numbers that stay exact where a converter computes in float32. In
        TensorFlow it takes several times as long, so only a portable layer uses it."""
        ops, n = keras.ops, self.num_pairs
        low, high = ops.zeros_like(left), ops.full_like(left, n)
        for _ in range(n.bit_length()):  # enough halvings to narrow n + 1 places to one
            middle = (low + high) // 2
            first, second = self._words_of(ops.minimum(middle, n - 1))
            below = (first < left) | ((first == left) & (second < right))
            open_ = low < high
            low = ops.where(open_ & below, middle + 1, low)
            high = ops.where(open_ & ~below, middle, high)
        return low

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        batch, length = input_shape
        columns = None if length is None else length * 2 - 1 if self.num_pairs else length
        return (batch, columns)

    def compute_output_spec(self, tokens):
        return keras.KerasTensor(self.compute_output_shape(tokens.shape), dtype="int32")

    def get_config(self) -> dict:
        return {**super().get_config(), "num_words": self.num_words, "num_pairs": self.num_pairs,
                "portable": self.portable}  # fmt: skip


def feature_presence(
    ids: np.ndarray, labels: np.ndarray, num_features: int, num_classes: int = 2
) -> np.ndarray:
    """How many reviews of each class contain each feature: shape (num_classes, num_features).

    `ids` is the output of `NgramIds` (distinct ids per row, 0 = nothing); row c of the
    result counts the reviews of class c (with two: 0 negative, 1 positive).
    """
    counts = np.zeros((num_classes, num_features), dtype=np.int64)
    for label in range(num_classes):
        rows = np.asarray(ids)[np.asarray(labels) == label]
        counts[label] = np.bincount(rows[rows > 0], minlength=num_features)
    return counts


# scikit-learn's LogisticRegression(C=4) minimises C * (sum of log losses) + |w|^2 / 2;
# divided by C * n, that is Keras's mean loss + |w|^2 / (2 * C * n): the same model.
C = 4.0
LEARNING_RATE = 0.01  # Adam's; chosen on the validation reviews (docs/what-works.md)


def naive_bayes_ratios(counts: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Each feature's log-count ratio, from `feature_presence` counts (smoothed by alpha).

    Two classes: one ratio per feature, positive against negative. More: one per feature
    and class, that class against all the others (one-vs-rest, as the multinomial
    regression then weighs each class's evidence on its own), shape (num_features,
    num_classes). Feature 0 (nothing) gets 0, so it never counts; the start token,
    present in every review, gets 1, so its weight is the plain bias of the regression.
    """
    if len(counts) == 2:
        positive, negative = counts[1] + alpha, counts[0] + alpha
        ratios = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
    else:
        inside = counts + alpha
        outside = counts.sum(axis=0, keepdims=True) - counts + alpha
        ratios = (np.log(inside / inside.sum(axis=1, keepdims=True))
                  - np.log(outside / outside.sum(axis=1, keepdims=True))).T  # fmt: skip
    ratios[0], ratios[START] = 0.0, 1.0
    return ratios.astype(np.float32)


def best_epoch(validated: bool) -> list[keras.callbacks.Callback]:
    """Callbacks that keep the epoch of lowest validation loss (none without validation).

    On short texts with several labels the regression overfits by its second epoch (the
    validation loss rises; docs/your-own-data.md); on the IMDB reviews the loss falls in
    every epoch, so the last is kept, as it always was.
    """
    if not validated:
        return []
    return [keras.callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True)]


def fit_features(
    x: np.ndarray, y: np.ndarray, num_words: int, ngrams: int = 2, num_classes: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """The pair vocabulary (empty for words only) and the naive-Bayes ratios of the
    reviews `x` the model is fitted on: never the validation reviews, whose labels must
    not leak into the ratios, nor their pairs into the vocabulary."""
    pairs = pair_vocabulary(x, num_words) if ngrams == 2 else np.zeros(0, np.int32)
    counter = NgramIds(num_words, pairs=pairs)
    ids = np.concatenate([keras.ops.convert_to_numpy(counter(x[i : i + 2048]))
                          for i in range(0, len(x), 2048)])  # fmt: skip
    counts = feature_presence(ids, y, counter.num_features, num_classes)
    return pairs, naive_bayes_ratios(counts)


def build_bow(
    pairs: np.ndarray,
    ratios: np.ndarray,
    num_reviews: int,
    *,
    num_words: int,
    maxlen: int,
    name: str = "bow",
) -> keras.Model:
    """Token ids -> distinct n-grams -> sum of (ratio x weight) -> P(review is positive), or,
    for more than two classes, a softmax over one such sum per class.

    `pairs` is the pair vocabulary (empty for words only), `ratios` one ratio per
    feature (per feature and class), `num_reviews` how many reviews the regression is
    fitted on (its L2 penalty).
    """
    ratios = ratios.reshape(len(ratios), -1)  # (features, 1 or classes)
    units = ratios.shape[1]
    tokens = keras.Input(shape=(maxlen,), dtype="int32")
    ngrams = NgramIds(num_words, pairs=pairs, name="ngrams")
    ids = ngrams(tokens)  # each feature of the review once; 0 = nothing
    scale = keras.layers.Embedding(
        ngrams.num_features, units, weights=[ratios], trainable=False, name="nb_ratios"
    )(ids)
    logit = regression(ids, scale, ngrams.num_features, num_reviews, name="weights")
    probability = outputs.probability(outputs.from_units(units), name="probability")(logit)
    return keras.Model(tokens, probability, name=name)


def regression(
    ids: keras.KerasTensor, scale: keras.KerasTensor, num_features: int, num_reviews: int, name: str
) -> keras.KerasTensor:
    """The logit (one per class, for more than two): the sum over a review's features of
    (ratio x a learned weight)."""
    units = scale.shape[-1]
    weights = keras.layers.Embedding(
        num_features, units, embeddings_initializer="zeros", name=name,
        embeddings_regularizer=keras.regularizers.L2(1 / (2 * C * num_reviews)),
    )(ids)  # fmt: skip
    if units == 1:
        return keras.layers.Flatten()(keras.layers.Dot(axes=1)([weights, scale]))  # the sum
    return keras.ops.sum(keras.layers.Multiply()([weights, scale]), axis=1)  # one sum a class
