"""models/calibration.py: temperature scaling and the curve keep every label, each is
found where it made the labels (the curve only where held-out folds want it), both export
to ONNX and LiteRT, and the measures of calibration give the figures worked out by hand; so does
benchmarks/short_texts.py, with the ECE's floor, on training's own test texts."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import common
from common.export import export_file

import keras
import numpy as np
import pytest
from conftest import ROOT, check_portable_files, labeled_texts, write_csv

from models import calibration
from models.outputs import predicted


@pytest.mark.parametrize("units", [1, 3])
@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_a_temperature_keeps_every_label_and_one_changes_nothing(units: int, temperature: float):
    rng = np.random.default_rng(0)
    if units == 1:
        outputs = rng.uniform(0.001, 0.999, size=(500, 1)).astype("float32")
    else:
        outputs = rng.dirichlet(np.ones(units), size=500).astype("float32")
    scaled = keras.ops.convert_to_numpy(calibration.Temperature(temperature)(outputs))
    assert (predicted(scaled) == predicted(outputs)).all()
    np.testing.assert_allclose(scaled, calibration.scaled(outputs, temperature), atol=1e-5)
    if temperature == 1.0:
        np.testing.assert_allclose(scaled, outputs, atol=1e-5)
    elif units == 1:  # above 1 it softens: every probability moves towards 0.5
        closer = np.abs(scaled - 0.5) < np.abs(outputs - 0.5)
        assert closer.all() if temperature > 1 else (~closer).all()


@pytest.mark.parametrize("true_temperature", [0.5, 2.0])
def test_the_fitted_temperature_is_the_one_that_made_the_labels(true_temperature: float):
    """Labels drawn from sigmoid(z / T) for a model that says sigmoid(z): T comes back."""
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, size=20_000)
    y = (rng.uniform(size=z.size) < 1 / (1 + np.exp(-z / true_temperature))).astype(int)
    outputs = (1 / (1 + np.exp(-z)))[:, None]
    fitted = calibration.fit_temperature(outputs, y)
    assert fitted == pytest.approx(true_temperature, rel=0.08)
    before = calibration.expected_calibration_error(outputs, y)
    after = calibration.expected_calibration_error(calibration.scaled(outputs, fitted), y)
    assert after < 0.02 < before


TRUE_SLOPES = [0.5, 0.4, 0.6, 1.8, 2.3, 2.0, 2.0]  # a model timid in the middle, not at the ends


def s_shaped(units: int, texts: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A model's outputs, and labels drawn from what `Curve(TRUE_SLOPES)` makes of them:
    an S-shaped reliability curve, which no one temperature can follow."""
    rng = np.random.default_rng(seed)
    if units == 1:
        outputs = 1 / (1 + np.exp(-rng.normal(0, 2, size=(texts, 1))))
        y = (rng.uniform(size=texts) < calibration.curved(outputs, TRUE_SLOPES)[:, 0]).astype(int)
    else:
        outputs = rng.dirichlet(np.ones(units) * 0.7, size=texts)
        truth = np.cumsum(calibration.curved(outputs, TRUE_SLOPES), axis=1)
        y = (rng.uniform(size=(texts, 1)) > truth).sum(axis=1)
    return outputs, y


@pytest.mark.parametrize("units", [1, 3])
def test_a_curve_keeps_every_label_and_one_slope_is_a_temperature(units: int) -> None:
    rng = np.random.default_rng(3)
    if units == 1:
        outputs = rng.uniform(0.001, 0.999, size=(500, 1)).astype("float32")
    else:
        outputs = rng.dirichlet(np.ones(units), size=500).astype("float32")
    slopes = [0.2, 3.0, 0.5, 1.5, 0.01, 2.0, 0.7]  # far from a line: still increasing
    curved = keras.ops.convert_to_numpy(calibration.Curve(slopes)(outputs))
    assert (predicted(curved) == predicted(outputs)).all()
    np.testing.assert_allclose(curved, calibration.curved(outputs, slopes), atol=1e-5)
    # Equal slopes are a temperature, where every probability is above the curve's floor.
    inside = (outputs > calibration.CURVE_FLOOR).all(axis=1) & (
        outputs < 1 - calibration.CURVE_FLOOR).all(axis=1)  # fmt: skip
    line = calibration.curved(outputs[inside], [1 / 1.7] * len(slopes))
    np.testing.assert_allclose(line, calibration.scaled(outputs[inside], 1.7), atol=1e-9)
    for wrong in ([1.0] * 6, [1.0] * 6 + [0.0], [1.0] * 6 + [float("nan")]):
        with pytest.raises(ValueError, match="slopes above 0"):
            calibration.Curve(wrong)
    with pytest.raises(ValueError, match="must rise"):
        calibration.Curve([1.0] * 3, at=[0.5, 0.1])


@pytest.mark.parametrize("units", [1, 3])
def test_the_curve_is_chosen_where_one_temperature_cannot_follow_the_truth(units: int) -> None:
    """On an S-shaped truth, held-out folds choose the curve, and on texts it never saw
    its ECE is below the temperature's; on labels a temperature made, the temperature."""
    outputs, y = s_shaped(units, 6000, seed=4)
    fitted = calibration.fit_calibration(outputs[:3000], y[:3000])
    assert "curve" in fitted and "temperature" not in fitted
    losses = fitted["held_out_log_loss"]
    assert losses["curve"] < losses["temperature"]
    temperature = calibration.fit_temperature(outputs[:3000], y[:3000])
    curve = calibration.expected_calibration_error(
        calibration.curved(outputs[3000:], fitted["curve"]["slopes"]), y[3000:])  # fmt: skip
    line = calibration.expected_calibration_error(
        calibration.scaled(outputs[3000:], temperature), y[3000:])  # fmt: skip
    assert curve < line
    rng = np.random.default_rng(5)
    z = rng.normal(0, 3, size=3000)
    made = (rng.uniform(size=z.size) < 1 / (1 + np.exp(-z / 1.5))).astype(int)
    fitted = calibration.fit_calibration((1 / (1 + np.exp(-z)))[:, None], made)
    assert fitted["temperature"] == pytest.approx(1.5, rel=0.1) and "curve" not in fitted
    # Too few validation texts to fold: one temperature, and no losses to show.
    few = calibration.fit_calibration(outputs[:100], y[:100])
    assert set(few) == {"temperature", "held_out_log_loss"} and few["held_out_log_loss"] is None


def test_the_measures_of_calibration_give_the_figures_worked_out_by_hand() -> None:
    """Ten texts said positive at 0.9, eight of them right: ECE 0.1; Brier: 2 x 0.1² for
    each right one, 2 x 0.9² for each wrong one."""
    outputs, y = np.full((10, 1), 0.9), np.array([1] * 8 + [0] * 2)
    assert calibration.expected_calibration_error(outputs, y) == pytest.approx(0.1)
    assert calibration.brier_score(outputs, y) == pytest.approx((8 * 0.02 + 2 * 1.62) / 10)
    bins = calibration.reliability(outputs, y)
    assert bins == {"confidence": [pytest.approx(0.9)], "accuracy": [0.8], "texts": [10],
                    "bin": [13]}  # fmt: skip
    three = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert calibration.brier_score(three, np.array([0, 2])) == pytest.approx(
        ((0.3**2 + 0.2**2 + 0.1**2) + (0.1**2 + 0.1**2 + 0.2**2)) / 2
    )


CALIBRATIONS = [{"temperature": 1.7}, {"curve": {"slopes": TRUE_SLOPES}}]


SLOW_TAIL = {"curve": {"slopes": [0.3, *TRUE_SLOPES[1:]]}}  # the sure texts made far less sure


@pytest.mark.parametrize("fitted", [*CALIBRATIONS, SLOW_TAIL], ids=["temperature", "curve", "tail"])
def test_a_calibrated_model_saves_loads_and_exports(tmp_path: Path, fitted: dict) -> None:
    """model.keras keeps the calibration; model.onnx and model.tflite give its outputs,
    to 1e-5 even for texts a float32 probability calls all but certain (with one output,
    1 - p then keeps a digit or two, which a slope below 1 would stretch)."""
    keras.utils.set_random_seed(3)
    units, activation = (1, "sigmoid") if fitted is SLOW_TAIL else (3, "softmax")
    spread = keras.initializers.RandomNormal(stddev=50.0)  # log-odds of about +-10
    head = keras.layers.Dense(units, activation=activation, kernel_initializer=spread)
    model = keras.Sequential([keras.Input((12,), dtype="int32"), keras.layers.Embedding(50, 4),
                              keras.layers.Flatten(), head])  # fmt: skip
    calibrated = calibration.with_calibration(model, fitted)
    calibrated.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    x = np.random.default_rng(2).integers(1, 50, size=(64, 12)).astype("int32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), calibrated.predict(x, verbose=0))
    last = loaded.layers[-1]
    assert last.temperature == 1.7 if "temperature" in fitted else (
        last.slopes == fitted["curve"]["slopes"])  # fmt: skip
    sure = np.abs(model.predict(x, verbose=0) - 0.5) > 0.5 - 1e-6
    assert sure.any()  # texts it is all but certain of
    for kind, name in (("onnx", "model.onnx"), ("litert", "model.tflite")):
        assert export_file(calibrated, kind, tmp_path / name) is None
    check_portable_files(tmp_path, calibrated, x)
    with pytest.raises(ValueError, match="above 0"):
        calibration.Temperature(0.0)


def test_answering_only_the_sure_texts_counts_them_and_those_right() -> None:
    outputs = np.array([[0.95], [0.05], [0.6], [0.85]])  # top probabilities 0.95 0.95 0.6 0.85
    y = np.array([1, 1, 1, 0])  # right, wrong, right, wrong
    assert calibration.selective(outputs, y, 0.9) == (0.5, 0.5)
    assert calibration.selective(outputs, y, 0.8) == (0.75, pytest.approx(1 / 3))
    assert calibration.selective(outputs, y, 0.99) == (0.0, None)


def test_the_threshold_is_the_lowest_that_reaches_the_accuracy_asked() -> None:
    outputs = np.array([[0.99], [0.95], [0.1], [0.8]])  # tops 0.99, 0.95, 0.9, 0.8
    y = np.array([1, 1, 1, 1])  # right, right, wrong, right: 1, 1, 2/3, 3/4 from the top
    assert calibration.lowest_threshold(outputs, y, 0.75) == pytest.approx(0.8)
    assert calibration.lowest_threshold(outputs, y, 0.9) == pytest.approx(0.95)
    assert calibration.lowest_threshold(outputs, y, 1.01) is None
    # Texts as sure as each other are answered together: 0.9 answers both, half right.
    assert calibration.lowest_threshold(np.array([[0.9], [0.9]]), np.array([1, 0]), 1.0) is None


@pytest.mark.parametrize("fitted", CALIBRATIONS, ids=["temperature", "curve"])
@pytest.mark.parametrize("labels", [1, 3])
def test_a_text_gets_the_same_bits_whatever_it_is_scored_with(labels: int, fitted: dict):
    """The calibration's log and exp give other roundings to the elements TensorFlow
    computes outside vector registers (the last few of a batch of odd size): every call
    is padded so that none is, and a text's output depends on nothing but the text."""
    keras.utils.set_random_seed(1)
    head = keras.layers.Dense(1, activation="sigmoid") if labels == 1 else keras.layers.Dense(
        labels, activation="softmax")  # fmt: skip
    base = keras.Sequential([keras.Input((20,), dtype="int32"), keras.layers.Embedding(100, 8),
                             keras.layers.GlobalAveragePooling1D(), head])  # fmt: skip
    model = calibration.with_calibration(base, fitted)
    x = np.random.default_rng(0).integers(1, 100, (600, 20)).astype("int32")
    for text in range(10):
        seen = set()
        for size in (1, 2, 3, 7, 8, 13, 16, 31, 100, 255, 256, 257, 300):
            for position in {0, size // 2, size - 1}:
                rows = np.insert(x[text + 1 : text + size], position, x[text], axis=0)
                seen.add(common.scoring.predict_outputs(model, rows)[position].tobytes())
        assert len(seen) == 1, f"text {text}: {len(seen)} different outputs"


@pytest.mark.parametrize("fitted", CALIBRATIONS, ids=["temperature", "curve"])
@pytest.mark.parametrize("labels", [1, 3])
def test_the_calibration_alone_gives_the_bits_of_the_whole_calibrated_model(
    labels: int, fitted: dict
) -> None:
    """Training measures the calibrated model on the test set from the outputs it already
    has, through the calibration layer alone: that must be what the model saved gives."""
    keras.utils.set_random_seed(2)
    head = keras.layers.Dense(1, activation="sigmoid") if labels == 1 else keras.layers.Dense(
        labels, activation="softmax")  # fmt: skip
    base = keras.Sequential([keras.Input((30,), dtype="int32"), keras.layers.Embedding(200, 8),
                             keras.layers.Conv1D(4, 3), keras.layers.Flatten(), head])  # fmt: skip
    x = np.random.default_rng(1).integers(1, 200, (1000, 30)).astype("int32")
    before = common.scoring.predict_outputs(base, x)
    model = calibration.with_calibration(base, fitted)
    whole = common.scoring.predict_outputs(model, x)
    assert np.array_equal(common.training._through_calibration(model, before), whole)
    assert not np.array_equal(before, whole)  # the calibration did change them


def short_texts_benchmark():
    """benchmarks/short_texts.py as a module (a script, not a package)."""
    path = ROOT / "benchmarks" / "short_texts.py"
    spec = importlib.util.spec_from_file_location("short_texts_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_short_texts_benchmark_tests_on_the_texts_training_tests_on(three_labels: Path):
    split = short_texts_benchmark().split_texts(three_labels, None, 0.2)
    data = common.labeled.load_data(three_labels)
    texts, y = split["test"]
    assert split["labels"] == data.labels and np.array_equal(y, data.y_test)
    by_line = {line: text for line, (text, _) in enumerate(labeled_texts(), start=2)}
    assert texts == [by_line[int(where.removeprefix("line "))] for where in data.test_files]
    assert len(split["train"][0]) + len(texts) == len(labeled_texts())


def test_the_short_texts_benchmark_gives_the_floor_that_calibrated_probabilities_show():
    figures = short_texts_benchmark().figures
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(3), size=3000)
    y = np.array([rng.choice(3, p=row) for row in p])  # labels as calibrated as can be
    calibrated = figures(p, y)
    assert 0.005 < calibrated["floor"] < 0.05 and calibrated["ece"] < 2 * calibrated["floor"]
    sharp = p**3 / np.sum(p**3, axis=1, keepdims=True)  # the same labels, overconfident
    assert figures(sharp, y)["ece"] > 3 * calibrated["floor"]
    two = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    two = figures(two, np.array([0, 1, 1, 1]))  # label 0: F1 2/3; label 1: 4/5
    assert two["accuracy"] == 0.75 and two["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)


def test_the_short_texts_benchmark_tests_on_every_row_of_a_test_file(tmp_path: Path):
    rows = labeled_texts()
    train = write_csv(tmp_path / "train.csv", rows[:60])
    test = tmp_path / "test.jsonl"  # another form than the training file's
    test.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows[60:]))
    split = short_texts_benchmark().split_texts(train, test, 0.2)
    assert split["train"][0] == [text for text, _ in rows[:60]]
    assert split["test"][0] == [text for text, _ in rows[60:]]
    assert [split["labels"][i] for i in split["test"][1]] == [label for _, label in rows[60:]]
    odd = write_csv(tmp_path / "odd.csv", [("a text", "surprised")])
    with pytest.raises(common.UserError, match="labels the training data never has: 'surprised'"):
        short_texts_benchmark().split_texts(train, odd, 0.2)


def test_the_short_texts_benchmark_tests_on_a_folders_own_test_part(tmp_path: Path):
    """A folder of class folders under train/ and test/: training's test part, not a
    hold-out of a data set whose labels would be "train" and "test"."""
    rows = labeled_texts()
    for part, chosen in (("train", rows[:60]), ("test", rows[60:])):
        for i, (text, label) in enumerate(chosen):
            (tmp_path / part / label).mkdir(parents=True, exist_ok=True)
            (tmp_path / part / label / f"{i:03}.txt").write_text(text, encoding="utf-8")
    split = short_texts_benchmark().split_texts(tmp_path, None, None)
    data = common.labeled.load_data(tmp_path)
    assert split["labels"] == data.labels == ["negative", "neutral", "positive"]
    assert np.array_equal(split["test"][1], data.y_test) and len(split["train"][0]) == 60
    assert sorted(split["test"][0]) == sorted(text for text, _ in rows[60:])
