"""train_lstm.py: end to end on tiny data."""

from __future__ import annotations

from pathlib import Path

from conftest import check_trained_model


def test_lstm_end_to_end(run_script, tmp_path: Path, tiny_folder: Path) -> None:
    check_trained_model(
        run_script,
        tmp_path,
        tiny_folder,
        "train_lstm.py",
        ["--epochs", "1", "--validation-split", "0"],
        "lstm",
    )
