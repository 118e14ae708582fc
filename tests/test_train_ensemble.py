"""train_ensemble.py: its average, end to end on tiny data, and on the real reviews."""

from __future__ import annotations

from pathlib import Path

import common

import keras
import numpy as np
import pytest
from conftest import check_portable_files, check_trained_model, printed_accuracy


def fixed_part(outputs: np.ndarray, name: str) -> keras.Model:
    """A stand-in part that reads token ids and gives `outputs[i]` for the text whose first
    id is i, whatever the rest."""
    tokens = keras.Input(shape=(5,), dtype="int32")
    table = keras.layers.Embedding(len(outputs), outputs.shape[1], trainable=False,
                                   weights=[outputs.astype("float32")])  # fmt: skip
    return keras.Model(tokens, keras.layers.Flatten()(table(tokens[:, :1])), name=name)


@pytest.mark.parametrize("units", [1, 3])
def test_the_ensemble_gives_0_7_of_the_bag_of_ngrams_and_0_3_of_the_cnn(units: int) -> None:
    """Each output is 0.7 x the bag of n-grams' probability + 0.3 x the CNN's, of the same
    label: P(positive) for two labels, each label's for three."""
    import train_ensemble

    rng = np.random.default_rng(0)
    bow_p, cnn_p = rng.uniform(size=(4, units)), rng.uniform(size=(4, units))
    model = train_ensemble.build_ensemble(fixed_part(bow_p, "bow"), fixed_part(cnn_p, "cnn"))
    x = np.zeros((4, 5), dtype="int32")
    x[:, 0] = np.arange(4)
    np.testing.assert_allclose(model.predict(x, verbose=0), 0.7 * bow_p + 0.3 * cnn_p, atol=1e-6)
    assert model.get_layer("weighted_average").trainable_weights == []  # nothing learns there


@pytest.mark.slow
def test_ensemble_end_to_end_on_three_labels(run_here, tmp_path: Path, three_labels: Path):
    """On three labels: each output averages the two parts' probability of one label (two
    labels: below, on the real reviews)."""
    short = ["--maxlen", "16", "--num-words", "200"]
    check_trained_model(run_here, tmp_path, three_labels, "train_ensemble.py", short, "ensemble")


@pytest.mark.real_data
def test_the_ensemble_learns(run_script, tmp_path: Path, imdb_data: Path) -> None:
    result = run_script("train_ensemble.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"Ensemble, test accuracy: {accuracy}")
    assert accuracy > 90.0
    # model.onnx and model.tflite, without TensorFlow, on the 25,000 test reviews.
    model, _ = common.load_model(tmp_path / "ensemble" / "1")
    check_portable_files(
        tmp_path / "ensemble" / "1", model, common.labeled.load_data(imdb_data).x_test
    )
