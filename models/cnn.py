"""The tutorial's convolutional network: train_cnn.py trains it, train_ensemble.py reuses it."""

from __future__ import annotations

import keras
from keras import layers

from models import classes

EMBEDDING_DIM = 32  # each word becomes a vector of 32 learned numbers


def build_cnn(
    num_words: int, maxlen: int, global_pool: bool = False, num_classes: int = 2
) -> keras.Model:
    """Embedding -> Conv1D -> MaxPooling1D -> Dense(250) -> P(review is positive)."""
    return keras.Sequential(
        [
            keras.Input(shape=(maxlen,), dtype="int32"),
            layers.Embedding(num_words, EMBEDDING_DIM),
            # 32 filters, each looking at 3 consecutive words at a time; "same" padding
            # keeps one output per word, so the sequence stays `maxlen` long.
            layers.Conv1D(32, 3, padding="same", activation="relu"),
            # The tutorial keeps the larger of each two neighbouring outputs (500 -> 250
            # positions). It closes by suggesting a pool over all 500: each filter then
            # says only how strongly its phrase occurs anywhere in the review, wherever.
            layers.MaxPooling1D(maxlen if global_pool else 2),
            layers.Flatten(),
            layers.Dense(250, activation="relu"),
            classes.output_layer(num_classes),  # P(positive), or one per label
        ],
        name="cnn_globalpool" if global_pool else "cnn",
    )
