"""models/minilm.py: the word-piece table and layer against the encoder's own tokenizer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import common
from models import minilm

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
