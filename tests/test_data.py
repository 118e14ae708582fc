"""The data layer: encoding conventions, padding, caching, decoding and bad paths."""

from __future__ import annotations

import gzip
import json
import os
import tarfile
from pathlib import Path

import common
from common import data as data_module

import keras
import numpy as np
import pytest
from conftest import ROOT, assert_one_sentence_error, files_in, write_archive, write_dataset

from models import word_ids

# Training words: "bad" and "good" 4 times each (a tie, broken alphabetically),
# "film" 3 times, "a" once. "ending" and "zzz" appear only in the test reviews.
REVIEWS = {
    "train/pos": ["Good good good film!", "A good<br />film."],
    "train/neg": ["Bad film, bad bad bad."],
    "test/pos": ["Good ending"],
    "test/neg": ["Bad ending; zzz"],
}
EXPECTED_RANKS = {"bad": 1, "good": 2, "film": 3, "a": 4, "ending": 5, "zzz": 6}


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "data", REVIEWS)


def load(path: Path, tmp_path: Path, **kwargs) -> common.data.Dataset:
    kwargs.setdefault("num_words", None)
    kwargs.setdefault("maxlen", None)
    return common.data.load_imdb(path, cache_dir=tmp_path / "cache", **kwargs)


def texts_by_label(imdb: common.data.Dataset, split: str) -> dict[str, int]:
    x, y = (imdb.x_train, imdb.y_train) if split == "train" else (imdb.x_test, imdb.y_test)
    return {
        common.data.decode(seq, imdb.word_index): int(label)
        for seq, label in zip(x, y, strict=True)
    }


def test_tokenize_lowercases_and_drops_markup_and_punctuation() -> None:
    assert common.data.tokenize("Great film!<br /><br />I LOVED it.") == [
        "great", "film", "i", "loved", "it",
    ]  # fmt: skip


def test_tokenize_keeps_apostrophes_inside_words_only() -> None:
    assert common.data.tokenize("'Don't' say it\u2019s the director's cut''") == [
        "don't", "say", "it's", "the", "director's", "cut",
    ]  # fmt: skip


def test_tokenize_keeps_letters_beyond_ascii() -> None:
    assert common.data.tokenize("Amélie — 10/10, naïve & charming") == [
        "amélie", "10", "10", "naïve", "charming",
    ]  # fmt: skip


def test_words_are_ranked_by_training_frequency_then_test_only_words(
    small: Path, tmp_path: Path
) -> None:
    assert load(small, tmp_path).word_index == EXPECTED_RANKS


def test_encoding_follows_the_keras_datasets_conventions(small: Path, tmp_path: Path) -> None:
    imdb = load(small, tmp_path)
    encoded = {tuple(seq.tolist()) for seq in imdb.x_train}
    # start token 1, then rank + 3: good=5, film=6, bad=4, a=7
    assert encoded == {(1, 5, 5, 5, 6), (1, 7, 5, 6), (1, 4, 6, 4, 4, 4)}
    assert texts_by_label(imdb, "train") == {
        "good good good film": 1,
        "a good film": 1,
        "bad film bad bad bad": 0,
    }
    assert texts_by_label(imdb, "test") == {"good ending": 1, "bad ending zzz": 0}


def test_num_words_turns_rarer_words_into_the_oov_token(small: Path, tmp_path: Path) -> None:
    imdb = load(small, tmp_path, num_words=6)  # keeps indices 0-5: "bad" (4) and "good" (5)
    assert {tuple(seq.tolist()) for seq in imdb.x_train} == {
        (1, 5, 5, 5, 2), (1, 2, 5, 2), (1, 4, 2, 4, 4, 4),
    }  # fmt: skip
    assert all(seq.max() < 6 for seq in imdb.x_test)


def test_every_word_clipped_then_padded_is_what_the_loader_gives(
    small: Path, tmp_path: Path
) -> None:
    """A benchmark loads every word once and derives the models' arrays from it."""
    whole = load(small, tmp_path)
    derived = whole.clipped(6).padded(5)
    direct = load(small, tmp_path, num_words=6, maxlen=5)
    assert derived.num_words == 6 and derived.maxlen == 5
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(derived, name), getattr(direct, name)), name
    assert max(seq.max() for seq in whole.x_train) >= 6  # the whole data was not clipped


def test_padding_and_truncation_happen_at_the_front(small: Path, tmp_path: Path) -> None:
    imdb = load(small, tmp_path, maxlen=5)
    assert imdb.x_train.shape == (3, 5) and imdb.x_train.dtype == np.int32
    rows = {tuple(row.tolist()) for row in imdb.x_train}
    assert (0, 1, 7, 5, 6) in rows  # "a good film": padded in front
    assert (1, 4, 6, 4, 4) not in rows and (4, 6, 4, 4, 4) in rows  # cut in front


def test_the_training_order_is_shuffled_the_same_way_every_time(tmp_path: Path) -> None:
    reviews = {part: [f"review {part} number {i}" for i in range(30)] for part in REVIEWS}
    folder = write_dataset(tmp_path / "data", reviews)
    first = load(folder, tmp_path / "a")
    second = load(folder, tmp_path / "b")  # a separate cache: encoded again from the files
    assert all(np.array_equal(a, b) for a, b in zip(first.x_train, second.x_train, strict=True))
    assert np.array_equal(first.y_train, second.y_train)
    assert 0 < first.y_train[:30].sum() < 30, "the labels should be mixed, not sorted"


def test_an_archive_and_its_extracted_folder_give_the_same_data(
    small: Path, tmp_path: Path
) -> None:
    from_folder = load(small.parent, tmp_path / "a")  # the folder that holds aclImdb/
    from_archive = load(write_archive(small, tmp_path / "a.tar.gz"), tmp_path / "b")
    assert from_folder.word_index == from_archive.word_index
    for name in ("x_train", "x_test", "y_train", "y_test"):
        a, b = getattr(from_folder, name), getattr(from_archive, name)
        assert len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_the_second_load_comes_from_the_cache(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = write_archive(small, tmp_path / "a.tar.gz")
    first = load(archive, tmp_path, maxlen=8)
    assert len(list((tmp_path / "cache").glob("imdb_local_*.npz"))) == 1

    def no_reading(*args: object) -> None:
        raise AssertionError("the reviews were read again instead of coming from the cache")

    monkeypatch.setattr(data_module, "_read_archive", no_reading)
    second = load(archive, tmp_path, maxlen=8)
    assert np.array_equal(first.x_train, second.x_train)
    assert second.word_index == first.word_index


def test_a_changed_archive_is_read_again_not_served_from_a_stale_cache(
    small: Path, tmp_path: Path
) -> None:
    archive = write_archive(small, tmp_path / "a.tar.gz")
    assert len(load(archive, tmp_path).x_train) == 3
    (small / "train" / "neg" / "9_1.txt").write_text("Bad, bad film.", "utf-8")
    write_archive(small, archive)  # same path, new content
    assert len(load(archive, tmp_path).x_train) == 4
    assert len(list((tmp_path / "cache").glob("imdb_local_*.npz"))) == 2


def test_a_changed_folder_is_read_again(small: Path, tmp_path: Path) -> None:
    assert load(small, tmp_path).word_index["zzz"] == 6
    review = small / "test" / "neg" / "0_2.txt"
    before = review.stat()
    review.write_text("Bad ending; yyy", "utf-8")  # as many bytes as "Bad ending; zzz"
    os.utime(review, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time
    assert "yyy" in load(small, tmp_path).word_index


def test_folders_with_equal_names_sizes_and_times_get_their_own_caches(tmp_path: Path) -> None:
    first = write_dataset(tmp_path / "a", REVIEWS)
    second = write_dataset(tmp_path / "b", {**REVIEWS, "test/neg": ["Bad ending; yyy"]})
    for folder in (first, second):
        for file in folder.rglob("*.txt"):
            os.utime(file, ns=(1, 1))
    assert "zzz" in load(first, tmp_path).word_index
    assert "yyy" in load(second, tmp_path).word_index


def test_a_damaged_cache_file_is_rebuilt(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = load(small, tmp_path).word_index
    (cache_file,) = (tmp_path / "cache").glob("imdb_local_*.npz")
    cache_file.write_bytes(b"not a numpy file")
    assert load(small, tmp_path).word_index == expected
    assert "rebuilding" in capsys.readouterr().err


@pytest.mark.parametrize(
    "damage",
    [
        lambda arrays: arrays.pop("y_test"),
        lambda arrays: arrays.update(words=np.frombuffer(b"bad\xff\xfeword", np.uint8)),
        lambda arrays: arrays.update(y_train=arrays["y_train"][:-1]),
        lambda arrays: arrays.update(test_ends=arrays["test_ends"][:-1]),
        lambda arrays: arrays.update(x_train=arrays["x_train"] + 1000),
    ],
    ids=["a-missing-array", "words-not-utf8", "short-labels", "short-boundaries", "ids-too-big"],
)
def test_a_valid_cache_file_with_bad_contents_is_rebuilt(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage
) -> None:
    expected = load(small, tmp_path)
    (cache_file,) = (tmp_path / "cache").glob("imdb_local_*.npz")
    with np.load(cache_file) as cached:
        arrays = {key: cached[key] for key in cached.files}
    damage(arrays)
    np.savez(cache_file, **arrays)
    again = load(small, tmp_path)
    assert "rebuilding" in capsys.readouterr().err
    assert again.word_index == expected.word_index
    assert all(np.array_equal(a, b) for a, b in zip(again.x_train, expected.x_train, strict=True))
    with np.load(cache_file) as cached:  # and the rebuilt cache is whole again
        assert len(cached["y_train"]) == len(expected.y_train)


def test_encode_is_the_encoder_of_the_training_data(small: Path, tmp_path: Path) -> None:
    imdb = load(small, tmp_path)
    for text in REVIEWS["train/pos"] + REVIEWS["train/neg"]:
        encoded = common.data.encode(text, imdb.word_index)
        assert any(np.array_equal(encoded, seq) for seq in imdb.x_train), text
    assert common.data.encode("good unheardof", imdb.word_index).tolist() == [1, 5, word_ids.OOV]
    assert common.data.encode("good film", imdb.word_index, num_words=6).tolist() == [1, 5, 2]


def test_decode_drops_padding_and_marks_unknown_words(small: Path, tmp_path: Path) -> None:
    imdb = load(small, tmp_path)
    assert common.data.decode([0, 0, 1, 5, 2, 6], imdb.word_index) == "good <unk> film"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nowhere", "no such file or folder"),
        (
            lambda p: write_dataset(p / "d", {}).parent / "aclImdb" / "train",
            "no train/neg, train/pos, test/neg, test/pos folders",
        ),
        (lambda p: _without(write_dataset(p / "d", REVIEWS), "test/neg"), "no test/neg folder"),
        (lambda p: write_dataset(p / "d", {"train/pos": ["good"]}), "no reviews in train/neg"),
        (lambda p: _write(p / "x.tar.gz", b"this is not an archive"), "damaged or incomplete"),
        (lambda p: _truncated_archive(p), "damaged or incomplete"),
        (lambda p: _write(p / "x.tar.gz", gzip.compress(b"\0" * 10240)), "no reviews in"),
        (lambda p: _flipped_near_the_end(p), "damaged or incomplete"),
        (lambda p: _tar_cut_between_members(p), "damaged or incomplete"),
        (lambda p: _tar_with_a_damaged_header(p), "damaged or incomplete"),
        (lambda p: _fifo(p), "neither a regular file nor a folder"),
        (lambda p: Path("/dev/zero"), "neither a regular file nor a folder"),
    ],
    ids=[
        "missing",
        "no-folders",
        "no-test-neg",
        "empty-folders",
        "not-an-archive",
        "truncated",
        "empty-archive",
        "flipped-byte",
        "tar-cut-between-members",
        "damaged-header",
        "fifo",
        "dev-zero",
    ],  # fmt: skip
)
def test_bad_data_paths_give_one_clear_sentence(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(common.UserError, match=message) as caught:
        load(make(tmp_path), tmp_path)
    assert "\n" not in str(caught.value)
    assert not list((tmp_path / "cache").glob("*.npz")), "nothing is cached from bad data"


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _without(folder: Path, part: str) -> Path:
    for file in (folder / part).iterdir():
        file.unlink()
    (folder / part).rmdir()
    return folder


def _truncated_archive(tmp_path: Path) -> Path:
    archive = write_archive(write_dataset(tmp_path / "d", REVIEWS), tmp_path / "full.tar.gz")
    return _write(tmp_path / "x.tar.gz", archive.read_bytes()[: archive.stat().st_size // 2])


def _flipped_near_the_end(tmp_path: Path) -> Path:
    """One byte flipped at 99.9% of the archive: gzip's CRC no longer matches."""
    content = bytearray(write_archive(write_dataset(tmp_path / "d", REVIEWS), tmp_path / "f.tgz")
                        .read_bytes())  # fmt: skip
    content[int(len(content) * 0.999)] ^= 0xFF
    return _write(tmp_path / "x.tar.gz", bytes(content))


def _plain_tar(tmp_path: Path) -> tuple[bytes, list[tarfile.TarInfo]]:
    folder = write_dataset(tmp_path / "d", REVIEWS)
    with tarfile.open(tmp_path / "plain.tar", "w") as archive:
        archive.add(folder, arcname="aclImdb")
    with tarfile.open(tmp_path / "plain.tar") as archive:
        members = archive.getmembers()
    return (tmp_path / "plain.tar").read_bytes(), members


def _tar_cut_between_members(tmp_path: Path) -> Path:
    """A plain .tar that stops right before a member's header: it looks like a shorter one."""
    content, members = _plain_tar(tmp_path)
    return _write(tmp_path / "x.tar", content[: members[-3].offset])


def _tar_with_a_damaged_header(tmp_path: Path) -> Path:
    """A member header in the middle with a wrong checksum."""
    content = bytearray(_plain_tar(tmp_path)[0])
    offset = _plain_tar(tmp_path)[1][-3].offset
    content[offset : offset + 4] = b"XXXX"
    return _write(tmp_path / "x.tar", bytes(content))


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "fifo")
    return tmp_path / "fifo"


# --- The keras.datasets source, with the download replaced by a small fake ------------


def test_the_keras_source_is_clipped_and_padded_like_the_local_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {}

    def fake_load_data(**kwargs):
        calls.update(kwargs)
        x = np.empty(2, dtype=object)
        x[:] = [[1, 14, 22, 16], [1, 194, 2]]
        return (x, np.array([1, 0])), (x[::-1], np.array([0, 1]))

    monkeypatch.setattr(keras.datasets.imdb, "load_data", fake_load_data)
    monkeypatch.setattr(keras.datasets.imdb, "get_word_index", lambda: {"the": 1, "film": 11})
    imdb = common.data.load_imdb(None, num_words=5000, maxlen=6)
    assert calls == {"num_words": 5000, "start_char": 1, "oov_char": 2, "index_from": 3}
    assert imdb.x_train.tolist() == [[0, 0, 1, 14, 22, 16], [0, 0, 0, 1, 194, 2]]
    assert imdb.y_test.tolist() == [0, 1]
    assert imdb.source == "keras.datasets.imdb"
    assert common.data.decode(imdb.x_train[0], imdb.word_index) == "film <unk> <unk>"


def test_a_failed_download_says_how_to_work_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(**kwargs):
        raise Exception("URL fetch failure on https://example.invalid/imdb.npz: None")

    monkeypatch.setattr(keras.datasets.imdb, "load_data", no_network)
    with pytest.raises(common.UserError, match=r"could not download .* --data PATH"):
        common.data.load_imdb(None)


@pytest.mark.parametrize("script", ["train_mlp.py", "train_cnn.py", "explore_dataset.py"])
def test_a_missing_data_path(run_here, tmp_path: Path, script: str) -> None:
    out = tmp_path / "out"
    result = run_here(script, "--data", tmp_path / "nowhere.tar.gz", "--output-dir", out)
    assert_one_sentence_error(result, "no such file or folder")
    assert not out.exists(), "a failed run leaves no empty output folder behind"


def test_a_folder_that_is_not_the_dataset(run_here, tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "d", {"train/pos": ["good"]})
    (folder / "test" / "neg").rmdir()
    out = tmp_path / "out"
    result = run_here("train_cnn.py", "--data", folder, "--output-dir", out)
    assert_one_sentence_error(result, "has no test/neg folder")
    assert files_in(out) == []


def test_a_corrupt_archive(run_here, tmp_path: Path, tiny_archive: Path) -> None:
    corrupt = tmp_path / "aclImdb_v1.tar.gz"
    corrupt.write_bytes(tiny_archive.read_bytes()[:2000])  # a download cut short
    out = tmp_path / "out"
    result = run_here("train_mlp.py", "--data", corrupt, "--output-dir", out)
    assert_one_sentence_error(result, "is damaged or incomplete")
    assert files_in(out) == []


def test_hidden_files_in_the_review_folders_are_not_reviews(tmp_path: Path) -> None:
    """An aclImdb/ folder copied from a Mac holds ._0_8.txt beside 0_8.txt."""
    from conftest import learnable_reviews, write_dataset

    folder = write_dataset(tmp_path / "data", learnable_reviews(per_folder=2))
    plain = common.data.load_imdb(folder, cache_dir=tmp_path / "cache")
    (folder / "train" / "pos" / "._0_8.txt").write_bytes(b"\x00\x05\x16\x07 Mac OS X")
    hidden = common.data.load_imdb(folder, cache_dir=tmp_path / "cache")
    assert len(hidden.x_train) == len(plain.x_train) == 4


def test_the_word_characters_of_every_script_are_unicodes_letters_marks_and_numbers() -> None:
    """word_characters.json, rebuilt from Python's Unicode tables where they are its version."""
    import unicodedata

    saved = json.loads((ROOT / "common" / "word_characters.json").read_text())
    if unicodedata.unidata_version != saved["unicode"]:
        pytest.skip(f"Python's Unicode is {unicodedata.unidata_version}, not {saved['unicode']}")
    ranges: list[list[int]] = []
    for c in range(0x110000):
        if unicodedata.category(chr(c))[0] in "LMN":
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
    assert saved["ranges"] == ranges
    assert common.data.WORD_CHARACTERS[2] == tuple(map(tuple, ranges))
