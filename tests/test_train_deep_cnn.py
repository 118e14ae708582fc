"""train_deep_cnn.py: end to end on tiny data of three labels (trained once, where it covers
most); with two, the tutorial's output; and on the real reviews."""

from __future__ import annotations

from pathlib import Path

import common

import pytest
from conftest import check_portable_files, check_trained_model, printed_accuracy

import train_deep_cnn


def test_train_deep_cnn_end_to_end_on_three_labels(
    run_here, tmp_path: Path, three_labels: Path
) -> None:
    flags = ["--maxlen", "16", "--num-words", "200", "--epochs", "1"]
    check_trained_model(run_here, tmp_path, three_labels, "train_deep_cnn.py", flags, "deep_cnn")


def test_two_labels_end_in_one_sigmoid_and_three_in_a_softmax() -> None:
    two, three = (train_deep_cnn.build_model(200, 16, k) for k in (2, 3))
    assert two.output_shape == (None, 1) and two.layers[-1].activation.__name__ == "sigmoid"
    assert three.output_shape == (None, 3) and three.layers[-1].activation.__name__ == "softmax"


@pytest.mark.real_data
def test_the_deep_cnn_beats_the_second_article(run_script, tmp_path: Path, imdb_data: Path):
    result = run_script("train_deep_cnn.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"Deep CNN test accuracy: {accuracy}")
    assert accuracy > 86.6  # the second article's figure, after 20 minutes on a laptop
    # model.onnx and model.tflite, without TensorFlow, on the 25,000 test reviews.
    model, _ = common.load_model(tmp_path / "deep_cnn" / "1")
    check_portable_files(
        tmp_path / "deep_cnn" / "1", model, common.labeled.load_data(imdb_data).x_test
    )
