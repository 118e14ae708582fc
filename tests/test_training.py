"""common/training.py: seeds, dry runs, validation splits and saving, through the scripts; the
seeds benchmark."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    ROOT,
    assert_one_sentence_error,
    copy_model,
    files_in,
    labeled_texts,
    limit_file_size,
    printed_accuracy,
    write_csv,
)


@pytest.mark.slow  # two trainings, each in a process of its own
def test_the_seeds_benchmark_trains_once_per_seed_and_gives_the_spread(
    tmp_path: Path, tiny_archive: Path, monkeypatch: pytest.MonkeyPatch, capsys, without_exports
) -> None:
    """benchmarks/seeds.py runs the script once per seed, each in a process of its own:
    each figure is the one that seed gives alone, then their mean and deviation."""
    import train_mlp

    flags = ["--data", str(tiny_archive), "--epochs", "1", "--validation-split", "0",
             "--maxlen", "64"]  # fmt: skip
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "seeds.py"), "train_mlp.py", *flags,
         "--seeds", "7,8", "--output-dir", str(tmp_path / "seeds")],
        capture_output=True, text=True, env={**os.environ, "KERAS_HOME": str(tmp_path / "keras")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    seeds = dict(re.findall(r"^Seed (\d+): accuracy (\d+\.\d\d)%", result.stdout, re.MULTILINE))
    assert list(seeds) == ["7", "8"]
    summary = re.match(
        r"^Accuracy: (\d+\.\d\d)% ± (\d+\.\d\d) \(mean ± standard deviation over 2 seeds\)$",
        result.stdout.rstrip().splitlines()[-1],
    )
    assert summary, result.stdout
    saved = [json.loads((tmp_path / "seeds" / "mlp" / v / "metrics.json").read_text())
             for v in ("1", "2")]  # fmt: skip
    per_seed = np.array([metrics["test_accuracy"] for metrics in saved]) * 100
    assert [metrics["seed"] for metrics in saved] == [7, 8]
    assert [f"{a:.2f}" for a in per_seed] == list(seeds.values())
    assert float(summary.group(1)) == pytest.approx(per_seed.mean(), abs=0.005)
    assert float(summary.group(2)) == pytest.approx(per_seed.std(ddof=1), abs=0.005)

    # A seed gives the same figure here, in this process after other runs, as alone.
    train_mlp.main([*flags, "--seed", "8", "--output-dir", str(tmp_path / "8")])
    assert f"{printed_accuracy(capsys.readouterr().out):.2f}" == seeds["8"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["train_nothing.py"], "is not a training script"),
        (["train_mlp.py", "--seed", "3"], "the seeds and the output folder are this script's"),
        (["train_mlp.py", "--seeds", "7,x"], "--seeds takes whole numbers"),
    ],
)
def test_the_seeds_benchmark_refuses_what_it_cannot_run(flags: list[str], expected: str) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "seeds.py"), *flags],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 2 and expected in result.stderr, result.stderr


def test_the_same_seed_gives_the_same_weights(
    tmp_path: Path, tiny_folder: Path, monkeypatch: pytest.MonkeyPatch, without_exports
) -> None:
    import train_cnn

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def weights(seed: int, run: str) -> list[np.ndarray]:
        args = ["--data", str(tiny_folder), "--output-dir", str(tmp_path / run), "--maxlen", "64"]
        return train_cnn.main([*args, "--seed", str(seed), "--epochs", "2"]).get_weights()

    first, again, other = weights(7, "a"), weights(7, "b"), weights(8, "c")
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_a_validation_split_that_leaves_nothing_to_learn_from(run_here, tmp_path, tiny_folder):
    out = tmp_path / "out"
    args = ["--data", tiny_folder, "--output-dir", out, "--dry-run"]
    result = run_here("train_mlp.py", *args, "--validation-split", "0.999")
    assert_one_sentence_error(result, "leaves 0 to learn from")
    assert not out.exists(), "a failed run leaves no empty folder behind"


def test_a_dry_run_never_replaces_real_results(run_here, tmp_path, tiny_folder) -> None:
    result = run_here("train_mlp.py", "--data", tiny_folder, "--output-dir", tmp_path, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert all(name.split("/")[0] == "dry_run" for name in files_in(tmp_path))
    assert (tmp_path / "dry_run" / "mlp" / "1" / "metrics.json").exists()


@pytest.mark.slow
def test_a_full_disk_at_save_time_keeps_the_old_version(trained, tmp_path, tiny_folder) -> None:
    old = copy_model(trained, tmp_path / "out" / "cnn" / "1").parent
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    # One epoch of 64 words: a model file still larger than the limit's 1 MB.
    command = [sys.executable, str(ROOT / "train_cnn.py"), "--data", str(tiny_folder),
               "--output-dir", str(tmp_path / "out"), "--seed", "8", "--epochs", "1",
               "--maxlen", "64"]  # fmt: skip
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                            preexec_fn=limit_file_size, stdin=subprocess.DEVNULL)  # fmt: skip
    assert_one_sentence_error(result, "cannot save the model in")
    assert "free some space" in result.stderr
    assert "Accuracy:" in result.stderr  # the figure is not lost
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    assert files_in(tmp_path / "out" / "cnn") == sorted(["1", *(f"1/{name}" for name in before)])


def test_a_fit_given_the_records_callbacks_is_timed_and_logged_a_line_per_epoch(
    tmp_path: Path, capsys
) -> None:
    """A plain `fit` given `record.callbacks` and `record.verbose`: each epoch timed, the
    phases lapped, one line per epoch where the output is not a terminal; a fit without
    them is neither timed nor changed."""
    import argparse

    import common

    import keras

    args = argparse.Namespace(output_dir=str(tmp_path), dry_run=False, data=None)
    record = common.RunRecord("tiny", args)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam")
    x, y = np.ones((64, 3)), np.ones(64)
    # 16 steps an epoch: a live bar would print more than a line an epoch.
    model.fit(x, y, epochs=3, batch_size=4, callbacks=record.callbacks, verbose=record.verbose)
    assert len(record.watcher.seconds) == 3 and {"build", "fit"} <= set(record.clock.seconds)
    printed = capsys.readouterr().out
    assert printed.count("Epoch ") == 3 and printed.count("16/16") == 3, printed

    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert len(record.watcher.seconds) == 3


def test_a_target_accuracy_saves_a_threshold_that_predict_uses(
    run_here, tmp_path: Path, tiny_folder: Path, without_exports
) -> None:
    """--target-accuracy: the threshold chosen on the validation texts is saved in the
    encoding file, and predict.py leaves the texts below it unanswered unless told."""
    out = tmp_path / "out"
    result = run_here("train_bow.py", "--data", tiny_folder, "--output-dir", out,
                      "--target-accuracy", "0", "--maxlen", "64")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]  # every text answered reaches 0
    assert "it answers every text, saved without a threshold" in result.stdout
    assert json.loads((out / "bow" / "1" / "encoding.json").read_text())["min_confidence"] is None
    # Labels one in three flipped: no model is right on them all, the surest are right more.
    rows = [
        (text, label if i % 3 else {"negative": "positive", "positive": "negative"}[label])
        for i, (text, label) in enumerate(labeled_texts(60, ("negative", "positive")))
    ]
    noisy = write_csv(tmp_path / "noisy.csv", rows)
    result = run_here("train_bow.py", "--data", noisy, "--output-dir", out,
                      "--target-accuracy", "0.7", "--maxlen", "16")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Unsure below" in result.stdout, result.stdout[-2000:]
    encoding = json.loads((out / "noisy_bow" / "1" / "encoding.json").read_text())
    threshold = encoding["min_confidence"]
    assert 0.5 <= threshold <= 1
    texts = ["great wonderful film", "awful boring", "the film"]
    said = run_here("predict.py", "--models-dir", out, "--model", "noisy_bow", "--format", "json",
                    *texts)  # fmt: skip
    assert said.returncode == 0, said.stderr[-3000:]
    assert f"unsure below {threshold:g}" in said.stderr
    records = [json.loads(line) for line in said.stdout.splitlines()]
    assert [r["abstained"] for r in records] == [max(r["probabilities"].values()) < threshold
                                                for r in records]  # fmt: skip
    every = run_here("predict.py", "--models-dir", out, "--model", "noisy_bow",
                     "--min-confidence", "0", "--format", "json", *texts)  # fmt: skip
    assert not any(json.loads(line)["abstained"] for line in every.stdout.splitlines())
    refused = run_here("train_bow.py", "--data", tiny_folder, "--output-dir", out,
                       "--target-accuracy", "0.9", "--validation-split", "0")  # fmt: skip
    assert_one_sentence_error(refused, "--validation-split must be above 0")
