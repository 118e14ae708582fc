"""compare_models.py: the table, the plot, training first, and bad metrics files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import PNG_MAGIC, assert_one_sentence_error, files_in, write_metrics

EXPECTED_TABLE = """\
Learned from the IMDB reviews:
model             parameters  epochs  seeds      test accuracy  fit s/seed  s/epoch
-----------------------------------------------------------------------------------
deep_cnn             665,813       3      1             89.64%        30.0     10.0
cnn                2,163,605       2      1             88.39%        11.0      5.5
mlp                4,160,501       2      3     84.00% ± 2.00%        10.0      5.0

Reported in the articles, on the IMDB reviews:
  MLP (first article)                         86.94%
  CNN (first article)                         87.79%
  deep CNN (second article)                   86.60%
  Maas et al., 2011 (state of the art then)   88.89%"""


def metrics_file(folder: Path, model: str, version: int = 1) -> Path:
    """Where the metrics of a model's version are, its folder made."""
    (folder / model / str(version)).mkdir(parents=True, exist_ok=True)
    return folder / model / str(version) / "metrics.json"


def test_compare_models_prints_the_expected_table(run_here, tmp_path: Path) -> None:
    write_metrics(tmp_path, "mlp", [0.82, 0.84, 0.86], 5.0, 4_160_501)
    write_metrics(tmp_path, "cnn", [0.8839], 5.5, 2_163_605)
    write_metrics(tmp_path, "deep_cnn", [0.8964], 10.0, 665_813, epochs=3)
    write_metrics(tmp_path, "broken", [0.99], 5.0, 100)  # version 1: only the newest counts
    metrics_file(tmp_path, "broken", version=2).write_text("{not json")
    result = run_here("compare_models.py", "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert EXPECTED_TABLE in result.stdout
    assert "Skipping" in result.stderr and "broken/2/metrics.json" in result.stderr
    assert (tmp_path / "comparison.png").read_bytes().startswith(PNG_MAGIC)


def test_models_of_other_data_are_compared_apart(run_here, tmp_path: Path) -> None:
    """A 300-row CSV's CNN is not ranked among the IMDB models, nor beside the articles."""
    write_metrics(tmp_path, "bow", [0.9134], 2.0, 632_879)
    write_metrics(tmp_path, "hotel_cnn", [0.4833], 1.0, 54_000, learned_from="hotel.csv")
    write_metrics(tmp_path, "hotel_bow", [0.61], 1.0, 3_000, learned_from="hotel.csv")
    result = run_here("compare_models.py", "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    imdb, hotel = result.stdout.split("Learned from hotel.csv:")
    assert "bow " in imdb and "hotel" not in imdb and "Reported in the articles" in imdb
    assert [line.split()[0] for line in hotel.splitlines()[3:5]] == ["hotel_bow", "hotel_cnn"]
    assert "Reported" not in hotel
    assert (tmp_path / "comparison.png").read_bytes().startswith(PNG_MAGIC)


def test_compare_models_says_so_when_there_is_nothing_to_compare(run_here, tmp_path: Path):
    result = run_here("compare_models.py", "--output-dir", tmp_path)
    assert_one_sentence_error(result, "there are no trained models")
    assert files_in(tmp_path) == []


@pytest.mark.slow
def test_compare_models_can_train_models_first(run_here, tmp_path: Path, tiny_folder: Path) -> None:
    models = ("bow_words",)  # the quickest; every other model has an end-to-end test
    result = run_here(
        "compare_models.py", "--train", "--models", ",".join(models), "--data", tiny_folder,
        "--output-dir", tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout[result.stdout.index("model             parameters") :]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bow_words", "comparison.png"]
    for model in models:
        assert metrics_file(tmp_path, model).exists()
        assert re.search(rf"^{model} +[\d,]+ +\d+ +1 +\d+\.\d\d%", table, re.MULTILINE), model
    assert (tmp_path / "comparison.png").read_bytes().startswith(PNG_MAGIC)


def test_compare_models_skips_metrics_files_with_impossible_figures(run_here, tmp_path) -> None:

    write_metrics(tmp_path, "cnn", [0.88], 5.0, 100)
    for name, value in [("nan", "NaN"), ("inf", "Infinity"), ("huge", "1e307"),
                        ("text", '"88%"'), ("list", "[0.9]"), ("null", "null")]:  # fmt: skip
        write_metrics(tmp_path, name, [0.5], 5.0, 100)
        path = metrics_file(tmp_path, name)
        path.write_text(
            path.read_text().replace('"test_accuracy": 0.5', f'"test_accuracy": {value}')
        )
    result = run_here("compare_models.py", "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("Skipping")]
    assert len(skipped) == 6, result.stderr
    assert "cnn " in result.stdout and "nan " not in result.stdout


def test_compare_models_cannot_write_its_plot(run_here, tmp_path) -> None:

    write_metrics(tmp_path, "cnn", [0.88], 5.0, 100)
    (tmp_path / "comparison.png").mkdir()  # something that cannot be replaced by a file
    result = run_here("compare_models.py", "--output-dir", tmp_path)
    assert_one_sentence_error(result, "cannot save the plot")


def test_metrics_files_that_are_no_files_of_ours_are_skipped(run_here, tmp_path) -> None:
    write_metrics(tmp_path, "cnn", [0.88], 5.0, 100)
    metrics_file(tmp_path, "nested").write_text("[" * 200_000 + "]" * 200_000)
    os.mkfifo(metrics_file(tmp_path, "fifo"))  # read, it would never end
    result = run_here("compare_models.py", "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    skipped = [line for line in result.stderr.splitlines() if line.startswith("Skipping")]
    assert len(skipped) == 2 and "nested too deeply" in result.stderr, result.stderr
    assert "not a regular file" in result.stderr


def test_a_model_name_with_terminal_escapes_is_shown_not_obeyed(run_here, tmp_path) -> None:
    write_metrics(tmp_path, "cnn", [0.88], 5.0, 100)
    path = metrics_file(tmp_path, "cnn")
    path.write_text(path.read_text().replace('"model": "cnn"', '"model": "\\u001b[2Jcnn\\u009b"'))
    result = run_here("compare_models.py", "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout
    assert "\\x1b[2Jcnn\\x9b" in result.stdout
