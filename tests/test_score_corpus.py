"""score_corpus.py: every line of a glob scored once, as predict.py scores it; bad lines
reported, not fatal; and common/texts.py, which reads the files."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import logging
import lzma
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import common
from common.texts import EMPTY, NO_TEXT, NO_WORDS, NOT_A_ROW, NOT_UTF8, TOO_LONG, Skip, Text

import pytest
import zstandard
from conftest import ONE_THREAD, ROOT, assert_one_sentence_error


def read(data: bytes, source: str, column: str | int | None = None) -> list:
    return list(common.texts.read_texts(io.BytesIO(data), source, column))


def texts(found: list) -> list[tuple[int, str]]:
    return [(item.line, item.text) for item in found if isinstance(item, Text)]


def skips(found: list) -> list[tuple[int, str]]:
    return [(item.line, item.kind) for item in found if isinstance(item, Skip)]


# ## Reading the files


def test_lines_of_text_keep_their_numbers_and_skip_what_cannot_be_scored(monkeypatch) -> None:
    monkeypatch.setattr(common.texts, "MAX_LINE_BYTES", 20)
    data = b"".join([
        b"\xef\xbb\xbfgreat film\r\n",  # a byte-order mark and a CRLF: neither is the text's
        b"\n",
        b"bad \xff byte\n",
        b"!!!\n",
        b"long " * 10 + b"\n",  # 50 bytes: read past, not held
        "not bad\u2028at all\n".encode(),  # U+2028 ends no line
        b"x" * 21 + b"\n",  # one byte over, its line feed within reach
        b"y" * 20 + b"\r\n",  # the limit: a line end is not counted
        b"no line feed",
    ])  # fmt: skip
    found = read(data, "reviews.txt")
    assert texts(found) == [
        (1, "great film"),
        (6, "not bad\u2028at all"),
        (8, "y" * 20),
        (9, "no line feed"),
    ]
    assert skips(found) == [(2, EMPTY), (3, NOT_UTF8), (4, NO_WORDS), (5, TOO_LONG), (7, TOO_LONG)]
    reason = next(s.reason for s in found if isinstance(s, Skip) and s.kind == NOT_UTF8)
    assert reason == "is not UTF-8 (byte 0xff at column 5, offset 20)"  # after 15 + 1 + 4 bytes


def test_a_csv_text_spanning_lines_is_placed_at_the_line_it_starts_on() -> None:
    data = b'id,Review\n1,"great, truly\ngreat"\n\n2\n3,""\n4,"fine"\n5,"bad"x,y\n6,awful\n'
    found = read(data, "data/reviews.CSV.gz")
    assert texts(found) == [(2, "great, truly\ngreat"), (7, "fine"), (9, "awful")]
    assert skips(found) == [(5, NO_TEXT), (6, EMPTY), (8, NOT_A_ROW)]
    assert found[1].reason == "has no field 'Review'"


def test_a_table_without_its_column_is_skipped_whole_in_one_line() -> None:
    found = read(b"id,body\n1,great\n2,awful\n", "a.tsv")  # a TSV: one column, "id,body"
    assert texts(found) == [] and skips(found) == [(1, NO_TEXT)]
    assert "--text-column" in found[0].reason
    assert texts(read(b"1\tgreat\n2\tawful\n", "a.tsv", column=1)) == [(1, "great"), (2, "awful")]
    assert texts(read(b"id,body\n1,great\n", "a.csv", column="body")) == [(2, "great")]


def test_json_lines_take_the_named_key_or_one_named_as_a_text_is() -> None:
    data = b'{"Text": "great"}\n[1]\n{"text": 5}\nnot json\n\n{"id": 1}\n{"body": "awful"}\n'
    found = read(data, "a.jsonl.bz2")
    assert texts(found) == [(1, "great"), (7, "awful")]
    assert skips(found) == [(2, NOT_A_ROW), (3, NO_TEXT), (4, NOT_A_ROW), (5, EMPTY), (6, NO_TEXT)]
    assert found[2].reason == "has a number as its 'text', not a string"
    assert texts(read(data, "a.jsonl", column="body")) == [(7, "awful")]


def test_file_kinds_by_name() -> None:
    kinds = {name: common.labeled.table_kind(name) for name in (
        "a.csv", "a.TSV.gz", "a.jsonl.zst", "a.txt", "a.txt.gz", "csv", "a.csv.txt")}  # fmt: skip
    assert kinds == {"a.csv": ".csv", "a.TSV.gz": ".tsv", "a.jsonl.zst": ".jsonl",
                     "a.txt": None, "a.txt.gz": None, "csv": None, "a.csv.txt": None}  # fmt: skip


# ## The pipeline, end to end


@pytest.fixture
def quiet_beam():
    """score_corpus.py, run or imported in this process, sets the levels of the root logger
    (quiet while Beam loads) and of Beam's (errors are raised): restored after."""
    loggers = [logging.getLogger(), logging.getLogger("apache_beam")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three files of every kind, with lines that cannot be scored among the texts."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_bytes(
        b"great wonderful film\n\nawful \xff boring\n?!\nThe camera loved the actor!\n"
    )
    with gzip.open(folder / "b.csv.gz", "wt", encoding="utf-8", newline="") as file:
        file.write('id,review\n1,"the worst plot,\nboring"\n2\n3,great acting\n')
    (folder / "c.jsonl").write_text('{"text": "not bad at all"}\n{"text": null}\n')
    return folder


EXPECTED = {  # (file, line): text
    ("a.txt", 1): "great wonderful film",
    ("a.txt", 5): "The camera loved the actor!",
    ("b.csv.gz", 2): "the worst plot,\nboring",
    ("b.csv.gz", 5): "great acting",
    ("c.jsonl", 1): "not bad at all",
}
SKIPPED = {("a.txt", 2): EMPTY, ("a.txt", 3): NOT_UTF8, ("a.txt", 4): NO_WORDS,
           ("b.csv.gz", 4): NO_TEXT, ("c.jsonl", 2): NO_TEXT}  # fmt: skip


def shards(prefix: Path, kind: str = "") -> list[dict]:
    files = sorted(prefix.parent.glob(f"{prefix.name}{kind}-*-of-*.jsonl"))
    assert files, f"no shard of {prefix}{kind}"
    return [json.loads(line) for file in files for line in file.read_text().splitlines()]


def score(run, trained: Path, corpus: Path, prefix: Path, *flags: str) -> list[dict]:
    """score_corpus.py's records of `corpus` (`run`: run_script, or run_here in this process),
    after checking what it skipped and said."""
    result = run("score_corpus.py", "--model", trained, "--input", corpus / "*",
                 "--output", prefix, *flags)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    scored, skipped = result.stderr.splitlines()[-2:]
    assert scored.startswith("Scored 5 texts") and scored.endswith(f": {prefix}-*.jsonl.")
    assert skipped == (
        f"Skipped 5 lines (2 no text, 1 empty, 1 no words, 1 not UTF-8): {prefix}.skipped-*.jsonl."
    )
    skipped = shards(prefix, ".skipped")
    assert {
        (Path(s["source"]).name, s["line"]): s["reason"] for s in skipped
    }.keys() == SKIPPED.keys()
    return shards(prefix)


def test_every_line_is_scored_once_as_predict_py_scores_it(
    run_here, quiet_beam, trained: Path, corpus: Path, tmp_path: Path
) -> None:
    records = score(run_here, trained, corpus, tmp_path / "scores" / "part")
    # Each text once, at its file and line, with every field predict.py gives it.
    assert sorted((Path(r["source"]).name, r["line"]) for r in records) == sorted(EXPECTED)
    by_place = {(Path(r["source"]).name, r["line"]): r for r in records}
    assert all(by_place[place]["text"] == text for place, text in EXPECTED.items())
    result = run_here("predict.py", "--model", trained, "--format", "json", *EXPECTED.values())
    assert result.returncode == 0, result.stderr[-3000:]
    for place, expected in zip(EXPECTED, map(json.loads, result.stdout.splitlines()), strict=True):
        found = by_place[place]
        assert found.keys() == {"source", "line", *expected}
        assert found["label"] == expected["label"]
        for label, probability in expected["probabilities"].items():
            assert abs(found["probabilities"][label] - probability) <= 1e-6


@pytest.mark.slow
def test_two_workers_give_the_same_records(
    run_script, trained: Path, corpus: Path, tmp_path: Path
) -> None:
    one = score(run_script, trained, corpus, tmp_path / "one" / "part")
    two = score(run_script, trained, corpus, tmp_path / "two" / "part", "--workers", "2",
                "--min-confidence", "0.9")  # fmt: skip
    assert all(r["abstained"] == (max(r["probabilities"].values()) < 0.9) for r in two)
    assert all(r["label"] is None for r in two if r["abstained"])

    def key(record: dict) -> tuple:
        return record["source"], record["line"]

    for a, b in zip(sorted(one, key=key), sorted(two, key=key), strict=True):
        assert key(a) == key(b) and a["probabilities"] == pytest.approx(
            b["probabilities"], abs=1e-6
        )


# ## Bad input: one sentence, exit 2, nothing written


@pytest.fixture
def run_corpus(run_here, quiet_beam):
    """run_here for score_corpus.py."""
    return lambda *args: run_here("score_corpus.py", *args)


def test_a_glob_matching_nothing(run_corpus, trained: Path, tmp_path: Path) -> None:
    args = ["--model", trained, "--output", tmp_path / "out" / "part"]
    result = run_corpus("--input", tmp_path / "nothing" / "*.txt", *args)
    assert_one_sentence_error(result, "matches no file")
    assert not (tmp_path / "out").exists()


def test_a_model_that_is_not_there(run_corpus, corpus: Path, tmp_path: Path) -> None:
    result = run_corpus("--model", tmp_path / "none", "--input", corpus / "*", "--output",
                        tmp_path / "out" / "part")  # fmt: skip
    assert_one_sentence_error(result, "there is no model at")


def test_an_earlier_runs_shards_are_not_mixed_in(
    run_corpus, trained: Path, corpus: Path, tmp_path: Path
) -> None:
    (tmp_path / "part-00000-of-00003.jsonl").write_text("{}\n")
    result = run_corpus("--model", trained, "--input", corpus / "*", "--output", tmp_path / "part")
    assert_one_sentence_error(result, "is there from an earlier run")
    result = run_corpus("--model", trained, "--input", corpus / "*", "--output", tmp_path)
    assert_one_sentence_error(result, "is a folder: give a prefix")


def test_a_flag_neither_ours_nor_beams(
    run_corpus, trained: Path, corpus: Path, tmp_path: Path
) -> None:
    result = run_corpus("--model", trained, "--input", corpus / "*", "--output",
                        tmp_path / "part", "--wrokers", "2")  # fmt: skip
    assert_one_sentence_error(result, "unrecognized argument --wrokers")


@pytest.fixture
def score_corpus(quiet_beam):
    """The script as a module."""
    import score_corpus

    return score_corpus


@pytest.mark.parametrize("damage", ["cut", "flipped"])
def test_a_damaged_compressed_file_keeps_what_came_before_and_says_where(
    score_corpus, tmp_path: Path, damage: str
) -> None:
    from apache_beam.io.fileio import ReadableFile
    from apache_beam.io.filesystem import FileMetadata

    whole = gzip.compress("".join(f"great film number {n}\n" for n in range(1, 50_001)).encode())
    damaged = whole[: len(whole) // 2] if damage == "cut" else whole[:-8] + b"\0" * 8
    path = tmp_path / "reviews.txt.gz"
    path.write_bytes(damaged)
    found = list(score_corpus.ReadTexts(None).process(ReadableFile(FileMetadata(str(path), 0))))
    texts, last = found[:-1], found[-1]
    assert [line for (_, line), _ in texts] == list(range(1, len(texts) + 1))
    assert texts and all(text == f"great film number {line}" for (_, line), text in texts)
    skip = json.loads(last.value)
    assert skip["line"] == len(texts) + 1 and skip["reason"].startswith(
        f"cannot be read after line {len(texts):,} ("
    )


def corpus_command(trained: Path, corpus: Path, prefix: Path) -> list[str]:
    """score_corpus.py on one file, as a user runs it."""
    return [sys.executable, str(ROOT / "score_corpus.py"), "--model", str(trained), "--input",
            str(corpus), "--output", str(prefix)]  # fmt: skip


@pytest.mark.slow
def test_sigterm_stops_a_run_and_leaves_no_shard(
    keras_home: Path, trained: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "many.txt"
    corpus.write_text("great wonderful film, the worst plot\n" * 1_000_000)
    prefix = tmp_path / "scores" / "part"
    env = {**os.environ, "KERAS_HOME": str(keras_home), **ONE_THREAD}
    process = subprocess.Popen(
        corpus_command(trained, corpus, prefix),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(prefix.parent.glob("beam-temp-*")) and time.monotonic() < deadline:
        time.sleep(0.1)  # until Beam has started writing
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 130, errors[-3000:]
    assert errors.splitlines()[-1] == "interrupted" and "Traceback" not in errors
    assert not prefix.parent.exists()  # no shard, no temporary folder: the folder it made, gone


def test_without_beam_installed(run_corpus, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "apache_beam", None)  # as if requirements.txt alone
    assert_one_sentence_error(run_corpus("--help"), "pip install -r requirements-beam.txt")


# ## Round 4: what one file or line can do to a run


def read_whole(data: bytes, suffix: str) -> tuple[bytes, str | None]:
    """What Decompressed reads of `data`, and the damage it then reports, if any."""
    stream, out = common.files.Decompressed(io.BytesIO(data), suffix), bytearray()
    try:
        while chunk := stream.read(65536):
            out += chunk
    except common.files.Damaged as err:
        return bytes(out), str(err)
    return bytes(out), None


COMPRESS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress,
            ".deflate": zlib.compress, ".zst": lambda data: zstandard.compress(data)}  # fmt: skip


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_every_compression_keeps_every_byte_before_a_cut_and_says_so(suffix: str) -> None:
    text = "".join(f"great film number {n}\n" for n in range(1, 30_001)).encode()
    whole = COMPRESS[suffix](text)
    assert read_whole(whole, suffix) == (text, None)
    assert read_whole(whole + whole, suffix) == (text + text, None)  # as `cat a.gz b.gz` makes
    kept, damage = read_whole(whole[: len(whole) * 3 // 4], suffix)
    assert damage == "it ends in the middle of its compressed data"
    assert text.startswith(kept) and (suffix == ".bz2" or len(kept) > len(text) // 3)
    kept, damage = read_whole(whole + b"not compressed at all", suffix)
    assert (kept, damage) == (text, "what follows its compressed data is not more of it")


def test_a_cut_gzip_keeps_every_whole_line_and_reports_the_cut_one_at_its_line(
    score_corpus, tmp_path: Path
) -> None:
    from apache_beam.io.fileio import ReadableFile
    from apache_beam.io.filesystem import FileMetadata

    text = "".join(f"great film number {n}\n" for n in range(1, 2_392)).encode()
    whole = gzip.compress(text)
    path = tmp_path / "small.txt.gz"
    path.write_bytes(whole[: len(whole) // 2])
    intact = zlib.decompressobj(31).decompress(whole[: len(whole) // 2]).count(b"\n")
    found = list(score_corpus.ReadTexts(None).process(ReadableFile(FileMetadata(str(path), 0))))
    assert intact > 0 and len(found) == intact + 1
    assert json.loads(found[-1].value) == {
        "source": str(path), "line": intact + 1, "reason": f"cannot be read after line "
        f"{intact:,} (it ends in the middle of its compressed data)"}  # fmt: skip


def test_a_utf16_file_is_skipped_in_one_line_and_a_lone_surrogate_in_json_is_skipped() -> None:
    found = read("great film\nawful film\n".encode("utf-16"), "a.txt")
    assert skips(found) == [(1, NOT_UTF8)] and not texts(found)
    assert "the file is UTF-16, not UTF-8" in found[0].reason
    found = read(b'{"text": "good \\ud800 film"}\n{"text": "great film"}\n', "b.jsonl")
    assert skips(found) == [(1, NOT_UTF8)] and texts(found) == [(2, "great film")]


def test_fifos_devices_odd_names_and_twice_matched_files_never_stop_a_run(
    run_corpus, trained: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"text": "great film"}\n{"text": "bad \\udc80 film"}\n')
    os.mkfifo(folder / "fifo.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("an awful film\n")  # not UTF-8
    prefix = tmp_path / "out" / "part"
    result = run_corpus("--model", trained, "--input", folder / "*", "--input", folder / "a.*",
                        "--output", prefix)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Left out 2 matches that are not a regular file" in result.stderr
    assert sorted((r["source"], r["line"]) for r in shards(prefix)) == [
        (str(folder / "a.jsonl"), 1), (str(folder / "caf\\xe9.txt"), 1)]  # fmt: skip
    assert [s["line"] for s in shards(prefix, ".skipped")] == [2]
    result = run_corpus("--model", trained, "--input", folder / "fifo.txt", "--output", prefix)
    assert_one_sentence_error(result, "is not a regular file (a FIFO or a device")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [(["--output", "{tmp}/sc[1]*"], "holds a glob character"),
     (["--runner", "DaskRunner"], "Beam's Dask runner loses the texts"),
     (["--runner", "NoSuchRunner"], "Beam knows no runner of that name")],
)  # fmt: skip
def test_outputs_and_runners_that_cannot_work_are_one_sentence(
    run_corpus, trained: Path, corpus: Path, tmp_path: Path, flags: list[str], expected: str
) -> None:
    flags = [flag.format(tmp=tmp_path) for flag in flags]
    output = [] if "--output" in flags else ["--output", tmp_path / "out" / "part"]
    result = run_corpus("--model", trained, "--input", corpus / "*", *output, *flags)
    assert_one_sentence_error(result, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]


def small_file_limit() -> None:
    """For subprocess's preexec_fn: no file may grow past 20 kB, as on a disk nearly full."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


def test_a_full_disk_is_one_sentence_and_leaves_nothing(
    keras_home: Path, trained: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "many.txt"
    corpus.write_text("great wonderful film, the worst plot\n" * 2_000)
    prefix = tmp_path / "scores" / "part"
    result = subprocess.run(
        corpus_command(trained, corpus, prefix),
        capture_output=True, text=True, env={**os.environ, "KERAS_HOME": str(keras_home),
        **ONE_THREAD}, cwd=ROOT, preexec_fn=small_file_limit, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert_one_sentence_error(result, f"cannot write the scores to {str(prefix)!r}: a file grew")
    assert not prefix.parent.exists()
