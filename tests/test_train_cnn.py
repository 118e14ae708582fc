"""train_cnn.py: end to end on tiny data, global pooling, and on the real reviews."""

from __future__ import annotations

import json
from pathlib import Path

import common

import numpy as np
import pytest
import tensorflow as tf
from conftest import PNG_MAGIC, check_portable_files, printed_accuracy


def test_train_cnn_without_validation(run_here, tmp_path: Path, tiny_folder: Path) -> None:
    out = tmp_path / "out"
    result = run_here(
        "train_cnn.py", "--data", tiny_folder, "--output-dir", out,
        "--validation-split", "0", "--epochs", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    printed_accuracy(result.stdout)
    assert 'Model: "cnn"' in result.stdout and "Epoch 3/3" in result.stdout
    metrics = json.loads((out / "cnn" / "1" / "metrics.json").read_text())
    assert metrics["parameters"] == 2_163_605
    assert set(metrics["runs"][0]["history"]) == {"loss", "accuracy"}
    assert len(metrics["runs"][0]["history"]["loss"]) == 3
    assert (out / "cnn" / "1" / "history.png").read_bytes().startswith(PNG_MAGIC)
    # No validation texts, nothing to fit a temperature on: saved as trained, and said.
    assert metrics["calibration"] is None and "Not calibrated" in result.stdout
    assert not (out / "cnn" / "1" / "calibration.png").exists()


def test_train_cnn_with_global_pooling(
    tmp_path: Path, tiny_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys, without_exports
) -> None:
    """In this process: train_cnn.py's end-to-end run is tested in a fresh one."""
    import train_cnn

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    args = ["--data", str(tiny_folder), "--output-dir", str(tmp_path), "--global-pool"]
    train_cnn.main([*args, "--epochs", "1"])
    printed_accuracy(capsys.readouterr().out)
    metrics = json.loads((tmp_path / "cnn_globalpool" / "1" / "metrics.json").read_text())
    # Embedding 160,000 + Conv1D 3,104 + Dense(32 -> 250) 8,250 + Dense(250 -> 1) 251
    assert metrics["model"] == "cnn_globalpool" and metrics["parameters"] == 171_605
    assert (tmp_path / "cnn_globalpool" / "1" / "model.keras").exists()


@pytest.mark.real_data
def test_the_cnn_learns_and_scores_new_text(run_script, tmp_path: Path, imdb_data: Path) -> None:
    result = run_script("train_cnn.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"CNN test accuracy: {accuracy}")
    assert accuracy >= 85.0
    metrics = json.loads((tmp_path / "cnn" / "1" / "metrics.json").read_text())
    history = metrics["runs"][0]["history"]
    assert len(history["val_accuracy"]) == 2  # validated on held-out training reviews

    # The saved model scores new text as a reader would expect.
    texts = [
        "A wonderful film: brilliant acting, a moving story, I loved every minute of it.",
        "Awful. Boring, badly acted and far too long, the worst film I have seen this year.",
    ]
    result = run_script("predict.py", "--models-dir", tmp_path, "--format", "json", *texts)
    assert result.returncode == 0, result.stderr[-3000:]
    labels = [json.loads(line)["label"] for line in result.stdout.splitlines()]
    assert labels == ["positive", "negative"]

    # The export (raw text in, with the tokenizer inside) and predict.py agree on every
    # test review.

    by_name = common.data.read_reviews(imdb_data)  # the reader the data loader uses
    reviews = [by_name[name] for name in sorted(by_name) if name.startswith("test/")]
    (tmp_path / "test_reviews.txt").write_text("\n".join(reviews) + "\n", encoding="utf-8")
    args = ["--models-dir", tmp_path, "--format", "json", "--file", tmp_path / "test_reviews.txt"]
    result = run_script("predict.py", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    # Lines end at line feeds only: some reviews hold U+0085 or U+2028, which splitlines takes.
    lines = result.stdout.removesuffix("\n").split("\n")
    predicted = [json.loads(line)["probability_positive"] for line in lines]
    exported = tf.saved_model.load(str(tmp_path / "cnn" / "1"))
    served = np.concatenate([exported.serve(tf.constant(reviews[i : i + 1000])).numpy()
                             for i in range(0, len(reviews), 1000)])  # fmt: skip
    difference = np.abs(served - np.array(predicted))
    print(f"Export and predict.py on {len(reviews):,} test reviews: largest difference "
          f"{difference.max():.2e}")  # fmt: skip
    assert len(predicted) == len(reviews) == 25_000
    assert difference.max() <= 1e-5
    # score_corpus.py's pipeline, on two worker processes: each review once, at its line,
    # with predict.py's probability.
    prefix = tmp_path / "scores" / "part"
    args = ["--input", tmp_path / "test_reviews.txt", "--output", prefix, "--workers", "2"]
    result = run_script("score_corpus.py", "--models-dir", tmp_path, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    written = "".join(s.read_text(encoding="utf-8") for s in prefix.parent.glob("part-*.jsonl"))
    records = [json.loads(line) for line in written.removesuffix("\n").split("\n")]
    assert sorted(r["line"] for r in records) == list(range(1, len(reviews) + 1))
    scored = np.array([r["probability_positive"] for r in sorted(records, key=lambda r: r["line"])])
    print(f"score_corpus.py and predict.py on {len(reviews):,} test reviews: largest "
          f"difference {np.abs(scored - predicted).max():.2e}")  # fmt: skip
    assert np.abs(scored - predicted).max() <= 1e-6
    # model.onnx and model.tflite, without TensorFlow, on the same 25,000 test reviews.
    model, encoding = common.load_model(tmp_path / "cnn" / "1")
    check_portable_files(tmp_path / "cnn" / "1", model, encoding.encode_texts(reviews))
