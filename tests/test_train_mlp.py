"""train_mlp.py: end to end on tiny data, and on the real reviews."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PNG_MAGIC, SAVED, printed_accuracy, saved_files


def test_train_mlp_end_to_end(run_here, tmp_path: Path, tiny_archive: Path) -> None:
    out = tmp_path / "out"
    result = run_here("train_mlp.py", "--data", tiny_archive, "--output-dir", out)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    assert 'Model: "mlp"' in result.stdout and "Epoch 2/2" in result.stdout

    assert saved_files(out, "mlp") == SAVED
    assert (out / "mlp" / "1" / "history.png").read_bytes().startswith(PNG_MAGIC)
    metrics = json.loads((out / "mlp" / "1" / "metrics.json").read_text())
    assert f"{metrics['test_accuracy'] * 100:.2f}" == f"{accuracy:.2f}"
    assert metrics["epochs"] == 2 and metrics["seed"] == 7 and metrics["batch_size"] == 128
    assert metrics["parameters"] == 4_160_501
    assert metrics["data_source"].startswith(f"{tiny_archive.name} (sha256 ")  # no folder: ours
    (run,) = metrics["runs"]
    assert run["seed"] == 7 and run["test_accuracy"] == metrics["test_accuracy"]
    assert len(run["seconds_per_epoch"]) == 2
    phases = "import data build fit evaluate calibrate save export portable card".split()
    assert set(metrics["seconds"]) == set(phases)
    assert set(run["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert set(metrics["versions"]) >= {"tensorflow", "keras", "numpy", "matplotlib"}


@pytest.mark.real_data
def test_the_mlp_learns_and_repeats_itself(run_script, tmp_path: Path, imdb_data: Path) -> None:
    runs = [
        run_script("train_mlp.py", "--data", imdb_data, "--output-dir", tmp_path / run)
        for run in ("first", "second")
    ]
    for result in runs:
        assert result.returncode == 0, result.stderr[-3000:]
    accuracies = [printed_accuracy(result.stdout) for result in runs]
    print(f"MLP test accuracy, twice: {accuracies}")
    assert accuracies[0] == accuracies[1], "the same command printed different accuracies"
    assert accuracies[0] >= 80.0
