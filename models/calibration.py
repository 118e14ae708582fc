"""Calibrated probabilities: temperature scaling (Guo et al., 2017), or a monotone curve
where the validation texts show that one number is not enough; fitted after training.

A model trained to minimise cross-entropy on its training texts ends up more (or less)
sure than it is right: of the texts it gives 0.9, not 90% are right. One number fixes
most of that. The model's log-odds (for more than two labels, its log-probabilities)
are divided by a temperature T, fitted on the validation texts to minimise their
cross-entropy: T > 1 softens an over-confident model, T < 1 sharpens a timid one.
Dividing by T > 0 keeps the sign of the log-odds and the order of the labels, so the
label predicted, and the accuracy, do not change, but for a text within floating-point
rounding of a tie (training counts those on the test set, and says how many).

One number cannot mend a model that is timid in the middle and about right at the top
(an S-shaped reliability curve). `Curve` maps every log-probability through one
increasing piecewise-linear function, a slope per stretch between CURVE_AT's
probabilities, and takes the softmax again: the same function for every label keeps
their order, as a temperature does (a temperature is the curve with one slope). It is
fitted by Newton's method on the validation texts' cross-entropy, which is convex in the
slopes. `fit_calibration` keeps it only where it predicts held-out validation texts
better than one temperature does, across FOLDS folds of them.

`Temperature` and `Curve` are the layers a saved model ends in; `fit_temperature`,
`fit_curve` and `fit_calibration` find them; `expected_calibration_error` and
`brier_score` measure how far probabilities are from the frequencies they claim.
"""

from __future__ import annotations

import keras
import numpy as np

from models.outputs import probabilities

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] before the logarithm
BINS = 15  # equal-width bins of the top probability, for the expected calibration error
T_RANGE = (0.05, 20.0)  # the temperatures searched: far beyond any model here
ABSTAIN_AT = (0.8, 0.9, 0.95)  # the top probabilities from which to answer, in the tables
CURVE_AT = (0.01, 0.1, 0.3, 0.5, 0.7, 0.9)  # where the curve's slope may change
# The curve reads probabilities from 1e-4 up: a float32 p within 1e-4 of 1 leaves 1 - p
# too few digits, which a slope below 1 would stretch into differences of 1e-5 between
# Keras, ONNX and LiteRT. Below it, every probability counts as CURVE_FLOOR.
CURVE_FLOOR = 1e-4
FOLDS = 5  # the validation texts' folds on which the curve must beat the temperature
FOLD_TEXTS = 50  # below this many validation texts per fold, one temperature only
SMOOTHING = 1e-3  # pulls neighbouring slopes together: a stretch with no text takes theirs
MIN_SLOPE = 1e-3  # every slope stays above 0: the function increases, the labels keep order


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
    return _ending_in(model, Temperature(temperature, name="temperature"))


def _ending_in(model: keras.Model, layer: keras.layers.Layer) -> keras.Model:
    """`model` with `layer` after its output, as a Sequential if it was one."""
    if isinstance(model, keras.Sequential):  # stays one: its first layer is still the first
        tokens = keras.Input(shape=model.input_shape[1:], dtype=model.inputs[0].dtype)
        return keras.Sequential([tokens, *model.layers, layer], name=model.name)
    return keras.Model(model.inputs[0], layer(model.outputs[0]), name=model.name)


def scaled(outputs: np.ndarray, temperature: float) -> np.ndarray:
    """What `Temperature` gives for `outputs`, in NumPy (float64)."""
    p = np.clip(np.asarray(outputs, dtype=np.float64), EPSILON, 1.0 - EPSILON)
    if p.shape[-1] == 1:
        return 1.0 / (1.0 + np.exp(-(np.log(p) - np.log1p(-p)) / temperature))
    return _softmax(np.log(p) / temperature)


def _softmax(z: np.ndarray) -> np.ndarray:
    """softmax over the last axis, from the largest logit down (no overflow)."""
    z = z - z.max(axis=-1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


@keras.saving.register_keras_serializable(package="imdb_sentiment")
class Curve(keras.layers.Layer):
    """A model's probabilities -> softmax(f(log p)), f increasing and piecewise linear: its
    slope is `slopes[i]` between the log of `at[i - 1]` and of `at[i]` (from log
    CURVE_FLOOR to 0; flat below). One output is read as the two probabilities (1 - p, p)
    and answered as one."""

    def __init__(self, slopes: list[float], at: list[float] = CURVE_AT, **kwargs) -> None:
        super().__init__(**kwargs)
        at, slopes = [float(a) for a in at], [float(s) for s in slopes]
        if not (all(CURVE_FLOOR < a < 1.0 for a in at) and all(np.diff(at) > 0)):
            raise ValueError(f"a curve's probabilities must rise within ({CURVE_FLOOR:g}, 1), "
                             f"got {at}")  # fmt: skip
        if len(slopes) != len(at) + 1 or not all(0 < s < np.inf for s in slopes):
            raise ValueError(f"a curve needs {len(at) + 1} slopes above 0, got {slopes}")
        self.at, self.slopes = at, slopes

    def call(self, probabilities):
        p = keras.ops.clip(probabilities, EPSILON, 1.0 - EPSILON)
        one = probabilities.shape[-1] == 1
        log_p = keras.ops.log(keras.ops.concatenate([1.0 - p, p], axis=-1) if one else p)
        z, knots = 0.0, _knots(self.at)
        for low, high, slope in zip(knots[:-1], knots[1:], self.slopes, strict=True):
            z = z + slope * (keras.ops.clip(log_p, low, high) - low)
        if one:
            return keras.ops.sigmoid(z[..., 1:] - z[..., :1])
        return keras.ops.softmax(z, axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "slopes": self.slopes, "at": self.at}


def with_calibration(model: keras.Model, calibration: dict) -> keras.Model:
    """`model` ending in the calibration `fit_calibration` chose: its temperature, or
    its curve. The same weights, the same labels."""
    if "curve" in calibration:
        return _ending_in(model, Curve(calibration["curve"]["slopes"], name="calibration_curve"))
    return with_temperature(model, calibration["temperature"])


def curved(outputs: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """What `Curve(slopes)` gives for `outputs`, in NumPy (float64)."""
    z = _pieces(np.asarray(outputs)) @ np.asarray(slopes, dtype=np.float64)
    if np.shape(outputs)[-1] == 1:
        return 1.0 / (1.0 + np.exp(-(z[:, 1:] - z[:, :1])))
    return _softmax(z)


def fit_curve(outputs: np.ndarray, y: np.ndarray, temperature: float | None = None) -> np.ndarray:
    """The slopes that minimise the cross-entropy of `y` under `curved(outputs, slopes)`,
    plus SMOOTHING times the squared steps between neighbouring slopes: projected
    Newton steps from the temperature's line (every slope 1 / T), so that the curve
    fits the texts it is fitted on at least as well as the temperature."""
    pieces = _pieces(np.asarray(outputs))  # (texts, labels, stretches): the curve is linear in them
    y = np.asarray(y, dtype=np.int64)
    rows, stretches = np.arange(len(y)), pieces.shape[-1]
    steps = np.diff(np.eye(stretches), axis=0)
    penalty = SMOOTHING * steps.T @ steps

    def loss(slopes: np.ndarray) -> tuple[float, np.ndarray]:
        z = pieces @ slopes
        z -= z.max(axis=-1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        return float(-log_p[rows, y].mean() + slopes @ penalty @ slopes / 2), np.exp(log_p)

    t = fit_temperature(outputs, y) if temperature is None else temperature
    slopes = np.full(stretches, 1.0 / t)
    value, p = loss(slopes)
    for _ in range(100):
        mean = np.einsum("nk,nkj->nj", p, pieces)
        gradient = (mean - pieces[rows, y]).mean(axis=0) + penalty @ slopes
        hessian = (np.einsum("nk,nki,nkj->ij", p, pieces, pieces) / len(y)
                   - mean.T @ mean / len(y) + penalty)  # fmt: skip
        step = np.linalg.solve(hessian + 1e-9 * np.eye(stretches), -gradient)
        for _ in range(30):  # halve the step until the loss falls
            tried = np.maximum(slopes + step, MIN_SLOPE)
            tried_value, tried_p = loss(tried)
            if tried_value < value:
                break
            step /= 2
        else:
            break
        done = value - tried_value < 1e-12
        slopes, value, p = tried, tried_value, tried_p
        if done:
            break
    return slopes


def fit_calibration(outputs: np.ndarray, y: np.ndarray) -> dict:
    """What calibrates `outputs` best, by the validation texts alone: a curve where it
    gives their held-out folds a lower cross-entropy than one temperature does (FOLDS
    folds, every FOLDS-th text in one), else the temperature; then fitted on them all.
    The cross-validated losses say why."""
    outputs, y = np.asarray(outputs), np.asarray(y, dtype=np.int64)
    temperature = fit_temperature(outputs, y)
    if len(y) < FOLDS * FOLD_TEXTS:
        return {"temperature": temperature, "held_out_log_loss": None}
    held_out = {"temperature": 0.0, "curve": 0.0}
    for fold in range(FOLDS):
        out, kept = np.arange(len(y)) % FOLDS == fold, np.arange(len(y)) % FOLDS != fold
        t = fit_temperature(outputs[kept], y[kept])
        slopes = fit_curve(outputs[kept], y[kept], t)
        held_out["temperature"] += log_loss(scaled(outputs[out], t), y[out]) * out.sum() / len(y)
        held_out["curve"] += log_loss(curved(outputs[out], slopes), y[out]) * out.sum() / len(y)
    held_out = {name: float(value) for name, value in held_out.items()}
    if held_out["curve"] < held_out["temperature"]:
        slopes = fit_curve(outputs, y, temperature)
        return {"curve": {"at": list(CURVE_AT), "slopes": slopes.tolist()},
                "held_out_log_loss": held_out}  # fmt: skip
    return {"temperature": temperature, "held_out_log_loss": held_out}


def calibrator(calibration: dict) -> str:
    """What `fit_calibration` chose, in a few words: "temperature 1.053", or the curve's
    slopes."""
    if "curve" in calibration:
        slopes = calibration["curve"]["slopes"]
        return f"a curve of {len(slopes)} slopes ({min(slopes):.2f} to {max(slopes):.2f})"
    return f"temperature {calibration['temperature']:.3f}"


def chosen_because(calibration: dict) -> str:
    """Why `fit_calibration` chose what it chose, as a clause ("" with too few texts)."""
    losses = calibration.get("held_out_log_loss")
    if not losses:
        return ""
    curve = "curve" in calibration
    chosen, other = ("curve", "temperature") if curve else ("temperature", "curve")
    return (f" (on {FOLDS} held-out folds of them its log loss is {losses[chosen]:.4f}, "
            f"against {losses[other]:.4f} with "
            f"{'one temperature' if curve else 'a curve'})")  # fmt: skip


def _knots(at: tuple[float, ...] | list[float]) -> list[float]:
    """The ends of the curve's stretches, in log-probability: log CURVE_FLOOR, log at..., 0."""
    return [float(np.log(CURVE_FLOOR)), *(float(np.log(a)) for a in at), 0.0]


def _pieces(outputs: np.ndarray) -> np.ndarray:
    """Each text's log-probability per label, cut into the curve's stretches: the part of
    it within each (texts, labels, stretches); the curve is their sum weighted by slope."""
    p = np.clip(np.asarray(outputs, dtype=np.float64), EPSILON, 1.0 - EPSILON)
    log_p = np.log(np.concatenate([1.0 - p, p], axis=-1) if p.shape[-1] == 1 else p)
    knots = np.asarray(_knots(CURVE_AT))
    return np.clip(log_p[..., None], knots[:-1], knots[1:]) - knots[:-1]


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
