"""Confident learning (models/label_issues.py) and find_label_issues.py on texts written here."""

from __future__ import annotations

import contextlib
import csv
import errno
import tempfile
from pathlib import Path

import common

import numpy as np
import pytest
from conftest import assert_one_sentence_error, labeled_texts, write_csv

from models.label_issues import confident_joint, find_label_issues


def test_the_confident_joint_counts_given_against_confident_labels() -> None:
    # Label 0's threshold is the mean of p0 over rows given 0: (0.9 + 0.8 + 0.1) / 3 = 0.6;
    # label 1's: (0.9 + 0.7) / 2 = 0.8. Row 2 (given 0) is confidently 1; row 4 is
    # above no threshold and is not counted.
    p1 = np.array([0.1, 0.2, 0.9, 0.9, 0.7])
    probabilities = np.stack([1 - p1, p1], axis=1)
    given = np.array([0, 0, 0, 1, 1])
    # Counted: (0, 0) twice, (0, 1) once, (1, 1) once; scaled to 3 and 2 rows given.
    np.testing.assert_allclose(confident_joint(probabilities, given), [[2, 1], [0, 2]])
    assert find_label_issues(probabilities, given).tolist() == [2]


def test_suspects_are_ranked_by_the_probability_of_their_given_label() -> None:
    rng = np.random.RandomState(0)
    given = np.repeat([0, 1, 2], 50)
    probabilities = np.full((150, 3), 0.05)
    probabilities[np.arange(150), given] = 0.9  # the model agrees with every label...
    # ... but these, sure of another label (above its threshold): row: (that label, p).
    wrong = {3: (1, 0.95), 60: (2, 0.92), 120: (0, 0.97)}
    for row, (label, p) in wrong.items():
        probabilities[row] = (1 - p) / 2
        probabilities[row, label] = p
    probabilities += rng.uniform(0, 0.01, probabilities.shape)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    suspects = find_label_issues(probabilities, given)
    assert suspects.tolist() == [120, 3, 60]  # p(given): 0.015, 0.025, 0.04
    # A row whose given label is the model's top label is never a suspect.
    assert find_label_issues(probabilities[:50], given[:50]).tolist() == []


def flipped_file(path: Path) -> tuple[Path, set[int]]:
    """A CSV of two labels, 40 texts each, a text over two lines, and 5 labels flipped:
    the file and the lines of the flipped rows."""
    rows = labeled_texts(40, labels=("negative", "positive"))
    rows[0] = (rows[0][0].replace(" ", "\n", 1), rows[0][1])  # line 2 holds lines 2 and 3
    flipped = {5, 22, 41, 60, 77}
    for i in flipped:
        text, label = rows[i]
        rows[i] = (text, "positive" if label == "negative" else "negative")
    write_csv(path, rows)
    return path, {i + 3 for i in flipped}  # the header, and row 0's second line


@contextlib.contextmanager
def full_disk(path: Path):
    """common.files.atomic_path on a disk with no space left."""
    raise OSError(errno.ENOSPC, "No space left on device")
    yield path


def test_find_label_issues_finds_the_flipped_rows_by_their_lines(
    run_here, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, lines = flipped_file(tmp_path / "reviews.csv")
    issues = tmp_path / "issues.csv"
    flags = ["--folds", "3", "--maxlen", "16", "--num-words", "100", "--batch-size", "8"]
    result = run_here("find_label_issues.py", "--data", data, *flags, "--top", "5",
                      "--output", issues)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    with open(issues, encoding="utf-8", newline="") as file:
        flagged = list(csv.DictReader(file))
    assert list(flagged[0]) == ["line", "given", "suggested", "score", "text"]
    assert {int(row["line"]) for row in flagged[:5]} == lines  # the five flipped, first
    scores = [float(row["score"]) for row in flagged]
    assert scores == sorted(scores)  # the least likely given label first
    text_at = {}  # each row's text by the line it starts on, read as the csv module reads it
    with open(data, encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        next(reader)
        start = 2
        for text, label in reader:
            text_at[start] = (text, label)
            start = reader.line_num + 1
    for row in flagged:
        assert (row["text"], row["given"]) == text_at[int(row["line"])]
        assert row["suggested"] != row["given"]
    assert f"Flagged {len(flagged)} of 80 rows" in result.stdout
    # The same fitting on a disk that fills at the end: one sentence, the old file kept.
    monkeypatch.setattr(common.files, "atomic_path", full_disk)
    result = run_here("find_label_issues.py", "--data", data, *flags, "--top", "5",
                      "--output", issues)  # fmt: skip
    assert_one_sentence_error(result, f"cannot write --output {str(issues)!r}: No space left")
    assert list(csv.DictReader(issues.open(encoding="utf-8", newline=""))) == flagged
    printed = [line for line in result.stdout.splitlines() if line.startswith("  line ")]
    assert [int(line.split()[1].rstrip(":")) for line in printed] == [
        int(row["line"]) for row in flagged[:5]
    ]


UNWRITABLE = Path("/sys/kernel")  # not even root may create a file there


def writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@pytest.mark.parametrize(
    "case, expected",
    [
        ("no data", "the following arguments are required: --data"),
        ("output is the data", "--output is the --data file"),
        ("imdb", "is the IMDB dataset"),
        ("too few rows", "fewer than --folds 5"),
        ("no such folder", "its folder does not exist"),
        ("a folder it may not write", "cannot write in its folder"),
    ],
)
def test_bad_input_is_one_sentence(run_here, tmp_path: Path, tiny_folder: Path, case, expected):
    data = write_csv(tmp_path / "few.csv", labeled_texts(2, labels=("negative", "positive")))
    before = data.read_bytes()
    flags = {"no data": [], "output is the data": ["--data", data, "--output", data],
             "imdb": ["--data", tiny_folder], "too few rows": ["--data", data],
             "no such folder": ["--data", data, "--output", tmp_path / "no" / "issues.csv"],
             "a folder it may not write": ["--data", data, "--output", UNWRITABLE / "issues.csv"],
             }[case]  # fmt: skip
    if case == "a folder it may not write" and writable(UNWRITABLE):
        pytest.skip(f"{UNWRITABLE} is writable here")
    result = run_here("find_label_issues.py", *flags)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert data.read_bytes() == before


@pytest.mark.slow  # three trainings, each in a process of its own
def test_any_training_script_can_score_the_folds(run_here, tmp_path: Path) -> None:
    data, lines = flipped_file(tmp_path / "reviews.csv")
    issues = tmp_path / "issues.csv"
    result = run_here("find_label_issues.py", "--data", data, "--folds", "3", "--maxlen", "16",
                      "--num-words", "100", "--script", "train_mlp.py", "--epochs", "10",
                      "--batch-size", "8", "--output", issues)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("train_mlp.py on 5") == 3  # 53 or 54 rows a fold
    with open(issues, encoding="utf-8", newline="") as file:
        flagged = [int(row["line"]) for row in csv.DictReader(file)]
    assert len(set(flagged[:5]) & lines) >= 3  # an MLP on 53 texts: most of the flipped first


def test_a_script_that_is_not_a_training_script_is_refused(run_here, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "few.csv", labeled_texts(4, labels=("negative", "positive")))
    result = run_here("find_label_issues.py", "--data", data, "--script", "predict.py")
    assert result.returncode == 2 and "invalid choice: 'predict.py'" in result.stderr
