"""train_ensemble.py: end to end on tiny data, and on the real reviews."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import check_trained_model, printed_accuracy


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
