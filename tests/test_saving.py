"""common/saving.py: a model and its encoding file, saved and loaded, and what they refuse."""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import common

import numpy as np
import pytest
from conftest import ROOT, assert_one_sentence_error, copy_model
from hypothesis import given, settings
from hypothesis import strategies as st

from models import word_ids


def test_a_model_and_an_encoding_file_that_do_not_belong_together(run_here, trained, tmp_path):
    model = copy_model(trained, tmp_path)
    encoding = json.loads((tmp_path / "encoding.json").read_text())
    encoding["model_sha256"] = "0" * 64  # as if the model had been replaced alone
    (tmp_path / "encoding.json").write_text(json.dumps(encoding))
    result = run_here("predict.py", "--model", model, "good film")
    assert_one_sentence_error(result, "do not belong together")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda e: e["word_index"].update(the="1"), "the rank of 'the' must be a whole number"),
        (lambda e: e["word_index"].update(the=2**40), "the rank of 'the' must be a whole number"),
        (lambda e: e.update(maxlen=0), "maxlen must be a whole number"),
        (lambda e: e.update(maxlen="500"), "maxlen must be a whole number"),
        (lambda e: e.update(word_index=["the"]), "word_index must map words to ranks"),
        (lambda e: e.update(word_index=None), "word_index must map words to ranks"),
        (lambda e: e.update(num_words=-1), "num_words must be a whole number"),
        (lambda e: e.update(num_words=float("nan")), "num_words must be a whole number"),
        (lambda e: e.pop("maxlen"), "it has no maxlen"),
        (lambda e: e.update(maxlen=100), "takes inputs of shape (None, 64)"),
        (lambda e: e.update(num_words=9000), "does not accept the word ids"),
        (lambda e: e.update(min_confidence=1.5), "min_confidence must be a probability"),
        (lambda e: e.update(min_confidence="0.9"), "min_confidence must be a probability"),
    ],
    ids=["rank-string", "rank-huge", "maxlen-0", "maxlen-string", "index-list", "index-null",
         "num-words-negative", "num-words-nan", "no-maxlen", "other-length", "other-vocabulary",
         "threshold-above-1", "threshold-string"],
)  # fmt: skip
def test_an_encoding_file_that_does_not_fit(trained, tmp_path, change, expected):
    """In this process: predict.py prints the UserError as one sentence, exit 2 (test above)."""
    import common

    model = copy_model(trained, tmp_path)
    encoding = json.loads((tmp_path / "encoding.json").read_text())
    change(encoding)
    (tmp_path / "encoding.json").write_text(json.dumps(encoding))
    with pytest.raises(common.UserError, match=re.escape(expected)):
        common.load_model(model)


ENCODING = common.saving.TextEncoding(
    {w: r for r, w in enumerate("the a film good bad don't amélie 10".split(), start=1)},
    num_words=8,  # indices 0-7: "the" to "bad" (rank + 3 < 8); the rest become OOV
    maxlen=12,
)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_string_encodes_to_in_range_integers_of_the_right_length(text: str) -> None:
    x = ENCODING.encode_texts([text])
    assert x.shape == (1, 12) and np.issubdtype(x.dtype, np.integer)
    assert x.min() >= 0 and x.max() < 8
    # The start token and one index per word, cut to the last 12; never a zero among them.
    assert np.count_nonzero(x) == min(len(common.data.tokenize(text)) + 1, 12)


def test_long_texts_keep_their_end_like_the_training_data() -> None:
    x = ENCODING.encode_texts(["bad " * 20 + "the film good"])[0]
    assert x[-3:].tolist() == [4, 6, 7] and word_ids.START not in x  # the start was cut off


def test_words_beyond_the_vocabulary_become_oov() -> None:
    x = ENCODING.encode_texts(["Good film, don't AMÉLIE"])[0]
    assert x[-5:].tolist() == [word_ids.START, 7, 6, word_ids.OOV, word_ids.OOV]


def test_a_missing_model(run_here, tmp_path: Path) -> None:
    result = run_here("predict.py", "--models-dir", tmp_path, "good film")
    assert_one_sentence_error(result, "there is no model at")
    assert "python train_cnn.py" in result.stderr


def test_a_corrupt_model(run_here, trained: Path, tmp_path: Path) -> None:
    shutil.copy(trained / "encoding.json", tmp_path / "encoding.json")
    (tmp_path / "cnn.keras").write_bytes((trained / "model.keras").read_bytes()[:5000])
    result = run_here("predict.py", "--model", tmp_path / "cnn.keras", "good film")
    assert_one_sentence_error(result, "cannot load the model")


def test_a_model_without_its_encoding_file(run_here, trained: Path, tmp_path: Path) -> None:
    shutil.copy(trained / "model.keras", tmp_path / "cnn.keras")
    result = run_here("predict.py", "--model", tmp_path / "cnn.keras", "good film")
    assert_one_sentence_error(result, "has no encoding file beside it")


def test_a_damaged_encoding_file(run_here, trained: Path, tmp_path: Path) -> None:
    shutil.copy(trained / "model.keras", tmp_path / "cnn.keras")
    (tmp_path / "encoding.json").write_text('{"format": "imdb-sentiment-enc')
    result = run_here("predict.py", "--model", tmp_path / "cnn.keras", "good film")
    assert_one_sentence_error(result, "cannot read the encoding file")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_text("[" * 200_000 + "]" * 200_000), "is nested too deeply"),
        (lambda p: os.mkfifo(p), "is not a regular file"),
        (lambda p: p.symlink_to("/dev/zero"), "is not a regular file"),
    ],
    ids=["nested", "fifo", "dev-zero"],
)
def test_an_encoding_file_that_is_no_file_of_ours(trained, tmp_path, make, expected) -> None:
    model = copy_model(trained, tmp_path)
    (tmp_path / "encoding.json").unlink()
    make(tmp_path / "encoding.json")
    with pytest.raises(common.UserError, match=expected):
        common.load_model(model)


def test_a_model_whose_config_would_inflate_beyond_the_bound(trained, tmp_path) -> None:
    model = copy_model(trained, tmp_path)
    with zipfile.ZipFile(model, "w", zipfile.ZIP_DEFLATED) as bomb:  # 65 MiB of spaces
        bomb.writestr("config.json", b"{" + b" " * (65 * 2**20) + b"}")
    with pytest.raises(common.UserError, match="its config.json would inflate to more than"):
        common.load_model(model)


def test_a_missing_model_says_where_it_looked(run_here) -> None:
    result = run_here("predict.py", "--model", "nowhere/cnn.keras", "good film")
    expected = f"there is no model at 'nowhere/cnn.keras' (in {str(ROOT)!r})"
    assert_one_sentence_error(result, expected)


def test_a_model_with_code_in_it_is_refused_for_safety(tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((4,), dtype="int32")
    outputs = keras.layers.Lambda(lambda x: keras.ops.cast(x, "float32") * 0.0)(inputs)
    common.saving.save_model(keras.Model(inputs, outputs), tmp_path, {"good": 1}, num_words=8,
                             maxlen=4, data_source="a test")  # fmt: skip
    with pytest.raises(common.UserError, match="is refused for safety"):
        common.load_model(tmp_path)


def test_a_model_with_a_class_we_do_not_define_is_refused_for_safety(trained, tmp_path) -> None:
    model = copy_model(trained, tmp_path)
    with zipfile.ZipFile(model) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["config.json"] = members["config.json"].replace(
        b'"class_name": "Dense"', b'"class_name": "EvilDense"', 1
    )
    with zipfile.ZipFile(model, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(common.UserError, match="is refused for safety"):
        common.load_model(model)


def test_a_model_that_is_not_a_regular_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "cnn.keras")  # read, it would never end
    with pytest.raises(common.UserError, match="is not a regular file"):
        common.load_model(tmp_path / "cnn.keras")


def test_a_name_or_a_model_folder_means_its_newest_version(trained: Path, tmp_path: Path) -> None:
    for version in ("2", "10", "9"):  # by number, not by name: 10 is the newest
        copy_model(trained, tmp_path / "cnn" / version)
    (tmp_path / "cnn" / "11x").mkdir()  # neither a number
    (tmp_path / "cnn" / ".version.tmp1-abc").mkdir()  # nor finished: neither is a version
    for model, models_dir in (("cnn", tmp_path), (str(tmp_path / "cnn"), "elsewhere")):
        found = common.find_model(model, models_dir)
        assert found.model == tmp_path / "cnn" / "10" / "model.keras"
        assert found.name == "cnn"
    by_path = common.find_model(str(tmp_path / "cnn" / "9" / "model.keras"), "elsewhere")
    assert (by_path.folder, by_path.name) == (tmp_path / "cnn" / "9", "cnn")
    assert common.find_model(str(tmp_path / "cnn" / "2"), "elsewhere").name == "cnn"
    by_version = common.find_model("cnn/9", tmp_path)  # NAME/VERSION, in --models-dir
    assert (by_version.folder, by_version.name) == (tmp_path / "cnn" / "9", "cnn")


def test_a_model_saved_in_the_earlier_layout_is_named(run_here, tmp_path: Path) -> None:
    (tmp_path / "cnn.keras").write_bytes(b"a model of an earlier version")
    (tmp_path / "cnn_encoding.json").write_text("{}")
    result = run_here("predict.py", "--models-dir", tmp_path, "good film")
    assert_one_sentence_error(result, "is a model saved by an earlier version of this project")
    assert str(tmp_path / "cnn" / "1") in result.stderr
    result = run_here("predict.py", "--model", tmp_path / "cnn.keras", "good film")  # by path
    assert_one_sentence_error(result, "is a model saved by an earlier version of this project")


def test_a_model_folder_without_versions(run_here, tmp_path: Path) -> None:
    (tmp_path / "cnn" / ".version.tmp1-abc").mkdir(parents=True)  # only a killed run's
    result = run_here("predict.py", "--models-dir", tmp_path, "good film")
    assert_one_sentence_error(result, "there is no model at")
    (tmp_path / "mlp").write_text("not a folder")
    result = run_here("predict.py", "--models-dir", tmp_path, "--model", "mlp", "good film")
    assert_one_sentence_error(result, "is not a folder of versions or a .keras file")


def test_an_encoding_file_saved_before_labels_reads_as_imdbs(trained: Path, tmp_path: Path):
    """A model saved before models had labels (no `labels`, no `origin`) still loads."""
    model_file = copy_model(trained, tmp_path / "cnn" / "1")
    path = model_file.with_name("encoding.json")
    saved = json.loads(path.read_text())
    del saved["labels"], saved["origin"]
    path.write_text(json.dumps(saved))
    _, encoding = common.load_model(tmp_path / "cnn")
    assert encoding.labels == ["negative", "positive"] and encoding.origin is None
