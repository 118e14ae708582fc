"""train_ensemble.py: end to end on tiny data, and on the real reviews."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import check_trained_model, printed_accuracy


def test_ensemble_end_to_end(run_here, tmp_path: Path, tiny_folder: Path) -> None:
    short = ["--maxlen", "64", "--num-words", "1000"]  # the tiny reviews have at most 60 words
    check_trained_model(run_here, tmp_path, tiny_folder, "train_ensemble.py", short, "ensemble")


@pytest.mark.real_data
def test_the_ensemble_learns(run_script, tmp_path: Path, imdb_data: Path) -> None:
    result = run_script("train_ensemble.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"Ensemble, test accuracy: {accuracy}")
    assert accuracy > 90.0
