"""Short texts: what lets a model trained on whole reviews answer a one-line review well.

The training reviews have 174 words at the median; only 55 of 25,000 have 30 words or
fewer. Two pieces help a model on short texts, and keep its answers on whole reviews:

* short texts to learn from: `with_windows` cuts every training review into
  consecutive windows of 10 to 50 words, `openings_and_windows` into its opening and
  one random window of 30 words, each a text of its own, labeled as its review;
* `LengthGate`: one model holds a regression for short texts and one for whole
  reviews, and answers with the one that fits the length of the text: the short-text
  one up to 50 words, the whole-review one from 150, a straight-line blend between.

`add_short_text_regression` joins them to the bag of n-grams (bow_short, in
train_bow.py --short-texts); train_minilm.py gates a pre-trained encoder the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from models import outputs
from models.bag_of_ngrams import regression
from models.word_ids import START

WINDOWS = (10, 50)  # the shortest and longest window, in words (the last one: what is left)
LENGTH_GATE = (50, 150)  # short-text answer only up to 50 words, whole-review one from 150
LEARNING_RATE = 0.003  # Adam's, for the short-text regression (docs/short-texts.md)
WORDS = 30  # analyze_model.py's first cut, and the texts train_minilm.py learns from


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


def add_short_text_regression(bow: keras.Model, num_reviews: int, name: str) -> keras.Model:
    """The trained bow model, frozen, and a new regression on the same features for short
    texts, blended by the length of the text (LENGTH_GATE)."""
    bow.get_layer("weights").trainable = False  # whole reviews keep the answers they had
    ngrams = bow.get_layer("ngrams")
    ids, scale = ngrams.output, bow.get_layer("nb_ratios").output
    whole = bow.get_layer("probability").input  # the bow model's logit
    short = regression(ids, scale, ngrams.num_features, num_reviews, name="short_text_weights")
    logit = LengthGate(*LENGTH_GATE, name="length_gate")([bow.input, whole, short])
    units = bow.output.shape[-1]
    probability = outputs.probability(outputs.from_units(units), name="probability")(logit)
    return keras.Model(bow.input, probability, name=name)


def fit_short_text_regression(
    bow: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    *,
    name: str = "bow_short",
    **fit_args,
) -> tuple[keras.Model, keras.callbacks.History]:
    """bow_short: the trained bow model, frozen, with a regression for short texts fitted on
    the reviews `x` and their windows (`with_windows`); `fit_args` go to `fit`.

    Returns the joined model, saved as an ordinary one (every weight trainable, an
    optimizer to match), and the history of the short-text fit.
    """

    def compile_model() -> None:
        units = model.output.shape[-1]
        model.compile(
            loss=outputs.loss(outputs.from_units(units)),
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
            metrics=["accuracy"],
        )

    model = add_short_text_regression(bow, len(x), name=name)
    compile_model()
    history = model.fit(*with_windows(x, y, seed), **fit_args)
    model.get_layer("weights").trainable = True
    compile_model()  # the optimizer now holds the whole-review weights too
    model.optimizer.build(model.trainable_variables)
    return model, history


def with_windows(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The reviews, then every review cut into consecutive windows of 10 to 50 words (a
    length drawn at random per window), each padded as a text of its own; their labels."""
    rng = np.random.default_rng(seed)
    windows, labels = [], []
    for review, label in zip(x, y, strict=True):
        words = review[review > START]  # no padding, no start token
        start = 0
        while start < len(words):
            end = start + int(rng.integers(WINDOWS[0], WINDOWS[1] + 1))
            windows.append([START, *words[start:end]])
            labels.append(label)
            start = end
    maxlen = x.shape[1]
    windows = (
        keras.utils.pad_sequences(windows, maxlen) if windows else np.zeros((0, maxlen), x.dtype)
    )
    return np.concatenate([x, windows.astype(x.dtype)]), np.concatenate([y, labels]).astype(y.dtype)


def first_words(reviews: Sequence[np.ndarray], words: int = WORDS) -> list[np.ndarray]:
    """The start token and the first `words` words: as analyze_model.py cuts the test reviews."""
    return [review[: 1 + words] for review in reviews]


def openings_and_windows(
    reviews: Sequence[np.ndarray], seed: int, words: int = WORDS
) -> list[np.ndarray]:
    """Each review's first `words` words, then one random `words`-word window of each."""
    rng = np.random.default_rng(seed)
    windows = []
    for review in reviews:
        start = 1 + rng.integers(0, max(1, len(review) - 1 - words))
        windows.append(np.concatenate([[START], review[start : start + words]]))
    return first_words(reviews, words) + windows
