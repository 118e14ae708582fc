"""The model without a server: web/tokenizer.js gives the Python tokenizer's ids, and the
page make_page.py writes runs the model in Chromium from disk, with predict.py's figures."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import common
from common.export import TOKENIZER_FILE, tokenizer_spec

import pytest
from conftest import ANY_TEXT, CHROMIUM, ROOT, assert_one_sentence_error, chromium_page
from hypothesis import given, settings
from hypothesis import strategies as st

from make_page import ONNXRUNTIME_WEB

TOKENIZER_JS = ROOT / "web" / "tokenizer.js"
needs_onnxruntime_web = pytest.mark.skipif(
    not ONNXRUNTIME_WEB.is_dir(), reason="onnxruntime-web is not installed: run npm ci"
)

# Ranked words: those beyond num_words are out of the vocabulary; some are names that
# a JavaScript object holds already, and must not be found in it.
WORDS = ["the", "don't", "café", "łódź", "½", "x2", "constructor", "tostring", "valueof",
         "hasownproperty", "naïve", "film", "ß", "o'neil"]  # fmt: skip
SPOKEN = WORDS + ["Don\u2019t", "CAFÉ", "ŁÓDŹ", "<br />", "<BR/>", ",", "'", "''", "😀"]
SPOKEN_TEXT = st.lists(st.sampled_from(SPOKEN), max_size=30).map(" ".join)


def encodings() -> list[common.saving.TextEncoding]:
    """Two encodings of WORDS: one that cuts texts to 6 ids and keeps 8 words, and one
    that keeps 40 ids and every word."""
    ranks = {word: rank for rank, word in enumerate(WORDS, start=1)}
    return [common.saving.TextEncoding(ranks, num_words=11, maxlen=6),
            common.saving.TextEncoding(ranks, num_words=100, maxlen=40)]  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    """One page of Chromium for the module's tests (Playwright runs one at a time)."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with chromium_page(viewport={"width": 900, "height": 700}) as page:
        yield page


@given(st.lists(ANY_TEXT | SPOKEN_TEXT, min_size=1, max_size=20))
@settings(max_examples=300, deadline=None)
def test_javascript_gives_the_python_ids_of_any_text(browser, texts: list[str]) -> None:
    if browser.evaluate("typeof tokenizers") == "undefined":  # once per page: the specs are
        browser.add_script_tag(path=str(TOKENIZER_JS))  # large, and slow to send each time
        browser.evaluate(
            "(specs) => { window.tokenizers = specs.map("
            "(spec) => new SentimentTokenizer(JSON.parse(spec))); }",
            [json.dumps(tokenizer_spec(encoding)) for encoding in encodings()],
        )
    given = browser.evaluate(
        "(texts) => tokenizers.map("
        "(t) => texts.map((text) => [t.words(text), Array.from(t.ids(text))]))",
        texts,
    )
    assert given == [
        [[common.data.tokenize(text), row] for text, row in
         zip(texts, encoding.encode_texts(texts).tolist(), strict=True)]
        for encoding in encodings()
    ]  # fmt: skip


def docs_python_tokenizer(version: Path) -> dict:
    """The namespace of docs/portable.md's Python tokenizer, run on `version`'s file."""
    page = (ROOT / "docs" / "portable.md").read_text("utf-8")
    code = (
        page.split("In Python without TensorFlow", 1)[1].split("```python\n", 1)[1].split("```")[0]
    )
    namespace: dict = {}
    exec(code.replace("outputs/bow/1", str(version)), namespace)  # noqa: S102 - our own docs
    return namespace


@given(st.lists(ANY_TEXT | SPOKEN_TEXT, min_size=1, max_size=10))
@settings(max_examples=200, deadline=None)
def test_the_docs_python_tokenizer_gives_the_same_ids(trained_tokenizer, texts: list[str]) -> None:
    ids, encoding = trained_tokenizer
    assert [ids(text) for text in texts] == encoding.encode_texts(texts).tolist()


@pytest.fixture(scope="module")
def trained_tokenizer(trained: Path):
    """docs/portable.md's `ids` on the tiny CNN's tokenizer.json, and the model's encoding."""
    return docs_python_tokenizer(trained)["ids"], common.load_model(trained)[1]


def test_every_version_holds_its_tokenizer(trained: Path) -> None:
    """tokenizer.json: the vocabulary the model reads, the rules and the padding."""
    _, encoding = common.load_model(trained)
    saved = json.loads((trained / TOKENIZER_FILE).read_text("utf-8"))
    assert saved == tokenizer_spec(encoding)
    assert saved["maxlen"] == 64 and max(saved["vocabulary"].values()) < encoding.num_words
    assert saved["vocabulary"]["the"] == encoding.word_index["the"] + encoding.index_from


# Held-out texts (no test wrote them into the training data) and texts at the edges: longer
# than maxlen (words cut off), unknown words only, capitals and typographic apostrophes.
TEXTS = [
    "A superb film: I loved the story and the music.",
    "The plot was boring and the ending awful; I hated it.",
    "Un film magnifique, DON\u2019T MISS IT!",
    " ".join(["great"] * 40 + ["awful"] * 40),
    "zzz qqq",
]


def page_records(page, texts: list[str]) -> list[dict]:
    return [page.evaluate("text => explainHere(text)", text) for text in texts]


def assert_same_records(given: list[dict], expected: list[dict]) -> None:
    """The same labels and words; every probability and contribution to 1e-5."""
    for mine, theirs in zip(given, expected, strict=True):
        assert {k: v for k, v in mine.items() if k not in ("probabilities", "words",
                "probability_positive")} == {k: v for k, v in theirs.items() if k not in (
                "probabilities", "words", "probability_positive")}  # fmt: skip
        assert mine["probabilities"].keys() == theirs["probabilities"].keys()
        for label, p in theirs["probabilities"].items():
            assert mine["probabilities"][label] == pytest.approx(p, abs=1e-5)
        assert [w for w, _ in mine["words"]] == [w for w, _ in theirs["words"]]
        for (_, c), (_, expected_c) in zip(mine["words"], theirs["words"], strict=True):
            assert (c is None) == (expected_c is None)
            assert c is None or c == pytest.approx(expected_c, abs=1e-5)


@needs_onnxruntime_web
def test_the_page_runs_the_model_from_disk(
    browser, trained: Path, run_here, tmp_path: Path
) -> None:
    """Opened from a file:// URL, with no server: predict.py's labels, probabilities and
    word contributions to 1e-5; typing shows them; the page asked nothing of anyone; a
    model saved with a threshold says unsure below it. Writing the page again replaces it."""
    model, encoding = common.load_model(trained)
    expected = common.scoring.explained_records(model, encoding, TEXTS)
    unsure = tmp_path / "unsure" / "1"  # the same model, saved with a threshold it never reaches
    shutil.copytree(trained, unsure)
    saved = json.loads((unsure / "encoding.json").read_text("utf-8"))
    (unsure / "encoding.json").write_text(json.dumps({**saved, "min_confidence": 0.999999}))
    pages = {}
    for version in (trained, trained, unsure):  # the first page is written twice
        pages[version] = tmp_path / f"page-{version.parent.name}"
        result = run_here("make_page.py", "--model", version, "--output", pages[version])
        assert result.returncode == 0, result.stderr
        assert f"open {pages[version] / 'index.html'}" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page-cnn", "page-unsure", "unsure"]

    page, asked = browser, []

    def note(request) -> None:
        asked.append(request.url)

    page.on("request", note)
    # Refused, were it asked: anything that is not a file of the page or its own blob.
    page.route(re.compile(r"^(?!file:|blob:)"), lambda route: route.abort())
    try:
        page.goto(pages[trained].joinpath("index.html").as_uri())
        assert_same_records(page_records(page, TEXTS), expected)
        page.fill("#text", "")
        page.type("#text", TEXTS[0], delay=5)
        page.wait_for_function("() => document.querySelector('#words').textContent"
                               ".includes('music')", timeout=15_000)  # fmt: skip
        assert page.text_content("#label") == expected[0]["label"]
        assert page.text_content("#model") == "cnn"
        screenshot = os.environ.get("PAGE_SCREENSHOT", tmp_path / "page.png")
        page.screenshot(path=str(screenshot), full_page=True)

        page.goto(pages[unsure].joinpath("index.html").as_uri())
        records = page_records(page, TEXTS[:2])
        assert [r["abstained"] for r in records] == [True, True]
        assert all(r["label"] is None for r in records)
        page.evaluate("text => { document.querySelector('#text').value = text; }", TEXTS[1])
        page.dispatch_event("#text", "input")
        page.wait_for_function("() => document.querySelector('#label').textContent === 'unsure'")
    finally:
        page.remove_listener("request", note)
        page.unroute_all()
    folders = (pages[trained].as_uri() + "/", pages[unsure].as_uri() + "/")
    assert asked and all(url.startswith((*folders, "blob:")) for url in asked), asked


@needs_onnxruntime_web
def test_make_page_refuses_what_it_cannot_use(trained: Path, run_here, tmp_path: Path) -> None:
    """No onnxruntime-web, a folder of the user's as --output, a model.onnx that is not one:
    one sentence, exit 2, and nothing written or changed."""
    result = run_here("make_page.py", "--model", trained, "--onnxruntime", tmp_path,
                      "--output", tmp_path / "page")  # fmt: skip
    assert_one_sentence_error(result, "onnxruntime-web is not in")

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = run_here("make_page.py", "--model", trained, "--output", mine)
    assert_one_sentence_error(result, "is not a page that make_page.py wrote")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]

    broken = tmp_path / "broken" / "1"
    shutil.copytree(trained, broken)
    (broken / "model.onnx").write_bytes(b"not a model, but bytes")
    result = run_here("make_page.py", "--model", broken, "--output", tmp_path / "page")
    assert_one_sentence_error(result, "is not an ONNX model")
    assert not (tmp_path / "page").exists()
