"""common/cli.py through the scripts: flags, help, signals, the output folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, assert_one_sentence_error, files_in


def test_an_output_folder_that_cannot_be_written(
    run_here, tmp_path: Path, tiny_folder: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the output folder should go")
    result = run_here("train_cnn.py", "--data", tiny_folder, "--output-dir", blocker / "out")
    assert_one_sentence_error(result, "cannot write to the output folder")


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--epochs", "-1", "must be at least 1, got -1"),
        ("--batch-size", "0", "must be from 1 to 1,000,000, got 0"),
        ("--validation-split", "1.5", "must be at least 0 and below 1"),
        ("--batch-size", "10000000000000000000", "must be from 1 to 1,000,000"),
        ("--num-words", "3", "must be from 4 to 10,000,000, got 3"),
        ("--maxlen", "9", "must be from 10 to 1,000,000, got 9"),
        ("--maxlen", "1e3", "expected a whole number, got '1e3'"),
    ],
)
def test_impossible_settings(run_here, tmp_path: Path, flag: str, value: str, expected: str):
    out = tmp_path / "out"
    result = run_here("train_mlp.py", flag, value, "--output-dir", out)
    assert_one_sentence_error(result, expected)
    assert files_in(out) == []


SCRIPTS = ["train_mlp.py", "train_cnn.py", "train_deep_cnn.py", "train_lstm.py", "train_bow.py",
           "train_ensemble.py", "explore_dataset.py", "predict.py", "analyze_model.py",
           "compare_models.py", "explore_embeddings.py", "train_minilm.py"]  # fmt: skip


def test_every_script_has_help_and_one_sentence_for_a_bad_path(run_here, tmp_path: Path) -> None:
    nowhere = str(tmp_path / "nowhere")
    for script in SCRIPTS:
        shown = run_here(script, "--help")
        assert shown.returncode == 0 and shown.stdout.startswith("usage: "), script
        if script.startswith(("train_", "explore")):
            bad = run_here(script, "--data", nowhere)
        elif script == "compare_models.py":
            bad = run_here(script, "--output-dir", nowhere)
        elif script == "predict.py":
            bad = run_here(script, "--model", f"{nowhere}.keras", "good film")
        else:
            bad = run_here(script, "--data", nowhere, "--model", f"{nowhere}.keras")
        assert_one_sentence_error(bad, "")  # exit 2, one line that says so, no traceback


@pytest.mark.parametrize("flags", [["--seed", "-1"], ["--seed", "1099511627776"]])
def test_seeds_outside_numpys_range_are_refused_at_once(run_here, tmp_path, flags) -> None:
    out = tmp_path / "out"
    result = run_here("train_mlp.py", *flags, "--output-dir", out)
    assert_one_sentence_error(result, "must be from 0 to 4,294,967,295")
    assert not out.exists()


def test_sigterm_stops_a_run_like_ctrl_c(tmp_path: Path, tiny_folder: Path) -> None:
    command = [sys.executable, str(ROOT / "train_mlp.py"), "--data", str(tiny_folder),
               "--output-dir", str(tmp_path / "out"), "--epochs", "10000"]  # fmt: skip
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=ROOT)  # fmt: skip
    for line in process.stdout:  # wait until it trains
        if line.startswith("Epoch 2/"):
            break
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not [name for name in files_in(tmp_path / "out") if name.startswith(".")]
