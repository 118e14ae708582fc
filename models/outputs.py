"""The end of every model, by its number of labels: one probability for two, one per label for more.

With two labels (IMDB's negative and positive), a model ends in one sigmoid unit, the
probability of the positive label, and learns with binary cross-entropy, as in the
tutorial. With three or more (negative, neutral, positive), it ends in a softmax over
the labels and learns with sparse categorical cross-entropy: the labels stay class
ids 0, 1, 2, ..., never one-hot vectors.
"""

from __future__ import annotations

import keras
import numpy as np


def output_units(num_classes: int) -> int:
    """1 for two labels (P(positive)); one per label for more."""
    if num_classes < 2:
        raise ValueError(f"a classifier needs two labels at least, got {num_classes}")
    return 1 if num_classes == 2 else num_classes


def from_units(units: int) -> int:
    """How many labels a model tells apart, from its output's width (`output_units`)."""
    return 2 if units == 1 else units


def probability(num_classes: int, **kwargs) -> keras.layers.Activation:
    """The activation that turns a model's logits into its output: sigmoid for two labels."""
    return keras.layers.Activation("sigmoid" if num_classes == 2 else "softmax", **kwargs)


def loss(num_classes: int) -> str:
    """Binary cross-entropy for two labels; sparse categorical cross-entropy for more."""
    return "binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy"


def logit_loss(num_classes: int) -> keras.losses.Loss:
    """`loss` for a model whose output is its logits, not probabilities."""
    if num_classes == 2:
        return keras.losses.BinaryCrossentropy(from_logits=True)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def logit_accuracy(num_classes: int) -> keras.metrics.Metric:
    """Accuracy for a model whose output is its logits: above 0, or the largest, wins."""
    if num_classes == 2:
        return keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")
    return keras.metrics.SparseCategoricalAccuracy(name="accuracy")


def predicted(outputs: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """The class id a model's outputs name: with one output, 1 from probability 0.5 up (or
    a logit above 0); with more, the largest."""
    outputs = np.asarray(outputs)
    if outputs.shape[-1] > 1:
        return np.argmax(outputs, axis=-1)
    one = outputs[..., 0]
    return (one > 0 if from_logits else one >= 0.5).astype(np.int64)


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """Every class's probability, (texts, classes): a one-output model's P(positive) p
    becomes (1 - p, p)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.shape[-1] == 1:
        return np.concatenate([1.0 - outputs, outputs], axis=-1)
    return outputs
