"""predict.py: scoring, reading input, explaining, and the export beside it."""

from __future__ import annotations

import gzip
import io
import json
import lzma
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import common
import common.scoring

import keras
import numpy as np
import pytest
from conftest import ROOT, assert_one_sentence_error

from models import word_ids
from models.bag_of_ngrams import build_bow

TEXTS = ["great wonderful film", "awful boring plot, the worst", "The camera loved the actor!"]


WORD_INDEX = {w: r for r, w in enumerate("the a film good bad don't amélie 10".split(), start=1)}
TEXT_LINE = re.compile(r"^(\d\.\d{4})  (positive|negative)  (.+)$")


@pytest.fixture(scope="module")
def predicted(run_script, trained: Path):
    """predict.py --format json on TEXTS with that CNN: the figures the other ways must match."""
    result = run_script("predict.py", "--model", trained, "--format", "json", *TEXTS)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def json_probabilities(stdout: str) -> list[float]:
    return [json.loads(line)["probability_positive"] for line in stdout.splitlines()]


def test_predict_matches_model_predict_on_the_training_encoding(
    predicted, trained: Path, tiny_folder: Path, tmp_path: Path
) -> None:
    result = predicted
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == TEXTS
    assert all(r["label"] == ("positive" if r["probability_positive"] >= 0.5 else "negative")
               for r in records)  # fmt: skip

    # The same texts, encoded the way the training data was, through model.predict.
    word_index = common.data.load_imdb(tiny_folder, cache_dir=tmp_path).word_index
    settings = json.loads((trained / "encoding.json").read_text())  # 1,000 words, 64 tokens
    x = common.data.pad([common.data.encode(t, word_index, settings["num_words"]) for t in TEXTS],
                        settings["maxlen"])  # fmt: skip
    expected = keras.models.load_model(trained / "model.keras").predict(x, verbose=0)[:, 0]
    np.testing.assert_allclose(json_probabilities(result.stdout), expected, rtol=1e-5, atol=1e-6)


def test_the_classifier_says_in_memory_what_predict_py_prints(predicted, trained: Path) -> None:
    """docs/using-a-model.md's program of one's own: `common.Classifier` loads a version
    and gives predict.py's records, without a subprocess; a threshold leaves the least
    sure text unanswered; a text without words is refused in one sentence."""
    classifier = common.Classifier.load(str(trained))
    printed = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert classifier.predict(TEXTS) == printed
    explained = classifier.predict(TEXTS[:1], explain=True)[0]
    assert explained["explains"] == "positive" and [w for w, _ in explained["words"]]
    tops = sorted(max(r["probabilities"].values()) for r in printed)
    unsure = common.Classifier.load(trained, min_confidence=(tops[0] + tops[1]) / 2)
    assert sum(r["abstained"] and r["label"] is None for r in unsure.predict(TEXTS)) == 1
    with pytest.raises(common.UserError, match="text 2 has no words the model can read"):
        classifier.predict(["good", "?!"])


def test_the_program_of_using_a_model_runs(trained: Path, capsys) -> None:
    """docs/using-a-model.md's Python, on this model: a line per text, its label first."""
    page = (ROOT / "docs" / "using-a-model.md").read_text(encoding="utf-8")
    (program,) = [block for block in re.findall(r"```python\n(.*?)```", page, re.DOTALL)
                  if "Classifier.load" in block]  # fmt: skip
    exec(program.replace('Classifier.load("cnn")', f"Classifier.load({str(trained)!r})"), {})
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] in ("positive", "negative") for line in printed] == [True, True]


def test_a_copied_model_works_from_any_folder(
    run_here, predicted, trained: Path, tmp_path: Path
) -> None:
    copied = tmp_path / "elsewhere" / "my_model"
    shutil.copytree(trained, copied)  # a version folder, copied whole
    here = predicted  # a fresh process; this one runs in the test process
    there = run_here("predict.py", "--model", copied, "--format", "json", *TEXTS)
    assert there.returncode == 0, there.stderr[-3000:]
    assert json_probabilities(there.stdout) == json_probabilities(here.stdout)


def readme_export_lines() -> str:
    """The Python block of the docs' section on using a model without this repository."""
    readme = (ROOT / "docs" / "using-a-model.md").read_text(encoding="utf-8")
    section = readme.split("## Use a model without this repository", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_export_runs_without_this_repository(predicted, trained: Path, tmp_path: Path) -> None:
    """The docs' lines, in a fresh process, in a folder where `common` cannot be imported."""
    shutil.copytree(trained, tmp_path / "outputs" / "cnn" / "1")
    shutil.copytree(trained, tmp_path / "outputs" / "cnn" / "2")  # the newest is used
    (tmp_path / "outputs" / "cnn" / "1" / "saved_model.pb").write_bytes(b"not this one")
    lines = readme_export_lines()
    assert len(lines.strip().splitlines()) <= 8  # a few lines, for a reader to copy
    program = "import importlib.util, json\nassert importlib.util.find_spec('common') is None\n"
    program += lines  # then the same model on this module's texts, at full precision:
    program += f"print(json.dumps(model.serve(tf.constant({TEXTS!r})).numpy().tolist()))\n"
    (tmp_path / "use_model.py").write_text(program, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "use_model.py"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    exported = json.loads(result.stdout.splitlines()[-1])

    np.testing.assert_allclose(exported, json_probabilities(predicted.stdout), atol=1e-5, rtol=0)


def test_text_output_and_reading_a_file(run_here, trained: Path, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.txt"
    reviews.write_text(f"{TEXTS[0]}\n\n{TEXTS[1]}\n   \n{'long review ' * 200}\n", "utf-8")
    result = run_here("predict.py", "--model", trained / "model.keras", "--file", reviews)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(TEXT_LINE.match(line) for line in lines), lines
    assert TEXT_LINE.match(lines[0]).group(3) == TEXTS[0]
    assert lines[2].endswith("long review " * 200)  # whole: the output is not a terminal
    assert "Skipped 2 blank lines in" in result.stderr and "(lines 2, 4)" in result.stderr


def test_a_table_or_a_compressed_file_gives_the_texts_of_the_plain_one(
    run_here, predicted, trained: Path, tmp_path: Path
) -> None:
    """--file reads what training and score_corpus.py read: a CSV by its text column (a
    quoted text with a comma, a row without a text skipped in one line), JSON Lines, and
    either or a text file compressed; each gives the records of the texts as arguments."""
    expected = [json.loads(line) for line in predicted.stdout.splitlines()]
    rows = "".join(f'{i},"{text}"\n' for i, text in enumerate(TEXTS))
    files = {
        "reviews.csv": ("id,Review\n0,\n" + rows + "3,!!!\n").encode(),
        "reviews.jsonl.gz": gzip.compress("".join(
            json.dumps({"id": i, "text": text}) + "\n" for i, text in enumerate(TEXTS)).encode()),
        "reviews.txt.xz": lzma.compress("\n".join(TEXTS).encode()),
    }  # fmt: skip
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        result = run_here("predict.py", "--model", trained, "--format", "json",
                          "--file", tmp_path / name)  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        assert [json.loads(line) for line in result.stdout.splitlines()] == expected, name
    said = run_here("predict.py", "--model", trained, "--file", tmp_path / "reviews.csv").stderr
    assert "Skipped 1 blank line" in said  # the row without a text
    assert f"line 6 of {tmp_path / 'reviews.csv'} has no words the model can read" in said
    wrong = run_here("predict.py", "--model", trained, "--file", tmp_path / "reviews.csv",
                     "--text-column", "body")  # fmt: skip
    assert_one_sentence_error(wrong, "has no column 'body'; its columns are 'id', 'Review'.")
    cut = tmp_path / "cut.txt.xz"
    cut.write_bytes(files["reviews.txt.xz"][:-8])
    assert_one_sentence_error(run_here("predict.py", "--model", trained, "--file", cut),
                              "is damaged")  # fmt: skip
    plain = run_here("predict.py", "--model", trained, "--text-column", "text", "good")
    assert_one_sentence_error(plain, "--text-column names a column of a CSV")


def test_standard_input(trained: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """In this process (the TensorFlow start-up of a fresh one costs seconds): the texts
    piped in, one per line, are scored in order."""
    import predict

    piped = "\n".join([TEXTS[0], "?!", *TEXTS[1:]]).encode("utf-8")  # one line without words
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(piped), encoding="utf-8"))
    predict.main(["--model", str(trained / "model.keras")])
    printed = capsys.readouterr()
    assert [TEXT_LINE.match(line).group(3) for line in printed.out.splitlines()] == TEXTS
    assert "line 2 of standard input has no words the model can read" in printed.err


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([""], "text 1 is empty"),
        (["good film", "   "], "text 2 is empty"),
        (["?!... --"], "text 1 has no words the model can read"),
        (["\U0001f600\U0001f44d"], "text 1 has no words the model can read"),
    ],
    ids=["empty", "blank", "punctuation", "emoji"],
)
def test_texts_without_words(run_here, trained: Path, texts: list[str], expected: str) -> None:
    result = run_here("predict.py", "--model", trained / "model.keras", *texts)
    assert_one_sentence_error(result, expected)
    assert result.stdout == ""


def test_a_file_that_is_not_utf8(run_here, trained: Path, tmp_path: Path) -> None:
    latin1 = tmp_path / "reviews.txt"
    latin1.write_bytes("Très bon film\n".encode("latin-1"))
    result = run_here("predict.py", "--model", trained / "model.keras", "--file", latin1)
    assert_one_sentence_error(result, "not UTF-8 (byte 0xe8 at column 3, offset 2): save it as")


def test_explanations_are_exact_for_a_linear_model() -> None:
    """For a logistic regression on words, replacing a word by padding removes exactly that
    word's term (ratio x weight) from the log-odds; a word said twice is still present."""

    rng = np.random.default_rng(0)
    encoding = common.saving.TextEncoding(WORD_INDEX, num_words=common.data.NUM_WORDS, maxlen=500)
    ratios = rng.normal(size=common.data.NUM_WORDS).astype(np.float32)
    ratios[0], ratios[word_ids.START] = 0.0, 1.0
    model = build_bow(
        np.zeros(0, np.int32),
        ratios,
        100,
        num_words=common.data.NUM_WORDS,
        maxlen=common.data.MAXLEN,
    )
    weights = rng.normal(size=(common.data.NUM_WORDS, 1)).astype(np.float32)
    model.get_layer("weights").set_weights([weights])
    text = "the film was good, not bad: good"

    (explained,) = common.scoring.word_contributions(model, encoding, [text])
    assert [word for word, _ in explained] == common.data.tokenize(text)
    p = float(model.predict(encoding.encode_texts([text]), verbose=0)[0, 0])
    logit = np.log(p / (1 - p))
    tokens = common.data.encode(text, encoding.word_index).tolist()  # unknown words are all OOV
    for word, contribution in explained:
        token = common.data.encode(word, encoding.word_index)[1]
        if tokens.count(token) > 1:  # "good" twice; "was" and "not", both unknown
            assert contribution == pytest.approx(0.0, abs=1e-6), word  # presence, not counts
        else:
            without = 1 / (1 + np.exp(-(logit - ratios[token] * weights[token, 0])))
            assert contribution == pytest.approx(p - without, abs=1e-5), word


def test_explain_in_text_json_and_html(run_here, trained: Path, tmp_path: Path) -> None:
    page = tmp_path / "page" / "explained.html"
    args = ["--model", trained / "model.keras", "--explain", "--format", "json"]
    result = run_here("predict.py", *args, "--html", page, *TEXTS)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    for record, text in zip(records, TEXTS, strict=True):
        assert [word for word, _ in record["words"]] == common.data.tokenize(text)
        assert all(isinstance(value, float) for _, value in record["words"])
    content = page.read_text(encoding="utf-8")
    assert content.startswith("<!doctype html>") and content.count("<p><b>") == len(TEXTS)


def test_explanations_in_a_terminal_and_elsewhere() -> None:
    import predict

    explained = [("not", -0.04), ("bad", -0.13), ("at", 0.004), ("all", None)]
    assert predict.annotated(explained, colour=False) == "not[-0.04] bad[-0.13] at all"
    coloured = predict.annotated(explained, colour=True)
    assert "\033[31mnot[-0.04]\033[0m" in coloured  # red: towards negative
    assert "\033[31;1mbad[-0.13]\033[0m" in coloured  # and bold from 0.1


def test_html_needs_explain(run_here, trained: Path, tmp_path: Path) -> None:
    result = run_here("predict.py", "--html", tmp_path / "x.html", "good film")
    assert_one_sentence_error(result, "--html saves the explanations: add --explain")


def test_words_cut_off_by_maxlen_get_no_contribution() -> None:

    encoding = common.saving.TextEncoding(WORD_INDEX, num_words=8, maxlen=4)
    model = keras.Sequential([keras.Input(shape=(4,), dtype="int32"), keras.layers.Embedding(8, 2),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])  # fmt: skip
    (explained,) = common.scoring.word_contributions(model, encoding, ["the a film good bad"])
    # 4 tokens kept: the last 4 words; the start token and "the" were cut, as in training.
    assert [word for word, _ in explained] == ["the", "a", "film", "good", "bad"]
    assert explained[0][1] is None and all(value is not None for _, value in explained[1:])


def test_predict_into_a_pipe_that_closes_early(trained: Path, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("a great film\n" * 5_000)  # more than a pipe holds (64 KiB)
    command = (f"{sys.executable} predict.py --model {trained / 'model.keras'} "
               f"--file {reviews} | head -1")  # fmt: skip
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT)
    assert len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr and "Error" not in result.stderr, result.stderr


@pytest.mark.parametrize("path", ["/dev/zero", "/tmp"], ids=["device", "folder"])
def test_predict_refuses_a_file_that_is_not_a_regular_file(run_here, trained, path) -> None:
    result = run_here("predict.py", "--model", trained / "model.keras", "--file", path)
    assert_one_sentence_error(result, "is not a regular file")


def test_predict_with_standard_input_closed(
    run_here, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", None)  # what Python makes of `python predict.py <&-`
    result = run_here("predict.py", "--model", trained)
    assert_one_sentence_error(result, "standard input is closed")


def test_a_file_is_split_on_line_feeds_only(run_here, trained: Path, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.txt"
    lines = ["good\u2028film", "bad\x0cfilm\x85again", "one\rline", "last line, CRLF"]
    reviews.write_bytes(("\n".join(lines[:3]) + "\n" + lines[3] + "\r\n").encode("utf-8"))
    result = run_here("predict.py", "--model", trained / "model.keras", "--file", reviews,
                        "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout.rstrip("\n").split("\n")  # JSON keeps U+2028 and U+0085 as they are
    assert [json.loads(line)["text"] for line in printed] == lines


ESCAPES = "\x1b]0;owned\x07 great film \x1b[2J and \x9b31m"  # retitle, clear, C1 CSI


def test_terminal_escapes_in_a_text_are_shown_not_obeyed(run_here, trained: Path) -> None:
    for fmt in ("text", "json"):
        result = run_here("predict.py", "--model", trained, "--format", fmt, ESCAPES)
        assert result.returncode == 0, result.stderr[-3000:]
        assert not set("\x1b\x07\x9b") & set(result.stdout), repr(result.stdout)
        if fmt == "json":
            assert json.loads(result.stdout)["text"] == ESCAPES  # escaped, not lost
        else:
            assert "\\x1b]0;owned\\x07 great film" in result.stdout


def test_output_in_any_terminal_encoding(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Latin-1 terminal gets ? for an emoji; a surrogate from the command line is escaped
    in JSON, which then gives back the very text that came in.
    In this process, with the standard output a Latin-1 or UTF-8 stream as Python makes
    it for such a terminal (PYTHONIOENCODING), and the argument as Python decodes a byte
    that is not UTF-8 (surrogateescape)."""
    reviews = tmp_path / "emoji.txt"
    reviews.write_text("great film \U0001f600\n", encoding="utf-8")

    def run(encoding: str, *args: str) -> bytes:
        terminal = io.BytesIO()
        stdout = io.TextIOWrapper(terminal, encoding=encoding, errors="strict", newline="\n")
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "argv", ["predict.py", "--model", str(trained), *args])
        handler = signal.getsignal(signal.SIGTERM)  # common.run installs its own
        try:
            runpy.run_path(str(ROOT / "predict.py"), run_name="__main__")
        finally:
            signal.signal(signal.SIGTERM, handler)
            stdout.flush()
        return terminal.getvalue()

    latin = run("latin-1", "--explain", "--file", str(reviews))
    assert "great film ?" in latin.decode("latin-1")
    surrogate = run("utf-8", "--format", "json", "good \udcff movie")
    assert b'"text": "good \\udcff movie"' in surrogate
    assert json.loads(surrogate.decode("utf-8"))["text"] == "good \udcff movie"


def test_no_colour_for_a_dumb_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import predict

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert predict.wants_colour(Terminal())
    monkeypatch.setenv("TERM", "dumb")
    assert not predict.wants_colour(Terminal())
    assert not predict.wants_colour(io.StringIO())  # a file or a pipe


def test_a_long_line_without_spaces_is_cut_not_lost() -> None:
    import predict

    shown = predict.shortened("\U0001f600" * 10_000, 80)
    assert shown.startswith("\U0001f600" * 70) and shown.endswith(" ...") and len(shown) == 80
    assert predict.shortened("a short review", 80) == "a short review"


def test_html_into_a_symbolic_link_loop(run_here, trained: Path, tmp_path: Path) -> None:
    loop = tmp_path / "l1"
    loop.symlink_to(tmp_path / "l2")
    (tmp_path / "l2").symlink_to(loop)
    result = run_here("predict.py", "--model", trained / "model.keras", "--explain", "--html",
                      loop / "page.html", "good film")  # fmt: skip
    assert_one_sentence_error(result, "--html")


def test_explanations_are_scored_in_bounded_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays flat in the number of texts; the figures are those of one big call."""

    encoding = common.saving.TextEncoding(WORD_INDEX, num_words=common.data.NUM_WORDS, maxlen=20)
    layers = [keras.layers.Embedding(12, 1), keras.layers.Flatten(), keras.layers.Dense(1)]
    model = keras.Sequential([keras.Input((20,), dtype="int32"), *layers])
    texts = ["the film good", "bad bad film", "a " * 30 + "good", "the a film good bad"] * 5
    calls = []
    predict_rows = model.predict_on_batch

    def counting(x, **kwargs):
        calls.append(len(x))
        return predict_rows(x, **kwargs)

    monkeypatch.setattr(model, "predict_on_batch", counting)
    whole = common.scoring.word_contributions(model, encoding, texts)
    assert len(calls) == 1  # 20 texts: fewer rows than EXPLAIN_ROWS
    monkeypatch.setattr(common.scoring, "EXPLAIN_ROWS", 8)
    calls.clear()
    chunked = common.scoring.word_contributions(model, encoding, texts)
    assert [[word for word, _ in text] for text in chunked] == [[w for w, _ in t] for t in whole]
    for text, expected in zip(chunked, whole, strict=True):
        for (_, value), (_, wanted) in zip(text, expected, strict=True):
            assert value == pytest.approx(wanted, abs=1e-6)  # other batches: other rounding
    # 8 rows a chunk, each call padded to a multiple of ROW_MULTIPLE (16) rows.
    assert max(calls) <= common.scoring.ROW_MULTIPLE and len(calls) > 10


def test_a_line_longer_than_the_bound_is_refused(
    run_here, trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read line by line, a file is bounded per line: the bound is 16 MiB, here 64 bytes.
    The batches scored before the line are printed, and stop there."""

    monkeypatch.setattr("common.texts.MAX_LINE_BYTES", 64)
    reviews = tmp_path / "reviews.txt"
    good = "a good film\n" * (common.texts.BATCH_SIZE + 1)
    reviews.write_text(good + "a very long review " * 4 + "\n", encoding="utf-8")
    result = run_here("predict.py", "--model", trained, "--file", reviews)
    assert result.returncode == 2
    assert f"error: line {common.texts.BATCH_SIZE + 2} of" in result.stderr
    assert "is longer than" in result.stderr
    printed = result.stdout.splitlines()
    assert len(printed) == common.texts.BATCH_SIZE + 1  # every line before it
    assert all(TEXT_LINE.match(line) for line in printed)


@pytest.mark.parametrize("bad", [3, 300])
def test_every_line_before_a_bad_one_is_scored(
    run_here, trained: Path, tmp_path: Path, bad: int
) -> None:
    """A line that is not UTF-8 ends the run after the lines before it, wherever it falls
    in a batch: the first, or the second after a whole one."""
    reviews = tmp_path / "reviews.txt"
    reviews.write_bytes(b"a good film\n" * (bad - 1) + "Tr\xe8s bon\n".encode("latin-1"))
    result = run_here("predict.py", "--model", trained, "--file", reviews)
    assert_one_sentence_error(result, f"line {bad} of")
    assert len(result.stdout.splitlines()) == bad - 1


def test_a_stream_stopped_by_sigterm_exits_cleanly(trained: Path) -> None:
    """`(echo good; sleep 60) | predict.py`, then SIGTERM once the first line is answered,
    while its reader waits for the next: "interrupted", exit 130, no abort."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "predict.py"), "--model", str(trained)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    try:
        process.stdin.write(b"a good film\n")
        process.stdin.flush()
        assert TEXT_LINE.match(process.stdout.readline().decode().rstrip("\n"))
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        stderr = process.stderr.read().decode()
    finally:
        process.kill()
        process.stdin.close()
    assert code == 130, stderr[-2000:]
    assert "Fatal Python error" not in stderr and stderr.rstrip().endswith("interrupted")


def test_min_confidence_leaves_unsure_texts_unanswered(run_here, trained: Path) -> None:
    """Below the threshold a text is `unsure` (JSON: label null, abstained true, every
    probability kept); at or above it, answered as without the flag."""
    plain = run_here("predict.py", "--model", trained, "--format", "json", *TEXTS)
    records = [json.loads(line) for line in plain.stdout.splitlines()]
    tops = sorted(max(r["probabilities"].values()) for r in records)
    threshold = (tops[0] + tops[1]) / 2  # between the least sure text and the next
    result = run_here("predict.py", "--model", trained, "--format", "json",
                      "--min-confidence", str(threshold), *TEXTS)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    said = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["abstained"] for r in said] == [max(r["probabilities"].values()) < threshold
                                             for r in records]  # fmt: skip
    assert sum(r["abstained"] for r in said) == 1
    for before, after in zip(records, said, strict=True):
        assert after["probabilities"] == before["probabilities"]
        assert after["label"] == (None if after["abstained"] else before["label"])
    text = run_here("predict.py", "--model", trained, "--min-confidence", "1", *TEXTS)
    assert [line.split()[1] for line in text.stdout.splitlines()] == ["unsure"] * len(TEXTS)
    # One quantity in the first column, sure or unsure: the top label's probability.
    answered = run_here("predict.py", "--model", trained, *TEXTS)
    for record, line, unsure in zip(records, answered.stdout.splitlines(),
                                    text.stdout.splitlines(), strict=True):  # fmt: skip
        top = f"{max(record['probabilities'].values()):.4f}"
        assert line.split()[:2] == [top, record["label"]] and unsure.split()[0] == top
    bad = run_here("predict.py", "--model", trained, "--min-confidence", "1.5", "good")
    assert_one_sentence_error(bad, "a probability is from 0 to 1, got 1.5")


def test_explanations_and_their_page_say_unsure(run_here, trained: Path, tmp_path: Path) -> None:
    page = tmp_path / "explained.html"
    result = run_here("predict.py", "--model", trained, "--explain", "--min-confidence", "1",
                      "--html", page, "great wonderful film")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[1] == "unsure" and " unsure</b>" in page.read_text()
