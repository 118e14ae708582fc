"""explore_dataset.py: end to end on tiny data, an enormous review, the real reviews."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import PNG_MAGIC, files_in, write_dataset


def test_explore_dataset_end_to_end(run_here, tmp_path: Path, tiny_folder: Path) -> None:
    out = tmp_path / "out"
    result = run_here("explore_dataset.py", "--data", tiny_folder, "--output-dir", out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Reviews: X (160,), y (160,)" in result.stdout
    assert "Classes: 0 = negative (50%), 1 = positive (50%)" in result.stdout
    assert "Distinct words: 20" in result.stdout  # 10 neutral + 5 praise + 5 blame words
    assert "Reviews that fit in 500 tokens uncut: 100.0%" in result.stdout
    assert files_in(out) == ["review_length.png"]
    assert (out / "review_length.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.real_data
def test_explore_dataset_on_the_real_reviews(run_script, tmp_path: Path, imdb_data: Path):
    result = run_script("explore_dataset.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Reviews: X (50000,), y (50000,)" in result.stdout
    assert "Classes: 0 = negative (50%), 1 = positive (50%)" in result.stdout


def test_explore_copes_with_an_enormous_review(run_here, tmp_path: Path) -> None:
    reviews = {part: ["a good film", "a bad film"] for part in
               ("train/pos", "train/neg", "test/pos", "test/neg")}  # fmt: skip
    reviews["train/pos"].append("word " * 2_000_000)  # 10 MB in one review
    folder = write_dataset(tmp_path / "data", reviews)
    started = time.perf_counter()
    result = run_here("explore_dataset.py", "--data", folder, "--output-dir", tmp_path / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "from 3 to 2000000 words" in result.stdout
    print(f"explore_dataset.py on a 10 MB review: {time.perf_counter() - started:.1f} s")
