"""explore_embeddings.py: neighbours, the map, and what it refuses."""

from __future__ import annotations

import re
from pathlib import Path

import common

import keras
import numpy as np
import pytest


def test_explore_embeddings_prints_neighbours_and_saves_the_map(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import explore_embeddings

    args = ["--model", str(trained / "model.keras"), "--words", "great,awful", "--top", "30"]
    explore_embeddings.main([*args, "--output-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert (tmp_path / "cnn_embedding.png").read_bytes().startswith(b"\x89PNG")

    # What docs/using-a-model.md promises: the table is model.layers[0], a word's row is rank + 3.
    model, encoding = common.load_model(trained / "model.keras")
    table = model.layers[0].get_weights()[0]
    assert table.shape == (encoding.num_words, 32)
    assert f"{encoding.num_words:,} rows x 32 numbers" in out
    row = encoding.word_index["great"] + 3
    assert f"Row {row} is 'great'" in out
    assert f"[{table[row, 0]:+.3f}, {table[row, 1]:+.3f}" in out

    # The neighbours are the words of highest cosine similarity, best first, never itself.
    listed = re.search(r"^ +great: (.+)$", out, flags=re.MULTILINE).group(1).split(", ")
    words = {rank + 3: word for word, rank in encoding.word_index.items()}
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    similarity = {words[i]: float(unit[i] @ unit[row]) for i in words if i != row}
    best = sorted(similarity, key=similarity.get, reverse=True)[: len(listed)]
    assert [item.split()[0] for item in listed] == best


def test_explore_embeddings_refuses_what_it_cannot_explore(trained: Path, tmp_path: Path) -> None:
    import explore_embeddings

    args = ["--model", str(trained / "model.keras"), "--output-dir", str(tmp_path)]
    with pytest.raises(common.UserError, match="'zebra' is not one of the"):
        explore_embeddings.main([*args, "--words", "great,zebra"])
    with pytest.raises(common.UserError, match="--words is empty"):
        explore_embeddings.main([*args, "--words", " , "])

    # A linear model: one number per word is a weight, not a word vector.
    linear = keras.Sequential([keras.Input((500,), dtype="int32"), keras.layers.Embedding(8, 1),
                               keras.layers.GlobalAveragePooling1D()])  # fmt: skip
    (tmp_path / "linear").mkdir()
    common.saving.save_model(
        linear, tmp_path / "linear", {"good": 1}, num_words=8, maxlen=500, data_source="a test"
    )
    with pytest.raises(common.UserError, match="has no word embedding"):
        explore_embeddings.main(["--model", str(tmp_path / "linear"), "--words", "good"])


def test_a_map_of_one_word_is_refused(run_here, trained: Path, tmp_path: Path) -> None:
    args = ["--model", trained / "model.keras", "--output-dir", tmp_path, "--top", "1"]
    result = run_here("explore_embeddings.py", *args)
    assert result.returncode == 2 and "a map needs at least 2 words" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_map_of_words_that_do_not_vary_prints_no_nan(tmp_path: Path, capsys) -> None:
    """An embedding whose rows are all alike: no share of variance, no correlation, no nan."""
    import explore_embeddings

    flat = keras.Sequential([keras.Input((500,), dtype="int32"),
                             keras.layers.Embedding(8, 2, embeddings_initializer="ones"),
                             keras.layers.GlobalAveragePooling1D(),
                             keras.layers.Dense(1, activation="sigmoid")])  # fmt: skip
    (tmp_path / "flat").mkdir()
    common.saving.save_model(flat, tmp_path / "flat", {"good": 1, "bad": 2, "film": 3, "plot": 4},
                             num_words=8, maxlen=500, data_source="a test")  # fmt: skip
    args = ["--model", str(tmp_path / "flat"), "--words", "good", "--top", "4"]
    explore_embeddings.main([*args, "--output-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "nan" not in out
    assert "keep 0% of the rows' variance" in out and "cannot be compared" in out
    assert (tmp_path / "flat_embedding.png").read_bytes().startswith(b"\x89PNG")
