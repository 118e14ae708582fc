"""analyze_model.py: the length curve, the mistakes, and what it refuses."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import assert_one_sentence_error, copy_model, learnable_reviews, write_dataset


def test_analyze_model_reports_short_text_accuracy_and_mistakes(
    run_here, trained: Path, tiny_folder: Path, tmp_path: Path
) -> None:
    shutil.copytree(trained, tmp_path / "copy" / "1")  # a second model: the same, renamed
    models = f"{trained / 'model.keras'},{tmp_path / 'copy'}"  # a file, and a model folder
    result = run_here(
        "analyze_model.py", "--model", models, "--data", tiny_folder, "--output-dir", tmp_path,
        "--first-words", "5", "--show-errors", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    whole = re.findall(r"whole texts: +accuracy (\d+\.\d\d)%", result.stdout)
    short = re.search(r"first 5 words only: accuracy (\d+\.\d\d)%", result.stdout)
    by_length = re.search(r"by words kept: +10: (\d+\.\d\d)%, 20: .*, 200: (\d+\.\d\d)%$",
                          result.stdout, flags=re.MULTILINE)  # fmt: skip
    assert len(whole) == 2 and short and by_length, result.stdout
    metrics = json.loads((trained / "metrics.json").read_text())
    assert float(whole[0]) == pytest.approx(metrics["test_accuracy"] * 100, abs=0.01)
    assert whole[1] == whole[0]
    # The tiny reviews have 20 to 60 words: kept to 200, they are whole.
    assert by_length.group(2) == whole[0]
    assert (tmp_path / "cnn+copy_length.png").read_bytes().startswith(b"\x89PNG")
    for name in ("cnn", "copy"):  # which label each label's texts got, per model
        assert (tmp_path / f"{name}_confusion.png").read_bytes().startswith(b"\x89PNG")
    # Each label's figures, and the macro F1, once per model.
    assert len(re.findall(r"^  (?:negative|positive) +\d+\.\d\d% +\d+\.\d\d% +\d+\.\d\d% +\d+$",
                          result.stdout, flags=re.MULTILINE)) == 4  # fmt: skip
    mistakes = re.findall(r"^\d\. P\((\w+)\) = (\d\.\d{4}) "
                          r"\(\d+ words, aclImdb/test/(pos|neg)/\d+_\d+\.txt\):",
                          result.stdout, flags=re.MULTILINE)  # fmt: skip
    assert len(mistakes) == len(re.findall(r"^\d\. P\(", result.stdout, re.MULTILINE))
    assert len(mistakes) <= 2 * 2 * 3  # up to 3 for each label of each of the two models
    for given, probability, truth in mistakes:
        assert float(probability) >= 0.5 and given[:3] != truth  # another label, and sure of it


def test_analyze_model_refuses_data_from_another_vocabulary(
    run_here, trained: Path, tmp_path: Path
) -> None:
    other = write_dataset(tmp_path, {k: [t.upper() + " zebra" * 50 for t in v]
                                     for k, v in learnable_reviews(seed=1).items()})  # fmt: skip
    result = run_here("analyze_model.py", "--model", trained / "model.keras", "--data", other)
    assert_one_sentence_error(result, "another vocabulary")


def test_models_that_share_a_name_get_a_line_each(
    run_here, trained: Path, tiny_folder: Path, tmp_path: Path
) -> None:
    paths = [tmp_path / seed / "cnn" for seed in ("seed7", "seed8")]  # both models are "cnn"
    for path in paths:
        copy_model(trained, path / "1")
    models = ",".join(map(str, paths))
    args = ["--data", tiny_folder, "--output-dir", tmp_path, "--show-errors", "0"]
    result = run_here("analyze_model.py", "--model", models, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    labels = [str(path).replace("/", "-") for path in paths]
    assert (tmp_path / f"{'+'.join(labels)}_length.png").exists()  # one curve each

    result = run_here("analyze_model.py", "--model", f"{paths[0]},{paths[0]}", *args)
    assert_one_sentence_error(result, "--model names the same model twice")
