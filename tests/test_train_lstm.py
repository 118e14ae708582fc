"""train_lstm.py: end to end on tiny data of three labels (the slowest model to compile,
so it is trained once, where it covers most); with two, the tutorial's output."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import check_trained_model

import train_lstm


@pytest.mark.slow
def test_lstm_end_to_end_on_three_labels(run_here, tmp_path: Path, three_labels: Path) -> None:
    check_trained_model(
        run_here,
        tmp_path,
        three_labels,
        "train_lstm.py",
        ["--epochs", "1", "--validation-split", "0", "--maxlen", "16", "--num-words", "200"],
        "lstm",
    )


def test_two_labels_end_in_one_sigmoid_and_three_in_a_softmax() -> None:
    two, three = (train_lstm.build_model(200, 16, k) for k in (2, 3))
    assert two.output_shape == (None, 1) and two.layers[-1].activation.__name__ == "sigmoid"
    assert three.output_shape == (None, 3) and three.layers[-1].activation.__name__ == "softmax"
