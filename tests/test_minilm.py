"""models/minilm.py: the word-piece table and layer against the encoder's own tokenizer."""

from __future__ import annotations

from pathlib import Path

import common

import numpy as np
import pytest

from models import minilm, word_ids

keras_hub = pytest.importorskip("keras_hub")
tokenizers = pytest.importorskip("tokenizers")


WORDS = ["the", "film", "don't", "café", "naïve", "x", "rock'n'roll", "ÉCOLE"]


@pytest.mark.parametrize("max_pieces", [64, 8])
def test_word_pieces_cut_a_text_as_the_encoders_tokenizer_does(
    tiny_encoder: Path, max_pieces: int
) -> None:
    """Padding and the start token vanish, OOV is [UNK], [CLS] ... [SEP], cut at max_pieces."""
    word_index = {word.lower(): rank for rank, word in enumerate(WORDS, start=1)}
    num_words = 9  # ranks 6 to 8 are beyond it: out of the vocabulary, as in training
    table, special = minilm.word_piece_table(tiny_encoder, word_index, num_words)
    layer = minilm.WordPieces(
        num_words, table=table, cls_id=special["[CLS]"], sep_id=special["[SEP]"],
        max_pieces=max_pieces,
    )  # fmt: skip
    texts = ["the film", "", "don't café naïve x rock'n'roll école", "the " * 12]
    encoding = common.saving.TextEncoding(word_index, num_words=num_words, maxlen=20)
    pieces = {key: np.asarray(value) for key, value in layer(encoding.encode_texts(texts)).items()}

    tokenizer = tokenizers.Tokenizer.from_file(str(tiny_encoder / "tokenizer.json"))
    known = {word for word, rank in word_index.items() if rank + word_ids.INDEX_FROM < num_words}
    for row, text in enumerate(texts):
        # What the encoder's tokenizer makes of the last 19 words our encoding keeps.
        words = [w if w in known else "[UNK]" for w in common.data.tokenize(text)][-19:]
        cut = tokenizer.encode(" ".join(words), add_special_tokens=False).ids
        expected = [special["[CLS]"], *cut[: max_pieces - 2], special["[SEP]"]]
        length = int(pieces["padding_mask"][row].sum())
        assert pieces["token_ids"][row, :length].tolist() == expected
        assert not pieces["token_ids"][row, length:].any()
    assert not pieces["segment_ids"].any()


@pytest.mark.parametrize("num_classes", [2, 3])
def test_the_blend_averages_the_logits_of_each_label(num_classes: int) -> None:
    """Up to 50 words, 0.3 x the encoder's logits + 0.7 x bow_short's, then a sigmoid (two
    labels) or a softmax (more): a stand-in for the encoder, nothing trained."""
    import keras

    from models import outputs, short_texts
    from models.bag_of_ngrams import build_bow

    units = outputs.output_units(num_classes)
    keras.utils.set_random_seed(0)
    tokens = keras.Input(shape=(16,), dtype="int32")
    vectors = keras.layers.Embedding(50, 4)(tokens)
    logits = keras.layers.Dense(units)(keras.layers.GlobalAveragePooling1D()(vectors))
    encoder = keras.Model(tokens, logits)
    ratios = np.random.RandomState(0).normal(size=(50, units)).astype("float32")
    bow = build_bow(np.zeros(0, np.int32), ratios, 10, num_words=50, maxlen=16)
    bow_short = short_texts.add_short_text_regression(bow, 10, name="bow_short")
    for layer in ("weights", "short_text_weights"):  # weights other than the initial zeros
        bow_short.get_layer(layer).set_weights([np.full((50, units), 0.1, "float32")])
    model = minilm.build_minilm(encoder, bow_short, 0.3)

    x = keras.utils.pad_sequences([[1, 5, 9, 12], [1, 7, 7]], maxlen=16)
    expected = 0.3 * encoder.predict(x, verbose=0) + 0.7 * minilm.log_odds(bow_short).predict(
        x, verbose=0
    )
    np.testing.assert_allclose(minilm.log_odds(model).predict(x, verbose=0), expected, atol=1e-5)
    outputs = model.predict(x, verbose=0)
    assert outputs.shape == (2, units)
    if num_classes == 2:
        np.testing.assert_allclose(outputs, 1 / (1 + np.exp(-expected)), atol=1e-5)
    else:
        np.testing.assert_allclose(outputs.sum(axis=1), 1.0, atol=1e-5)
