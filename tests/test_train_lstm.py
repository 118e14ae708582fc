"""train_lstm.py: end to end on tiny data."""

from __future__ import annotations

from pathlib import Path

from conftest import check_trained_model


def test_lstm_end_to_end(run_here, tmp_path: Path, tiny_folder: Path) -> None:
    check_trained_model(
        run_here,
        tmp_path,
        tiny_folder,
        "train_lstm.py",
        # The tiny reviews have at most 60 words: 64 keep them whole, at an eighth of the cost.
        ["--epochs", "1", "--validation-split", "0", "--maxlen", "64", "--num-words", "1000"],
        "lstm",
    )
