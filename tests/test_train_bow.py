"""train_bow.py: bow_short end to end on tiny data, and every variant on the real reviews."""

from __future__ import annotations

import re
from pathlib import Path

import common

import pytest
from conftest import check_portable_files, check_trained_model, printed_accuracy


@pytest.mark.slow
def test_bow_short_end_to_end_on_three_labels(run_here, tmp_path: Path, three_labels: Path):
    """bow_short holds the bow model and more; on three labels, as the slower runs are
    trained once where they cover most (two labels: test_bag_of_ngrams.py, and below on
    the real reviews, bow and bow_words too)."""
    flags = ["--short-texts", "--maxlen", "16", "--num-words", "200"]
    check_trained_model(run_here, tmp_path, three_labels, "train_bow.py", flags, "bow_short")


@pytest.mark.real_data
def test_the_bag_of_ngrams_baseline_learns(run_script, tmp_path: Path, imdb_data: Path) -> None:
    result = run_script("train_bow.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"Bag of words and pairs, test accuracy: {accuracy}")
    assert accuracy > 89.0  # a floor that says it learned; scikit-learn's peer scores 90.89%

    # --short-texts adds a regression for short texts: better on them, and whole reviews
    # keep the bow model's answers (all but the few under 150 words).
    args = ["--data", imdb_data, "--output-dir", tmp_path, "--short-texts"]
    assert run_script("train_bow.py", *args).returncode == 0
    args = ["--model", "bow,bow_short", "--models-dir", tmp_path, "--show-errors", "0"]
    result = run_script("analyze_model.py", *args, "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    whole = [float(a) for a in re.findall(r"whole texts: +accuracy (\d+\.\d\d)%", result.stdout)]
    short = [float(a) for a in re.findall(r"first 30 words only: accuracy (\d+\.\d\d)%",
                                          result.stdout)]  # fmt: skip
    print(f"bow and bow_short: whole reviews {whole}, first 30 words {short}")
    assert whole[0] == accuracy and short[1] > short[0] + 1.0 and whole[1] > whole[0] - 0.5
    assert (tmp_path / "bow+bow_short_length.png").exists()

    # model.onnx and model.tflite, without TensorFlow, on the 25,000 test reviews: the
    # pair lookup of each is the portable one, whose ids are searchsorted's.
    data = common.labeled.load_data(imdb_data)
    for name in ("bow", "bow_short"):
        model, _ = common.load_model(tmp_path / name / "1")
        check_portable_files(tmp_path / name / "1", model, data.x_test)
