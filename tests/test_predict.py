"""Saved models: predict.py round trip, bad input, the encoder's properties, analyze_model.py."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import ROOT, learnable_reviews, write_dataset
from hypothesis import given, settings
from hypothesis import strategies as st
from test_scripts import assert_one_sentence_error

import common

TEXTS = ["great wonderful film", "awful boring plot, the worst", "The camera loved the actor!"]
TEXT_LINE = re.compile(r"^(\d\.\d{4})  (positive|negative)  (.+)$")


@pytest.fixture(scope="module")
def trained(run_script, tmp_path_factory: pytest.TempPathFactory, tiny_folder: Path) -> Path:
    """A CNN trained by train_cnn.py on the tiny reviews, in a fresh process."""
    out = tmp_path_factory.mktemp("trained")
    args = ["--data", tiny_folder, "--output-dir", out, "--epochs", "3"]
    result = run_script("train_cnn.py", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def predicted(run_script, trained: Path):
    """predict.py --format json on TEXTS with that CNN: the figures the other ways must match."""
    result = run_script("predict.py", "--model", trained / "cnn.keras", "--format", "json", *TEXTS)
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
    word_index = common.load_imdb(tiny_folder, cache_dir=tmp_path).word_index
    x = common.data.pad([common.encode(t, word_index, common.NUM_WORDS) for t in TEXTS], 500)
    expected = keras.models.load_model(trained / "cnn.keras").predict(x, verbose=0)[:, 0]
    np.testing.assert_allclose(json_probabilities(result.stdout), expected, rtol=1e-5, atol=1e-6)


def test_a_copied_model_works_from_any_folder(
    run_script, predicted, trained: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("cnn.keras", "cnn_encoding.json"):
        shutil.copy(trained / name, elsewhere / name.replace("cnn", "my_model"))
    here = predicted
    copied = elsewhere / "my_model.keras"
    there = run_script("predict.py", "--model", copied, "--format", "json", *TEXTS)
    assert there.returncode == 0, there.stderr[-3000:]
    assert json_probabilities(there.stdout) == json_probabilities(here.stdout)


def readme_export_lines() -> str:
    """The Python block of the README's section on using a model without this repository."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Use a model without this repository", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_export_runs_without_this_repository(predicted, trained: Path, tmp_path: Path) -> None:
    """The README's lines, in a fresh process, in a folder where `common` cannot be imported."""
    shutil.copytree(trained / "cnn_savedmodel", tmp_path / "outputs" / "cnn_savedmodel")
    lines = readme_export_lines()
    assert len(lines.strip().splitlines()) <= 6  # the five lines, and a blank one
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


def test_text_output_and_reading_a_file(run_script, trained: Path, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.txt"
    reviews.write_text(f"{TEXTS[0]}\n\n{TEXTS[1]}\n   \n{'long review ' * 200}\n", "utf-8")
    result = run_script("predict.py", "--model", trained / "cnn.keras", "--file", reviews)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(TEXT_LINE.match(line) for line in lines), lines
    assert TEXT_LINE.match(lines[0]).group(3) == TEXTS[0]
    assert len(lines[2]) <= 100 and lines[2].endswith("...")  # shortened to a terminal line
    assert "Skipped 2 blank lines in" in result.stderr and "(lines 2, 4)" in result.stderr


def test_standard_input(trained: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """In this process (the TensorFlow start-up of a fresh one costs seconds): the texts
    piped in, one per line, are scored in order."""
    import predict

    piped = io.TextIOWrapper(io.BytesIO("\n".join(TEXTS).encode("utf-8")), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", piped)
    predict.main(["--model", str(trained / "cnn.keras")])
    lines = capsys.readouterr().out.splitlines()
    assert [TEXT_LINE.match(line).group(3) for line in lines] == TEXTS


# --- Bad input: one sentence, exit code 2 -------------------------------------------------


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
def test_texts_without_words(run_script, trained: Path, texts: list[str], expected: str) -> None:
    result = run_script("predict.py", "--model", trained / "cnn.keras", *texts)
    assert_one_sentence_error(result, expected)
    assert result.stdout == ""


def test_a_file_that_is_not_utf8(run_script, trained: Path, tmp_path: Path) -> None:
    latin1 = tmp_path / "reviews.txt"
    latin1.write_bytes("Très bon film\n".encode("latin-1"))
    result = run_script("predict.py", "--model", trained / "cnn.keras", "--file", latin1)
    assert_one_sentence_error(result, "is not UTF-8 text (byte 0xe8 at offset 2)")


def test_a_missing_model(run_script, tmp_path: Path) -> None:
    result = run_script("predict.py", "--models-dir", tmp_path, "good film")
    assert_one_sentence_error(result, "there is no model at")
    assert "python train_cnn.py" in result.stderr


def test_a_corrupt_model(run_script, trained: Path, tmp_path: Path) -> None:
    shutil.copy(trained / "cnn_encoding.json", tmp_path / "cnn_encoding.json")
    (tmp_path / "cnn.keras").write_bytes((trained / "cnn.keras").read_bytes()[:5000])
    result = run_script("predict.py", "--model", tmp_path / "cnn.keras", "good film")
    assert_one_sentence_error(result, "cannot load the model")


def test_a_model_without_its_encoding_file(run_script, trained: Path, tmp_path: Path) -> None:
    shutil.copy(trained / "cnn.keras", tmp_path / "cnn.keras")
    result = run_script("predict.py", "--model", tmp_path / "cnn.keras", "good film")
    assert_one_sentence_error(result, "has no encoding file beside it")


def test_a_damaged_encoding_file(run_script, trained: Path, tmp_path: Path) -> None:
    shutil.copy(trained / "cnn.keras", tmp_path / "cnn.keras")
    (tmp_path / "cnn_encoding.json").write_text('{"format": "imdb-sentiment-enc')
    result = run_script("predict.py", "--model", tmp_path / "cnn.keras", "good film")
    assert_one_sentence_error(result, "cannot read the encoding file")


# --- The encoder on any input ---------------------------------------------------------------

ENCODING = common.TextEncoding(
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
    assert np.count_nonzero(x) == min(len(common.tokenize(text)) + 1, 12)


def test_long_texts_keep_their_end_like_the_training_data() -> None:
    x = ENCODING.encode_texts(["bad " * 20 + "the film good"])[0]
    assert x[-3:].tolist() == [4, 6, 7] and common.START not in x  # the start was cut off


def test_words_beyond_the_vocabulary_become_oov() -> None:
    x = ENCODING.encode_texts(["Good film, don't AMÉLIE"])[0]
    assert x[-5:].tolist() == [common.START, 7, 6, common.OOV, common.OOV]


# --- analyze_model.py -----------------------------------------------------------------------


def test_analyze_model_reports_short_text_accuracy_and_mistakes(
    run_script, trained: Path, tiny_folder: Path, tmp_path: Path
) -> None:
    for name in ("cnn.keras", "cnn_encoding.json"):  # a second model: the same, renamed
        shutil.copy(trained / name, tmp_path / name.replace("cnn", "copy"))
    models = f"{trained / 'cnn.keras'},{tmp_path / 'copy.keras'}"
    result = run_script(
        "analyze_model.py", "--model", models, "--data", tiny_folder, "--output-dir", tmp_path,
        "--first-words", "5", "--show-errors", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    whole = re.findall(r"whole reviews: +accuracy (\d+\.\d\d)%", result.stdout)
    short = re.search(r"first 5 words only: accuracy (\d+\.\d\d)%", result.stdout)
    by_length = re.search(r"by words kept: +10: (\d+\.\d\d)%, 20: .*, 200: (\d+\.\d\d)%$",
                          result.stdout, flags=re.MULTILINE)  # fmt: skip
    assert len(whole) == 2 and short and by_length, result.stdout
    metrics = json.loads((trained / "cnn_metrics.json").read_text())
    assert float(whole[0]) == pytest.approx(metrics["test_accuracy"] * 100, abs=0.01)
    assert whole[1] == whole[0]
    # The tiny reviews have 20 to 60 words: kept to 200, they are whole.
    assert by_length.group(2) == whole[0]
    assert (tmp_path / "cnn+copy_length.png").read_bytes().startswith(b"\x89PNG")
    mistakes = re.findall(r"^\d\. P\(positive\) = (\d\.\d{4}), but the review is (\w+) "
                          r"\(\d+ words, aclImdb/test/(?:pos|neg)/\d+_\d+\.txt\):",
                          result.stdout, flags=re.MULTILINE)  # fmt: skip
    assert len(mistakes) == len(re.findall(r"^\d\. P\(positive\)", result.stdout, re.MULTILINE))
    assert len(mistakes) <= 2 * 3  # up to 3 for each of the two models
    for probability, truth in mistakes:
        assert (float(probability) >= 0.5) == (truth == "negative")


def test_analyze_model_refuses_data_from_another_vocabulary(
    run_script, trained: Path, tmp_path: Path
) -> None:
    other = write_dataset(tmp_path, {k: [t.upper() + " zebra" * 50 for t in v]
                                     for k, v in learnable_reviews(seed=1).items()})  # fmt: skip
    result = run_script("analyze_model.py", "--model", trained / "cnn.keras", "--data", other)
    assert_one_sentence_error(result, "another vocabulary")


# --- predict.py --explain ---------------------------------------------------------------------


def test_explanations_are_exact_for_a_linear_model() -> None:
    """For a logistic regression on words, replacing a word by padding removes exactly that
    word's term (ratio x weight) from the log-odds; a word said twice is still present."""
    import predict
    import train_bow

    rng = np.random.default_rng(0)
    encoding = common.TextEncoding(ENCODING.word_index, num_words=common.NUM_WORDS, maxlen=500)
    ratios = rng.normal(size=common.NUM_WORDS).astype(np.float32)
    ratios[0], ratios[common.START] = 0.0, 1.0
    model = train_bow.build_model(np.zeros(0, np.int32), ratios, num_reviews=100)
    weights = rng.normal(size=(common.NUM_WORDS, 1)).astype(np.float32)
    model.get_layer("weights").set_weights([weights])
    text = "the film was good, not bad: good"

    (explained,) = predict.word_contributions(model, encoding, [text])
    assert [word for word, _ in explained] == common.tokenize(text)
    p = float(model.predict(encoding.encode_texts([text]), verbose=0)[0, 0])
    logit = np.log(p / (1 - p))
    tokens = common.encode(text, encoding.word_index).tolist()  # unknown words are all OOV
    for word, contribution in explained:
        token = common.encode(word, encoding.word_index)[1]
        if tokens.count(token) > 1:  # "good" twice; "was" and "not", both unknown
            assert contribution == pytest.approx(0.0, abs=1e-6), word  # presence, not counts
        else:
            without = 1 / (1 + np.exp(-(logit - ratios[token] * weights[token, 0])))
            assert contribution == pytest.approx(p - without, abs=1e-5), word


def test_explain_in_text_json_and_html(run_script, trained: Path, tmp_path: Path) -> None:
    page = tmp_path / "page" / "explained.html"
    args = ["--model", trained / "cnn.keras", "--explain", "--format", "json"]
    result = run_script("predict.py", *args, "--html", page, *TEXTS)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    for record, text in zip(records, TEXTS, strict=True):
        assert [word for word, _ in record["words"]] == common.tokenize(text)
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


def test_html_needs_explain(run_script, trained: Path, tmp_path: Path) -> None:
    result = run_script("predict.py", "--html", tmp_path / "x.html", "good film")
    assert_one_sentence_error(result, "--html saves the explanations: add --explain")


def test_words_cut_off_by_maxlen_get_no_contribution() -> None:
    import predict

    encoding = common.TextEncoding(ENCODING.word_index, num_words=8, maxlen=4)
    model = keras.Sequential([keras.Input(shape=(4,), dtype="int32"), keras.layers.Embedding(8, 2),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])  # fmt: skip
    (explained,) = predict.word_contributions(model, encoding, ["the a film good bad"])
    # 4 tokens kept: the last 4 words; the start token and "the" were cut, as in training.
    assert [word for word, _ in explained] == ["the", "a", "film", "good", "bad"]
    assert explained[0][1] is None and all(value is not None for _, value in explained[1:])


# --- explore_embeddings.py ------------------------------------------------------------------


def test_explore_embeddings_prints_neighbours_and_saves_the_map(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import explore_embeddings

    args = ["--model", str(trained / "cnn.keras"), "--words", "great,awful", "--top", "30"]
    explore_embeddings.main([*args, "--output-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert (tmp_path / "cnn_embedding.png").read_bytes().startswith(b"\x89PNG")

    # What the README promises: the table is model.layers[0], a word's row is rank + 3.
    model, encoding = common.load_model(trained / "cnn.keras")
    table = model.layers[0].get_weights()[0]
    assert table.shape == (common.NUM_WORDS, 32)
    assert "5,000 rows x 32 numbers" in out
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

    args = ["--model", str(trained / "cnn.keras"), "--output-dir", str(tmp_path)]
    with pytest.raises(common.UserError, match="'zebra' is not one of the"):
        explore_embeddings.main([*args, "--words", "great,zebra"])
    with pytest.raises(common.UserError, match="--words is empty"):
        explore_embeddings.main([*args, "--words", " , "])

    # A linear model: one number per word is a weight, not a word vector.
    linear = keras.Sequential([keras.Input((500,), dtype="int32"), keras.layers.Embedding(8, 1),
                               keras.layers.GlobalAveragePooling1D()])  # fmt: skip
    common.save_model(linear, tmp_path / "linear.keras", {"good": 1}, num_words=8, maxlen=500,
                      data_source="a test")  # fmt: skip
    with pytest.raises(common.UserError, match="has no word embedding"):
        explore_embeddings.main(["--model", str(tmp_path / "linear.keras"), "--words", "good"])
