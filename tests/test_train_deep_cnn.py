"""train_deep_cnn.py: end to end on tiny data, and on the real reviews."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAVED, printed_accuracy, saved_files


def test_train_deep_cnn_end_to_end(run_here, tmp_path: Path, tiny_folder: Path) -> None:
    short = ["--maxlen", "64", "--num-words", "1000"]  # the tiny reviews have at most 60 words
    result = run_here("train_deep_cnn.py", "--data", tiny_folder, "--output-dir", tmp_path, *short)
    assert result.returncode == 0, result.stderr[-3000:]
    printed_accuracy(result.stdout)
    assert 'Model: "deep_cnn"' in result.stdout
    assert saved_files(tmp_path, "deep_cnn") == SAVED


@pytest.mark.real_data
def test_the_deep_cnn_beats_the_second_article(run_script, tmp_path: Path, imdb_data: Path):
    result = run_script("train_deep_cnn.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"Deep CNN test accuracy: {accuracy}")
    assert accuracy > 86.6  # the second article's figure, after 20 minutes on a laptop
