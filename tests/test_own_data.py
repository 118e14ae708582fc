"""Your own labeled texts: CSV, TSV, JSON Lines, gzip and class folders; two labels or more."""

from __future__ import annotations

import bz2
import csv
import gzip
import importlib.util
import json
import lzma
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import common
from common.labeled import Columns, Options

import numpy as np
import pytest
import tensorflow as tf
import zstandard
from conftest import (
    LABEL_WORDS,
    ROOT,
    SAVED,
    SHARED_WORDS,
    assert_one_sentence_error,
    check_portable_files,
    files_in,
    labeled_texts,
    printed_accuracy,
    saved_files,
    skip_exports,
    write_csv,
)  # fmt: skip

from models import word_ids

WORDS = LABEL_WORDS
SMALL = ["--maxlen", "16", "--num-words", "200", "--epochs", "1"]  # a tiny, quick model


@pytest.fixture(scope="module")
def three(three_labels: Path) -> Path:
    return three_labels


def load(path: Path, **options) -> common.data.Dataset:
    columns = Columns(options.pop("text", None), options.pop("label", None))
    return common.labeled.load_data(path, 200, 16, Options(columns, **options))


# --- Reading ---------------------------------------------------------------------------


def test_csv_as_spreadsheets_write_it(tmp_path: Path, capsys) -> None:
    rows = labeled_texts(10)
    rows[0] = ('He said, "superb", then\nleft; a "great"\r\nfilm', "positive")  # quotes, breaks
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as file:  # a byte-order mark
        writer = csv.writer(file, lineterminator="\r\n")  # Excel's CRLF
        writer.writerow(["id", "Review", "Sentiment"])  # recognised by name, any case
        for i, (text, label) in enumerate(rows):
            writer.writerow([i, text, label])
            if i == 4:
                file.write("\r\n")  # a blank line
        writer.writerow([99, "no label here", ""])  # skipped, and said
    data = load(path)
    printed = capsys.readouterr().out
    assert (
        "text column 'Review' (recognised by its name), label column 'Sentiment' "
        "(recognised by its name)"
    ) in printed
    assert "Skipped 1 row without a text or a label (line 35)" in printed
    assert data.labels == ["negative", "neutral", "positive"]
    assert len(data.y_train) + len(data.y_test) == 30
    # Stratified: 20% of each label, at least one, is the test set.
    assert np.bincount(data.y_test).tolist() == [2, 2, 2]
    assert {"said", "then", "left", "superb"} <= set(data.word_index)  # the quoted text, whole
    assert data.test_files[0].startswith("line ")
    assert data.origin["text_column"] == "Review" and data.origin["test_split"] == 0.2


def test_a_headerless_tsv_by_position(tmp_path: Path, capsys) -> None:
    rows = [(label, text) for text, label in labeled_texts(10)]  # the label comes first
    path = write_csv(tmp_path / "reviews.tsv", rows, header=None)
    data = load(path, text=1, label=0)
    assert "text column 'column 1', label column 'column 0'" in capsys.readouterr().out
    assert data.labels == ["negative", "neutral", "positive"] and len(data.y_test) == 6
    assert data.origin["text_column"] == 1  # a position, to read it again the same way


def test_json_lines_gzipped_and_plain_csv_give_the_same_arrays(tmp_path: Path, three) -> None:
    path = tmp_path / "reviews.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        for text, label in labeled_texts():
            file.write(json.dumps({"label": label, "text": text, "id": 1}) + "\n")
    from_json, from_csv = load(path), load(three)
    zipped = load(write_csv(tmp_path / "three.csv.gz", labeled_texts()))
    for data in (from_json, zipped):
        np.testing.assert_array_equal(data.x_train, from_csv.x_train)
        np.testing.assert_array_equal(data.y_test, from_csv.y_test)
        assert data.word_index == from_csv.word_index


COMPRESSIONS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress,
                ".zst": lambda data: zstandard.ZstdCompressor().compress(data)}  # fmt: skip


@pytest.mark.parametrize("suffix", COMPRESSIONS)
def test_training_and_score_corpus_read_each_compression_alike(
    tmp_path: Path, three: Path, suffix: str
) -> None:
    """One reader of compressed files (common.files.Decompressed) for both (score_corpus.py
    opens a file with it, then reads its texts): training reads
    what score_corpus.py reads, the same texts as the plain file; cut short, the file is
    refused by training in one sentence, as damaged."""
    data = three.read_bytes()
    packed = tmp_path / f"three.csv{suffix}"
    packed.write_bytes(COMPRESSIONS[suffix](data))
    plain, unpacked = load(three), load(packed)
    np.testing.assert_array_equal(unpacked.x_train, plain.x_train)
    np.testing.assert_array_equal(unpacked.y_test, plain.y_test)
    with open(three, "rb") as a, open(packed, "rb") as b:
        opened = ((a, three.name), (common.files.Decompressed(b, suffix), packed.name))
        texts = [[t.text for t in common.texts.read_texts(stream, name)
                  if isinstance(t, common.texts.Text)] for stream, name in opened]  # fmt: skip
    assert texts[0] == texts[1] and len(texts[0]) == len(plain.y_train) + len(plain.y_test)
    cut = tmp_path / f"cut.csv{suffix}"
    cut.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])
    with pytest.raises(common.UserError, match=r"cut\.csv.* is damaged: "):
        load(cut)


@pytest.mark.parametrize("column", [None, "review"])
def test_training_and_score_corpus_find_the_text_column_alike(tmp_path: Path, column) -> None:
    """One column finder (common.labeled.find_column): the same column of a header, and of a
    JSON object's keys, the usual names in the same order of preference; and, where there
    is none, the same sentence from training and from score_corpus.py."""
    rows = [("great film", "awful film")[i % 2] for i in range(20)]
    table = tmp_path / "two.csv"  # "Comment" and "text" both usual: "text" comes first
    table.write_text("Comment,text,label\n" + "".join(f"x,{t},{i % 2}\n" for i, t in
                                                       enumerate(rows)), "utf-8")  # fmt: skip
    lines = tmp_path / "two.jsonl"
    lines.write_text("".join(json.dumps({"Comment": "x", "text": t, "label": i % 2}) + "\n"
                             for i, t in enumerate(rows)), "utf-8")  # fmt: skip
    for path in (table, lines):
        with open(path, "rb") as stream:
            read = [t.text for t in common.texts.read_texts(stream, path.name)]
        assert read == rows, path.name
        data = load(path)
        assert set(common.data.decode_many(data.x_train, data.word_index)) == set(rows)
    lacking = tmp_path / "none.csv"
    lacking.write_text("id,body2,label\n1,great,1\n2,awful,0\n", "utf-8")
    with open(lacking, "rb") as stream:
        (skip,) = common.texts.read_texts(stream, lacking.name, column)
    with pytest.raises(common.UserError) as refused:
        load(lacking, text=column)
    missing = common.labeled.missing_column(["id", "body2", "label"], column, "text")
    assert skip.reason == missing and skip.whole_file
    assert skip.record()["reason"] == f"{missing}: the file is skipped"
    assert str(refused.value) == f"--data {str(lacking)!r} {missing}."


@pytest.mark.parametrize(
    ("name", "bad"),
    [("bad.csv", '3,"great"x,1\n'), ("bad.csv", '3,"great,1\n'), ("bad.jsonl", "[3]\n"),
     ("bad.jsonl", '{"text": "great", \n'), ("bad.tsv", '3\t"great"x\t1\n')],
    ids=["stray quote", "unclosed quote", "not an object", "not JSON", "TSV"],
)  # fmt: skip
def test_a_bad_row_gets_the_same_words_from_training_and_score_corpus(
    tmp_path: Path, name: str, bad: str
) -> None:
    """One reader of records (common.labeled.csv_records and json_records): the row that
    training refuses the file for is the row score_corpus.py skips, at the same line, for
    the same reason."""
    path = tmp_path / name
    if name.endswith(".jsonl"):
        good = [json.dumps({"text": t, "label": i % 2}) + "\n" for i, t in enumerate(["a", "b"])]
        path.write_text("".join(good) + bad, "utf-8")
    else:
        sep = "\t" if name.endswith(".tsv") else ","
        path.write_text(f"id{sep}text{sep}label\n1{sep}a{sep}0\n2{sep}b{sep}1\n" + bad, "utf-8")
    with open(path, "rb") as stream:
        read = list(common.texts.read_texts(stream, name))
    (skip,) = [item for item in read if isinstance(item, common.texts.Skip)]
    with pytest.raises(common.UserError) as refused:
        load(path)
    assert str(refused.value) == f"--data {str(path)!r}, line {skip.line:,}, {skip.reason}."


def test_every_word_clipped_then_padded_is_what_the_loader_gives(three: Path) -> None:
    whole = common.labeled.load_data(three, None, None, Options())
    derived = whole.clipped(20).padded(16)
    direct = common.labeled.load_data(three, 20, 16, Options())
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(derived, name), getattr(direct, name))
    assert max(seq.max() for seq in whole.x_train) >= 20  # the whole data was not clipped


def test_quotes_escaped_with_a_backslash_are_read_with_escape_char(tmp_path: Path) -> None:
    """Kaggle's labeledTrainData.tsv writes a quote inside a quoted review as \\"."""
    path = tmp_path / "labeledTrainData.tsv"
    rows = [(f'"{i}_9"', 1, f'"A \\"superb\\" film, {i}"') for i in range(5)]
    rows += [(f'"{i}_1"', 0, f'"awful {i}"') for i in range(5, 10)]
    path.write_text("id\tsentiment\treview\n" + "".join("\t".join(map(str, r)) + "\n"
                                                        for r in rows), "utf-8")  # fmt: skip
    data = load(path, escape_char="\\", test_split=0.4)
    texts = common.data.decode_many(data.x_train, data.word_index) + common.data.decode_many(
        data.x_test, data.word_index
    )
    assert sum(text.startswith("a superb film") for text in texts) == 5, texts
    assert data.labels == ["0", "1"] and len(data.y_train) + len(data.y_test) == 10
    assert data.origin["escape_char"] == "\\"


def test_hidden_files_are_not_texts(tmp_path: Path) -> None:
    """A class folder copied from a Mac holds ._name.txt beside each name.txt."""
    for label in ("negative", "positive"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "data" / label / f"{i}.txt").write_text(f"a {label} text {i}")
            (tmp_path / "data" / label / f"._{i}.txt").write_bytes(b"\x00\x05\x16\x07 Mac")
    data = load(tmp_path / "data", test_split=0.34)
    assert len(data.y_train) + len(data.y_test) == 6


def test_class_folders_with_and_without_a_test_part(tmp_path: Path) -> None:
    for part, rows in (("train", labeled_texts(8)), ("test", labeled_texts(3, seed=1))):
        for i, (text, label) in enumerate(rows):
            (tmp_path / "tree" / part / label).mkdir(parents=True, exist_ok=True)
            (tmp_path / "tree" / part / label / f"{i}.txt").write_text(text, "utf-8")
    data = load(tmp_path / "tree")
    assert data.labels == ["negative", "neutral", "positive"]
    assert (len(data.y_train), len(data.y_test)) == (24, 9)  # test/ is the test set
    assert data.test_files[0] == "negative/0.txt"
    held = load(tmp_path / "tree" / "train")  # no test/: a stratified hold-out
    assert np.bincount(held.y_test).tolist() == [2, 2, 2]


def test_the_vocabulary_is_counted_on_the_training_part_only(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "train.csv", labeled_texts(10))
    test = write_csv(
        tmp_path / "test.csv",
        [("zebra " * 5 + "great", "positive"), ("zebra okay", "neutral"), ("awful", "negative")],
    )
    data = load(train, test_data=str(test))
    assert "zebra" not in data.word_index  # seen only in the test file: unknown
    assert (data.x_test[0][-6:-1] == word_ids.OOV).all()
    # The split and the order are fixed: the same every time, whatever the model's seed.
    again = load(train, test_data=str(test))
    np.testing.assert_array_equal(again.x_train, data.x_train)
    assert not (np.diff(data.y_train) == 0).all()  # shuffled: not one label after another


def test_two_labels_and_the_positive_one(tmp_path: Path, capsys) -> None:
    rows = [(text, {"negative": "neg", "positive": "pos"}[label])
            for text, label in labeled_texts(10, labels=("negative", "positive"))]  # fmt: skip
    path = write_csv(tmp_path / "two.csv", rows)
    assert load(path).labels == ["neg", "pos"]  # pos is called positive
    assert "Positive label: 'pos' (class 1" in capsys.readouterr().out
    flipped = load(path, positive_label="neg")
    assert flipped.labels == ["pos", "neg"]
    np.testing.assert_array_equal(flipped.y_test, 1 - load(path).y_test)


def test_labels_that_are_numbers_sort_as_numbers(tmp_path: Path) -> None:
    names = {"negative": "-1", "neutral": "2", "positive": "10"}
    rows = [(text, names[label]) for text, label in labeled_texts(5)]
    assert load(write_csv(tmp_path / "n.csv", rows)).labels == ["-1", "2", "10"]


# --- Bad input: one sentence, exit 2, nothing written -----------------------------------


def _bad_files(tmp: Path) -> dict[str, tuple[Path, list[str], str]]:
    rows = labeled_texts(5)
    good = write_csv(tmp / "good.csv", rows)
    one_label = write_csv(tmp / "one.csv", [(t, "positive") for t, _ in rows])
    lonely = write_csv(tmp / "lonely.csv", rows + [("great great", "rare")])
    ragged = tmp / "ragged.csv"
    ragged.write_text("text,label\ngreat film,positive\nawful, film,negative\n", "utf-8")
    unclosed = tmp / "unclosed.csv"
    unclosed.write_text('text,label\ngreat,positive\n"awful film,negative\nok,neutral\n', "utf-8")
    latin = tmp / "latin.csv"
    latin.write_bytes("text,label\ngreat,positive\ncaf\xe9 awful,negative\n".encode("latin-1"))
    no_text = write_csv(tmp / "no_text.csv", [("", label) for _, label in rows])
    unseen = write_csv(tmp / "unseen.csv", [("great film", "sarcastic")] + rows[:3])
    not_object = tmp / "rows.jsonl"
    not_object.write_text('{"text": "great", "label": "positive"}\n["awful", "negative"]\n')
    (tmp / "empty.csv").write_text("")
    (tmp / "reviews.parquet").write_bytes(b"PAR1")
    many = write_csv(tmp / "many.csv", [(f"text {i}", f"great film {i}") for i in range(10_001)])
    (tmp / "header.csv").write_text("text,label\n")
    nested = tmp / "nested.jsonl"
    nested.write_text('{"text": "great", "label": "positive"}\n' + "[" * 100_000 + "\n")
    copy = tmp / "copy.csv"
    copy.write_bytes(good.read_bytes())
    other = write_csv(tmp / "other.csv", labeled_texts(3, seed=1))
    kaggle = tmp / "labeledTrainData.tsv"  # as Kaggle's IMDB file quotes inside quotes
    kaggle.write_text('id\tsentiment\treview\n"1_9"\t1\t"A \\"superb\\" film"\n'
                      '"2_1"\t0\t"awful"\n', "utf-8")  # fmt: skip
    folders = tmp / "folders"
    for label in ("negative", "positive"):
        (folders / label).mkdir(parents=True)
        (folders / label / "1.txt").write_text(f"a {label} text")
    return {
        "an empty file": (tmp / "empty.csv", [], "holds no rows"),
        "only a header": (tmp / "header.csv", [], "holds no rows"),
        "no such column": (good, ["--text-column", "tweet"],
                           "has no column 'tweet'; its columns are 'text', 'label'"),
        "no such position": (good, ["--text-column", "5", "--label-column", "1"],
                             "there is no column 5"),
        "one label only": (one_label, [], "has one label only ('positive')"),
        "a label too rare to split": (lonely, [], "the label 'rare' has 1 text"),
        "a ragged row": (ragged, [], "line 3, has 3 fields where the header has 2"),
        "an unclosed quote": (unclosed, [], "line 3, opens a quote that is never closed"),
        "not UTF-8": (latin, [], "line 3, is not UTF-8 (byte 0xe9"),
        "an empty text column": (no_text, [], "has no row with both a text and a label"),
        "unseen test labels": (good, ["--test-data", unseen], "labels the training data never"),
        "a positive label that is not one": (good, ["--positive-label", "pos"],
                                             "--positive-label 'pos' is not a label"),
        "a JSON row that is not an object": (not_object, [], "line 2, is a JSON list"),
        "an unknown file kind": (tmp / "reviews.parquet", [], "is not a file this project reads"),
        "the texts as labels": (many, ["--text-column", "label", "--label-column", "text"],
                                "has 10,001 different labels, more than 10,000"),
        "JSON nested thousands deep": (nested, [], "line 2, is JSON nested too deeply"),
        "the training file as the test file": (good, ["--test-data", good],
                                               "holds the very texts of --data"),
        "a copy of it as the test file": (good, ["--test-data", copy], "the very texts"),
        "a test split beside a test file": (good, ["--test-data", other, "--test-split", "0.3"],
                                            "--test-split holds out a share of data that has"),
        "a positive label among three": (good, ["--positive-label", "positive"],
                                         "--positive-label is for data of two labels"),
        "quotes escaped with a backslash": (kaggle, [], "add --escape-char"),
        "a column of class folders": (folders, ["--text-column", "text"],
                                      "--text-column is for a CSV"),
        "an escape in JSON Lines": (not_object, ["--escape-char", "\\"], "JSON has escapes"),
    }  # fmt: skip


@pytest.mark.parametrize("case", [
    "an empty file", "only a header", "no such column", "no such position", "one label only",
    "a label too rare to split", "a ragged row", "an unclosed quote", "not UTF-8",
    "an empty text column", "unseen test labels", "a positive label that is not one",
    "a JSON row that is not an object", "an unknown file kind", "the texts as labels",
    "JSON nested thousands deep", "the training file as the test file",
    "a copy of it as the test file", "a test split beside a test file",
    "a positive label among three", "quotes escaped with a backslash",
    "a column of class folders", "an escape in JSON Lines",
])  # fmt: skip
def test_bad_data_is_one_sentence(run_here, tmp_path: Path, case: str) -> None:
    path, flags, expected = _bad_files(tmp_path)[case]
    out = tmp_path / "out"
    result = run_here("train_cnn.py", "--data", path, "--output-dir", out, "--dry-run", *flags)
    assert_one_sentence_error(result, expected)
    assert files_in(out) == []  # not even an empty out/dry_run/cnn/


@pytest.mark.parametrize("flags, expected", [
    (["--maxlen", "0"], "--maxlen: must be from 10"),
    (["--num-words", "3"], "--num-words: must be from 4"),
    (["--test-split", "1"], "--test-split: must be at least 0 and below 1"),
    (["--text-column", "text"], "--text-column is for your own data"),
    (["--test-split", "0.3"], "--test-split is for your own data"),
    (["--escape-char", "\\"], "--escape-char is for your own data"),
    (["--escape-char", "ab"], "--escape-char: expected one character"),
])  # fmt: skip
def test_bad_flags_are_refused(run_here, tmp_path: Path, tiny_folder: Path, flags, expected):
    result = run_here("train_mlp.py", "--data", tiny_folder, "--output-dir", tmp_path, *flags)
    assert result.returncode == 2 and expected in result.stderr, result.stderr[-2000:]
    assert files_in(tmp_path) == []


# --- Training: two labels as today, three with a softmax --------------------------------


def test_a_model_that_did_not_learn_says_so(run_here, tmp_path: Path, without_exports) -> None:
    """Texts that say nothing of their labels, two thirds of them neutral: the model can do
    no better than answer neutral, and says so in one line, with what helps."""
    rng = np.random.RandomState(0)
    words = SHARED_WORDS
    rows = [(" ".join(rng.choice(words, 6)), "neutral" if i % 3 else "positive" if i % 2 else
             "negative") for i in range(120)]  # fmt: skip
    path = write_csv(tmp_path / "noise.csv", rows)
    result = run_here("train_mlp.py", "--data", path, "--output-dir", tmp_path / "out", *SMALL)
    assert result.returncode == 0, result.stderr[-3000:]
    notes = [line for line in result.stdout.splitlines() if line.startswith("Note: ")]
    assert len(notes) == 1 and "always answering 'neutral'" in notes[0], result.stdout[-2000:]
    assert "the bag of n-grams (train_bow.py)" in notes[0]
    printed_accuracy(result.stdout)  # still the last line


def test_two_labels_give_the_tutorial_model(run_here, tmp_path: Path, without_exports) -> None:
    rows = labeled_texts(20, labels=("negative", "positive"))
    path = write_csv(tmp_path / "two.csv", rows)
    result = run_here("train_cnn.py", "--data", path, "--output-dir", tmp_path / "out", *SMALL)
    assert result.returncode == 0, result.stderr[-3000:]
    model, encoding = common.load_model(tmp_path / "out" / "two_cnn")  # named by its data
    assert model.output_shape == (None, 1) and model.layers[-2].activation.__name__ == "sigmoid"
    assert model.layers[-1].name == "temperature"  # then calibrated: models/calibration.py
    assert encoding.labels == ["negative", "positive"] and encoding.origin["kind"] == "csv"


def test_a_test_file_is_recorded_by_name_and_found_again_beside_the_data(
    run_here, tmp_path: Path, without_exports
) -> None:
    """encoding.json names the test file, not where it lay; analyze_model.py finds it
    beside --data, as the model was tested."""
    folder = tmp_path / "data"
    folder.mkdir()
    train = write_csv(folder / "train.csv", labeled_texts(20, labels=("negative", "positive")))
    test = write_csv(folder / "test.csv", labeled_texts(5, labels=("negative", "positive"), seed=1))
    out = tmp_path / "out"
    result = run_here("train_bow.py", "--data", train, "--test-data", test, "--output-dir", out,
                      *SMALL)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    saved = json.loads((out / "train_bow" / "1" / "encoding.json").read_text())
    assert saved["origin"]["test_data"] == "test.csv" and str(folder) not in json.dumps(saved)
    analyzed = run_here("analyze_model.py", "--models-dir", out, "--model", "train_bow",
                        "--data", train, "--output-dir", tmp_path / "analysis")  # fmt: skip
    assert analyzed.returncode == 0, analyzed.stderr[-3000:]
    assert "on the 10 test texts" in analyzed.stdout, analyzed.stdout[-2000:]


# Russian words for the labels: written in Cyrillic, read as words since tokenizer 2.
CYRILLIC = {"negative": ["ужасный", "скучный", "плохой"], "positive": ["отличный", "чудесный",
            "прекрасный"]}  # fmt: skip


def test_texts_in_another_script_are_read_and_learned(
    run_here, tmp_path: Path, without_exports
) -> None:
    """400 Russian rows once read no word, trained to chance and died at the save."""
    rng = np.random.RandomState(0)
    rows = [(" ".join([*rng.choice(CYRILLIC[label], 2), "фильм", "и", "сюжет"]), label)
            for label in ("negative", "positive") for _ in range(200)]  # fmt: skip
    path = write_csv(tmp_path / "russian.csv", rows)
    result = run_here("train_bow.py", "--data", path, "--output-dir", tmp_path / "out", *SMALL)
    assert result.returncode == 0, result.stderr[-3000:]
    assert printed_accuracy(result.stdout) > 90
    _, encoding = common.load_model(tmp_path / "out" / "russian_bow")
    assert encoding.tokenizer_version == 2 and "отличный" in encoding.word_index
    assert "Note: most of these texts are written without spaces" not in result.stdout


def test_data_without_a_word_to_read_is_refused_and_unspaced_scripts_get_a_note(
    run_here, tmp_path: Path, without_exports
) -> None:
    path = write_csv(
        tmp_path / "emoji.csv", [("😀 👍 !!", "positive"), ("😡 👎 ??", "negative")] * 20
    )
    result = run_here("train_bow.py", "--data", path, "--output-dir", tmp_path / "out", *SMALL)
    assert_one_sentence_error(result, "has a word the model can read")
    assert not (tmp_path / "out").exists()
    rows = [("这部电影非常好看我很喜欢", "positive"), ("这部电影很无聊我不喜欢", "negative")] * 20
    path = write_csv(tmp_path / "chinese.csv", rows)
    result = run_here("train_bow.py", "--data", path, "--output-dir", tmp_path / "out", *SMALL)
    assert result.returncode == 0, result.stderr[-3000:]
    notes = [line for line in result.stdout.splitlines() if line.startswith("Note: most")]
    assert len(notes) == 1 and "without spaces between words" in notes[0]


# Every model on three labels: the CNN is three_model's, below; the others are trained
# on them in their own test files, once (test_train_deep_cnn.py, and in the full run
# test_train_bow.py's bow_short, test_train_ensemble.py, test_train_lstm.py and
# test_train_minilm.py).
SCRIPTS = {  # name: (script, flags)
    "mlp": ("train_mlp.py", []),
    "bow": ("train_bow.py", []),  # one-vs-rest ratios, a softmax over the labels
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_three_labels_train_every_model(run_here, tmp_path: Path, three: Path, name: str):
    script, flags = SCRIPTS[name]
    out = tmp_path / "out"
    result = run_here(script, "--data", three, "--output-dir", out, *SMALL, *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    printed_accuracy(result.stdout)
    assert "  neutral " in result.stdout and "macro F1" in result.stdout  # per-label figures
    assert saved_files(out, f"three_{name}") == SAVED  # named by its data: three.csv
    version = out / f"three_{name}" / "1"
    model, encoding = common.load_model(version)
    assert model.output_shape == (None, 3) and encoding.labels == list(WORDS)
    texts = ["great superb film", "awful boring plot", "okay plain story"]
    expected = model.predict(encoding.encode_texts(texts), verbose=0)
    np.testing.assert_allclose(expected.sum(axis=1), 1.0, atol=1e-5)  # a softmax
    metrics = json.loads((version / "metrics.json").read_text())
    assert metrics["per_label"]["labels"] == list(WORDS)
    assert np.sum(metrics["per_label"]["confusion"]) == 18  # the 18 test texts
    # The export gives one probability per label, and the labels' names.
    exported = tf.saved_model.load(str(version))
    np.testing.assert_allclose(exported.serve(tf.constant(texts)).numpy(), expected, atol=1e-6)
    assert [b.decode() for b in exported.labels().numpy()] == list(WORDS)
    check_portable_files(version, model, encoding.encode_texts(texts))  # ONNX and LiteRT


# --- Downstream: predict, analyze, explore, compare -------------------------------------


@pytest.fixture(scope="module")
def three_model(three: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CNN trained on the three labels (in this process), its models folder: the model
    is three_cnn, named by its data."""
    import train_cnn

    out = tmp_path_factory.mktemp("three_model")
    with pytest.MonkeyPatch.context() as patch:  # what these tests use is model.keras
        skip_exports(patch)
        train_cnn.main(["--data", str(three), "--output-dir", str(out), "--maxlen", "16",
                        "--num-words", "200", "--epochs", "3"])  # fmt: skip
    return out


def on_three(run_here, three_model: Path, script: str, *args) -> object:
    """`script` run on three_model's CNN (three_cnn), as `run_here` runs it."""
    return run_here(script, "--models-dir", three_model, "--model", "three_cnn", *args)


def test_predict_gives_every_label(run_here, three_model: Path, tmp_path: Path) -> None:
    texts = ["great superb loved it", "awful boring worst"]
    result = on_three(run_here, three_model, "predict.py", "--format", "json", *texts)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "learned from three.csv (3 labels: negative, neutral, positive)." in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    model, encoding = common.load_model(three_model / "three_cnn")
    expected = model.predict(encoding.encode_texts(texts), verbose=0)
    for record, row in zip(records, expected, strict=True):
        assert list(record["probabilities"]) == list(WORDS)
        np.testing.assert_allclose(list(record["probabilities"].values()), row, atol=1e-6)
        assert record["label"] == list(WORDS)[int(np.argmax(row))]
        assert record["probability"] == pytest.approx(float(row.max()))
    text = on_three(run_here, three_model, "predict.py", texts[0])
    label = records[0]["label"]
    others = ", ".join(f"{n} {p:.4f}" for n, p in records[0]["probabilities"].items() if n != label)
    assert text.stdout.startswith(f"{records[0]['probability']:.4f}  {label:<8}  ({others})  ")

    page = tmp_path / "why.html"
    explained = on_three(run_here, three_model, "predict.py", "--explain", "--format", "json",
                         "--html", page, *texts)  # fmt: skip
    assert explained.returncode == 0, explained.stderr[-3000:]
    for line in explained.stdout.splitlines():
        record = json.loads(line)
        assert record["explains"] == record["label"]  # the predicted label is explained
        assert [word for word, _ in record["words"]] == common.data.tokenize(record["text"])
    assert "of the label shown" in page.read_text()


def test_analyze_model_per_label(run_here, three_model: Path, three: Path, tmp_path: Path):
    result = on_three(run_here, three_model, "analyze_model.py", "--data", three,
                      "--output-dir", tmp_path, "--show-errors", "2")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((three_model / "three_cnn" / "1" / "metrics.json").read_text())
    assert ", learned from three.csv (3 labels: negative, neutral, positive), on" in result.stdout
    assert f"whole texts:           accuracy {metrics['test_accuracy']:.2%}" in result.stdout
    for label, f1 in zip(WORDS, metrics["per_label"]["f1"], strict=True):
        assert f"  {label:<8}" in result.stdout and f"{f1:.2%}" in result.stdout
    assert (tmp_path / "three_cnn_confusion.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "three_cnn_length.png").exists()


def test_the_model_card_says_what_the_model_does(run_here, three_model: Path, three: Path,
                                                tmp_path: Path) -> None:  # fmt: skip
    version = three_model / "three_cnn" / "1"
    card = (version / "model_card.md").read_text(encoding="utf-8")
    metrics = json.loads((version / "metrics.json").read_text())
    assert card.startswith("# Model card: three_cnn\n\nTrained by `train_cnn.py` on ")
    assert f"| its sha256 | `{common.files.file_sha256(three)}` |" in card
    assert f"| model.keras sha256 | `{metrics['model_sha256']}` |" in card
    # Where the data lay is nobody's business but the trainer's: its name and digest only.
    encoding = json.loads((version / "encoding.json").read_text())
    sha = common.files.file_sha256(three)[:16]
    assert encoding["data_source"] == metrics["data_source"] == f"three.csv (sha256 {sha})"
    assert f"| learned from | three.csv (sha256 {sha}) |" in card
    # It reads the end of a long text, as the card says: what comes first is cut off.
    assert "| reads | the last 16 words of a text (a longer one loses its beginning)" in card
    model, text_encoding = common.load_model(common.find_model("three_cnn", three_model))
    tail = " the" * 30
    first, second = common.scoring.score_texts(model, text_encoding, [f"great loved superb{tail}",
                                                                f"awful{tail}"])  # fmt: skip
    assert first.tobytes() == second.tobytes()
    assert str(three.parent) not in card + json.dumps(encoding)
    assert "| labels tested on | negative 6, neutral 6, positive 6 |" in card
    accuracy = re.search(
        r"Accuracy \*\*([\d.]+)%\*\* \(95% interval ([\d.]+)% to ([\d.]+)%\)", card
    )
    assert accuracy and accuracy[1] == f"{metrics['test_accuracy'] * 100:.2f}"
    assert float(accuracy[2]) <= float(accuracy[1]) <= float(accuracy[3])
    for i, label in enumerate(WORDS):
        figures = metrics["per_label"]
        assert (f"| {label} | {figures['precision'][i]:.2%} | {figures['recall'][i]:.2%} | "
                f"{figures['f1'][i]:.2%} | 6 |") in card  # fmt: skip
    assert f"A temperature of {metrics['calibration']['temperature']:.3f}" in card
    for row in metrics["abstaining"]:
        assert f"| {row['min_confidence']:.4g} | {row['answered']:.2%} |" in card
    assert "| 1-10 | 18 |" in card  # every text is 9 words
    checks = [line for line in card.splitlines() if line.startswith(("| negation", "| intensity",
                                                                     "| invariance"))]  # fmt: skip
    assert len(checks) == len(metrics["behaviour"]) == 7  # negative and positive: all seven
    for line, check in zip(checks, metrics["behaviour"], strict=True):
        assert line.startswith(f"| {check['check']} | {check['passed']} of {check['pairs']} ")

    # analyze_model.py writes the same card for a version saved without one.
    shutil.copytree(three_model, tmp_path / "models")
    (tmp_path / "models" / "three_cnn" / "1" / "model_card.md").unlink()
    result = run_here("analyze_model.py", "--models-dir", tmp_path / "models", "--model",
                      "three_cnn", "--data", three, "--output-dir", tmp_path,
                      "--show-errors", "0", "--write-card")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    written = (tmp_path / "models" / "three_cnn" / "1" / "model_card.md").read_text()
    later = " (this card written later, by analyze_model.py, on the same test texts)."
    assert written.replace(later, ".", 1) == card


def test_explore_embeddings_colours_by_label(run_here, three_model: Path, tmp_path: Path):
    result = on_three(run_here, three_model, "explore_embeddings.py", "--words", "great",
                      "--top", "20", "--output-dir", tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "pushes towards most (compared with the average word): negative" in result.stdout
    assert (tmp_path / "three_cnn_embedding.png").read_bytes().startswith(b"\x89PNG")


def test_compare_models_reads_a_three_label_model(run_here, three_model: Path) -> None:
    result = run_here("compare_models.py", "--output-dir", three_model)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Learned from three.csv:" in result.stdout and "three_cnn" in result.stdout
    assert "Reported in the articles" not in result.stdout  # IMDB's figures: not for these


def test_serve_gives_every_label(run_here, three_model: Path) -> None:
    """serve.py on three labels, in a thread of this process: per text, one probability per
    label, in the order its status lists them, the same as predict.py's."""
    import urllib.request

    import uvicorn

    import serve

    files = common.find_model("three_cnn", three_model)
    model, encoding = common.load_model(files)
    sock = serve.listen("127.0.0.1", 0)
    # log_config=None: uvicorn's own would bind its logs to pytest's captured stderr.
    server = uvicorn.Server(uvicorn.Config(serve.make_app(model, encoding, files),
                                           log_config=None))  # fmt: skip
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/models/three_cnn"

    def ask(verb: str = "", body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        with urllib.request.urlopen(urllib.request.Request(url + verb, data), timeout=30) as r:
            return json.load(r)

    try:
        texts = ["great superb loved it", "awful boring worst", "the film was on tuesday"]
        status = ask()
        labels = status["labels"]
        assert status["learned_from"] == "three.csv"
        predictions = ask(":predict", {"instances": texts})["predictions"]
        explained = ask(":explain", {"instances": texts})["explanations"]
    finally:
        server.should_exit = True
        thread.join(10)
    result = on_three(run_here, three_model, "predict.py", "--format", "json", *texts)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(labels) == 3 and all(len(p) == 3 for p in predictions)
    expected = [[record["probabilities"][label] for label in labels] for record in records]
    np.testing.assert_allclose(predictions, expected, rtol=0, atol=1e-6)
    assert [e["explains"] for e in explained] == [r["label"] for r in records]


def test_rating_texts_cut_each_review_to_its_end_labeled_by_its_stars(
    tiny_archive: Path, tmp_path: Path
) -> None:
    """benchmarks/rating_texts.py: the stars make the label (8: mixed, 2: negative), the
    last sentence or the last sentences up to 30 words the text."""
    script = str(ROOT / "benchmarks" / "rating_texts.py")
    for cut in ("last-sentence", "last-sentences"):
        command = [sys.executable, script, "--data", str(tiny_archive), "--cut", cut]
        result = subprocess.run([*command, str(tmp_path / cut)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        with open(tmp_path / cut / "train.csv", newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        assert len(rows) == 80 and {row["label"] for row in rows} == {"mixed", "negative"}
        assert all(row["text"].strip() for row in rows)
    spec = importlib.util.spec_from_file_location("rating_texts", script)
    rating_texts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rating_texts)
    review = "A first sentence. " + "word " * 25 + "ends here! Last one?"  # 3 + 27 + 2 words
    assert rating_texts.cut(review, "last-sentence") == "Last one?"
    assert rating_texts.cut(review, "last-sentences").startswith("word ")
    assert rating_texts.cut("No end at all", "last-sentence") == "No end at all"
