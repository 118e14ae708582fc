"""Calibrated probabilities: temperature scaling (Guo et al., 2017), fitted after training.

A model trained to minimise cross-entropy on its training texts ends up more (or less)
sure than it is right: of the texts it gives 0.9, not 90% are right. One number fixes
most of that. The model's log-odds (for more than two labels, its log-probabilities)
are divided by a temperature T, fitted on the validation texts to minimise their
cross-entropy: T > 1 softens an over-confident model, T < 1 sharpens a timid one.
Dividing by T > 0 keeps the sign of the log-odds and the order of the labels, so the
label predicted, and the accuracy, do not change, but for a text within floating-point
rounding of a tie (training counts those on the test set, and says how many).

`Temperature` is the layer a saved model ends in; `fit_temperature` finds T;
`expected_calibration_error` and `brier_score` measure how far probabilities are from
the frequencies they claim.
"""

from __future__ import annotations

import keras
import numpy as np

from models.outputs import probabilities

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] before the logarithm
BINS = 15  # equal-width bins of the top probability, for the expected calibration error
T_RANGE = (0.05, 20.0)  # the temperatures searched: far beyond any model here
ABSTAIN_AT = (0.8, 0.9, 0.95)  # the top probabilities from which to answer, in the tables


@keras.saving.register_keras_serializable(package="imdb_sentiment")
class Temperature(keras.layers.Layer):
    """A model's probabilities -> the same with its log-odds divided by `temperature`:
    sigmoid(logit(p) / T) for one output, softmax(log(p) / T) for several."""

    def __init__(self, temperature: float, **kwargs) -> None:
        super().__init__(**kwargs)
        if not temperature > 0:
            raise ValueError(f"a temperature must be above 0, got {temperature}")
        self.temperature = float(temperature)

    def call(self, probabilities):
        p = keras.ops.clip(probabilities, EPSILON, 1.0 - EPSILON)
        if probabilities.shape[-1] == 1:
            logit = keras.ops.log(p) - keras.ops.log(1.0 - p)
            return keras.ops.sigmoid(logit / self.temperature)
        return keras.ops.softmax(keras.ops.log(p) / self.temperature, axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature}


def with_temperature(model: keras.Model, temperature: float) -> keras.Model:
    """`model` ending in `Temperature(temperature)`: the same weights, the same labels."""
    layer = Temperature(temperature, name="temperature")
    if isinstance(model, keras.Sequential):  # stays one: its first layer is still the first
        tokens = keras.Input(shape=model.input_shape[1:], dtype=model.inputs[0].dtype)
        return keras.Sequential([tokens, *model.layers, layer], name=model.name)
    return keras.Model(model.inputs[0], layer(model.outputs[0]), name=model.name)


def scaled(outputs: np.ndarray, temperature: float) -> np.ndarray:
    """What `Temperature` gives for `outputs`, in NumPy (float64)."""
    p = np.clip(np.asarray(outputs, dtype=np.float64), EPSILON, 1.0 - EPSILON)
    if p.shape[-1] == 1:
        return 1.0 / (1.0 + np.exp(-(np.log(p) - np.log1p(-p)) / temperature))
    z = np.log(p) / temperature
    z -= z.max(axis=-1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


def top_and_right(outputs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text's top probability, and whether the label it names is `y`'s."""
    every = probabilities(outputs)
    return every.max(axis=-1), every.argmax(axis=-1) == np.asarray(y)


def log_loss(outputs: np.ndarray, y: np.ndarray) -> float:
    """The mean cross-entropy of the true labels `y` (class ids) under `outputs`."""
    p = probabilities(outputs)[np.arange(len(y)), np.asarray(y, dtype=np.int64)]
    return float(-np.mean(np.log(np.clip(p, EPSILON, 1.0))))


def fit_temperature(outputs: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the cross-entropy of `y` under `outputs` (the
    validation texts'): a golden-section search on log T, where the loss has one minimum."""
    low, high = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    ratio = (np.sqrt(5) - 1) / 2

    def loss(log_t: float) -> float:
        return log_loss(scaled(outputs, float(np.exp(log_t))), y)

    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    for _ in range(60):  # the bracket shrinks by 0.618 a step: far below 1e-6 in log T
        if loss_a < loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = loss(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = loss(b)
    return float(np.exp((low + high) / 2))


def expected_calibration_error(outputs: np.ndarray, y: np.ndarray, bins: int = BINS) -> float:
    """How far the top probability is from the share right, on average: over `bins`
    equal-width bins of the top probability, |accuracy - mean top probability|,
    weighted by the bin's share of the texts."""
    figures = reliability(outputs, y, bins)
    texts = sum(figures["texts"])
    return float(sum(count / texts * abs(accuracy - confidence) for count, accuracy, confidence
                     in zip(figures["texts"], figures["accuracy"], figures["confidence"],
                            strict=True)))  # fmt: skip


def brier_score(outputs: np.ndarray, y: np.ndarray) -> float:
    """The mean over texts of the squared distance between every label's probability and
    1 for the true label, 0 for the others (0 is perfect; 2 the worst)."""
    every = probabilities(outputs)
    truth = np.eye(every.shape[-1])[np.asarray(y, dtype=np.int64)]
    return float(np.mean(np.sum((every - truth) ** 2, axis=-1)))


def selective(
    outputs: np.ndarray, y: np.ndarray, min_confidence: float
) -> tuple[float, float | None]:
    """Answering only where the top probability reaches `min_confidence`: the share of
    the texts answered, and the share of those right (None where none is answered)."""
    top, right = top_and_right(outputs, y)
    answered = top >= min_confidence
    return float(answered.mean()), float(right[answered].mean()) if answered.any() else None


def lowest_threshold(outputs: np.ndarray, y: np.ndarray, target: float) -> float | None:
    """The lowest top probability P at which the texts whose top probability reaches P
    are right at least `target` of the time (the most texts answered so), or None."""
    top, right = top_and_right(outputs, y)
    order = np.argsort(-top, kind="stable")  # the surest first
    top, right = top[order], right[order]
    accuracy = np.cumsum(right) / np.arange(1, len(right) + 1)
    # A threshold answers every text as sure as it: only the last of equal ones can end it.
    ends = np.append(top[1:] < top[:-1], True)
    reached = np.flatnonzero((accuracy >= target) & ends)
    return float(top[reached[-1]]) if len(reached) else None


def reliability(outputs: np.ndarray, y: np.ndarray, bins: int = BINS) -> dict[str, list]:
    """Per bin of the top probability: its mean top probability, its accuracy and its
    number of texts (bins without a text left out): what a reliability diagram draws."""
    top, right = top_and_right(outputs, y)
    which = np.minimum((top * bins).astype(int), bins - 1)
    kept = [b for b in range(bins) if (which == b).any()]
    return {
        "confidence": [float(top[which == b].mean()) for b in kept],
        "accuracy": [float(right[which == b].mean()) for b in kept],
        "texts": [int((which == b).sum()) for b in kept],
        "bin": kept,
    }
