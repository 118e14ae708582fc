"""compare_models.py on hand-written metrics files; the newer models end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_scripts import (
    PNG_MAGIC,
    assert_one_sentence_error,
    files_in,
    printed_accuracy,
    saved_files,
)


def write_metrics(folder: Path, model: str, accuracies: list[float], epoch_seconds: float,
                  parameters: int, epochs: int = 2) -> None:  # fmt: skip
    """A metrics file as the training scripts write it, with only the fields compared."""
    n = len(accuracies)
    mean = sum(accuracies) / n
    std = (sum((a - mean) ** 2 for a in accuracies) / (n - 1)) ** 0.5 if n > 1 else 0.0
    runs = [
        {"seed": 7 + i, "test_accuracy": a, "seconds_per_epoch": [epoch_seconds] * epochs}
        for i, a in enumerate(accuracies)
    ]
    metrics = {
        "model": model, "parameters": parameters, "epochs": epochs,
        "test_accuracy": mean, "test_accuracy_std": std, "test_accuracies": accuracies,
        "seconds": {"fit": epoch_seconds * epochs * n}, "runs": runs,
    }  # fmt: skip
    (folder / f"{model}_metrics.json").write_text(json.dumps(metrics))


EXPECTED_TABLE = """\
model             parameters  epochs  seeds      test accuracy  fit s/seed  s/epoch
-----------------------------------------------------------------------------------
deep_cnn             665,813       3      1             89.64%        30.0     10.0
cnn                2,163,605       2      1             88.39%        11.0      5.5
mlp                4,160,501       2      3     84.00% ± 2.00%        10.0      5.0

Reported in the articles:
  MLP (first article)                         86.94%
  CNN (first article)                         87.79%
  deep CNN (second article)                   86.60%
  Maas et al., 2011 (state of the art then)   88.89%"""


def test_compare_models_prints_the_expected_table(run_script, tmp_path: Path) -> None:
    write_metrics(tmp_path, "mlp", [0.82, 0.84, 0.86], 5.0, 4_160_501)
    write_metrics(tmp_path, "cnn", [0.8839], 5.5, 2_163_605)
    write_metrics(tmp_path, "deep_cnn", [0.8964], 10.0, 665_813, epochs=3)
    (tmp_path / "broken_metrics.json").write_text("{not json")
    result = run_script("compare_models.py", "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert EXPECTED_TABLE in result.stdout
    assert "Skipping" in result.stderr and "broken_metrics.json" in result.stderr
    assert (tmp_path / "comparison.png").read_bytes().startswith(PNG_MAGIC)


def test_compare_models_says_so_when_there_is_nothing_to_compare(run_script, tmp_path: Path):
    result = run_script("compare_models.py", "--output-dir", tmp_path)
    assert_one_sentence_error(result, "there are no metrics files")
    assert files_in(tmp_path) == []


def test_train_deep_cnn_end_to_end(run_script, tmp_path: Path, tiny_folder: Path) -> None:
    result = run_script("train_deep_cnn.py", "--data", tiny_folder, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    printed_accuracy(result.stdout)
    assert 'Model: "deep_cnn"' in result.stdout
    assert saved_files(tmp_path, "deep_cnn") == [
        "deep_cnn.keras", "deep_cnn_encoding.json", "deep_cnn_history.png", "deep_cnn_metrics.json",
        "deep_cnn_savedmodel",
    ]  # fmt: skip


def test_train_cnn_with_global_pooling(
    tmp_path: Path, tiny_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """In this process: train_cnn.py's end-to-end run is tested in a fresh one."""
    import train_cnn

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    args = ["--data", str(tiny_folder), "--output-dir", str(tmp_path), "--global-pool"]
    train_cnn.main([*args, "--epochs", "1"])
    printed_accuracy(capsys.readouterr().out)
    metrics = json.loads((tmp_path / "cnn_globalpool_metrics.json").read_text())
    # Embedding 160,000 + Conv1D 3,104 + Dense(32 -> 250) 8,250 + Dense(250 -> 1) 251
    assert metrics["model"] == "cnn_globalpool" and metrics["parameters"] == 171_605
    assert (tmp_path / "cnn_globalpool.keras").exists()


def test_compare_models_can_train_models_first(
    run_script, tmp_path: Path, tiny_folder: Path
) -> None:
    models = ("bow_words",)  # the quickest; every other model has an end-to-end test
    result = run_script(
        "compare_models.py", "--train", "--models", ",".join(models), "--data", tiny_folder,
        "--output-dir", tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout[result.stdout.index("model             parameters") :]
    assert not (tmp_path / "cnn_metrics.json").exists()  # only the models asked for
    assert (tmp_path / "bow_words.keras").exists()
    for model in models:
        assert (tmp_path / f"{model}_metrics.json").exists()
        assert re.search(rf"^{model} +[\d,]+ +\d+ +1 +\d+\.\d\d%", table, re.MULTILINE), model
    assert (tmp_path / "comparison.png").read_bytes().startswith(PNG_MAGIC)
