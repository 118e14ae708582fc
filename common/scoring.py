"""Score texts with a trained model: the one way predict.py and serve.py both do it.

`predict_outputs` runs the model on word ids, `records` turns its outputs into what
predict.py prints and the server answers (the label, every label's probability), and
`word_contributions` says how much each word moved the result (--explain, :explain).
`Classifier` is all of it for a program of one's own: a saved version, loaded once, that
answers a list of texts with predict.py's records.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from common.cli import DEFAULT_OUTPUT_DIR
from common.saving import ModelFiles, TextEncoding, load_model
from common.texts import BATCH_SIZE, check_texts

import keras
import numpy as np

from models.outputs import predicted, probabilities

# Rows per model call are a multiple of this: 16 floats fill an AVX-512 register (and two
# of AVX2's), so that no output element is computed outside one (`predict_outputs`).
ROW_MULTIPLE = 16
# Explanations score this many variants of the texts at a time: 8 MB of token ids at
# 500 tokens; a multiple of BATCH_SIZE, so that the steps are those of one call.
EXPLAIN_ROWS = 16 * BATCH_SIZE


def predict_outputs(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The model's outputs for word ids `x`, BATCH_SIZE rows per step.

    `predict_on_batch` rather than `predict`: the same figures, without the tens of
    milliseconds `predict` spends setting up each call, which a server answering one
    text at a time, or a stream scoring a line as it comes, would pay every time.

    Each step is padded (with rows of padding, whose outputs are dropped) to a multiple
    of ROW_MULTIPLE rows, so that a text gets the same bits whatever it is scored with:
    TensorFlow computes an element-wise log or exp (the calibration's) in vector
    registers, but the last few elements of an array of another length one at a time,
    with other roundings. In a batch of 3 texts, or at the end of one of 255, a text
    would get other bits than in a batch of 256.
    """
    steps = []
    for i in range(0, len(x), BATCH_SIZE):
        rows = x[i : i + BATCH_SIZE]
        short = -len(rows) % ROW_MULTIPLE
        padded = np.concatenate([rows, np.zeros((short, *rows.shape[1:]), rows.dtype)])
        steps.append(model.predict_on_batch(padded)[: len(rows)])
    return np.concatenate(steps) if steps else np.zeros((0, model.output_shape[-1]), np.float32)


def score_texts(model: keras.Model, encoding: TextEncoding, texts: Sequence[str]) -> np.ndarray:
    """The model's outputs for raw texts, encoded exactly as its training texts were."""
    return predict_outputs(model, encoding.encode_texts(texts))


def records(
    outputs: np.ndarray, labels: Sequence[str], texts: Sequence[str]
) -> list[dict[str, object]]:
    """What is said of each text: the label predicted and every label's probability.

    With two labels, the tutorial's figure comes first: `probability_positive`, the
    sigmoid output (positive from 0.5 up). With more, the label's own `probability`.
    """
    every = probabilities(outputs)  # (texts, labels)
    chosen = predicted(outputs)
    result = []
    for n, text in enumerate(texts):
        label = labels[chosen[n]]
        if len(labels) == 2:
            record = {"probability_positive": float(outputs[n, 0]), "label": label}
        else:
            record = {"label": label, "probability": float(every[n, chosen[n]])}
        record["probabilities"] = dict(zip(labels, map(float, every[n]), strict=True))
        record["text"] = text
        result.append(record)
    return result


def scored_records(
    model: keras.Model, encoding: TextEncoding, texts: Sequence[str]
) -> list[dict[str, object]]:
    """`records` of raw texts: what predict.py says of each, scored as training encoded."""
    return records(score_texts(model, encoding, texts), encoding.labels, texts)


def confidence_threshold(flag: float | None, encoding: TextEncoding) -> float | None:
    """The threshold below which a text is left unanswered: --min-confidence if given,
    else the one the model was saved with (training's --target-accuracy), if any."""
    return encoding.min_confidence if flag is None else flag


def abstain(records: list[dict[str, object]], min_confidence: float) -> list[dict[str, object]]:
    """The records whose top probability is below `min_confidence` left unanswered: their
    `label` None and `abstained` true (every record gets `abstained`); every probability
    is kept, so that a caller can still see how close it was."""
    for record in records:
        record["abstained"] = max(record["probabilities"].values()) < min_confidence
        if record["abstained"]:
            record["label"] = None
    return records


def explained_records(
    model: keras.Model, encoding: TextEncoding, texts: Sequence[str]
) -> list[dict[str, object]]:
    """`records` with each word's contribution: `explains` names the label the words are
    measured towards (with two labels the positive one, else the label predicted), and
    `words` holds (word, contribution) pairs in the text's order."""
    labels = encoding.labels
    result = scored_records(model, encoding, texts)
    two = len(labels) == 2
    columns = None if two else [labels.index(r["label"]) for r in result]
    for record, words in zip(
        result, word_contributions(model, encoding, texts, columns), strict=True
    ):
        record["explains"] = labels[1] if two else record["label"]
        record["words"] = words
    return result


def word_contributions(
    model: keras.Model,
    encoding: TextEncoding,
    texts: Sequence[str],
    columns: Sequence[int] | None = None,
) -> list[list[tuple[str, float | None]]]:
    """For each text, each word's effect on P(positive): the probability of the text minus
    the probability of the text with that word replaced by padding (0). With more than
    two labels, on the probability of the label in `columns` (one per text).

    Returns, per text, (word, contribution) pairs in the text's order; a word that was cut
    off (a text longer than `maxlen` loses its beginning, as in training) gets None. The
    variants are scored EXPLAIN_ROWS at a time, so memory stays flat however many texts.
    """
    columns = [0] * len(texts) if columns is None else columns
    words = [encoding.tokenize(text) for text in texts]
    result = [[[word, None] for word in text_words] for text_words in words]
    whole = {}
    rows, owners = [], []  # variants not scored yet, and which text and word each is

    def score(count: int) -> None:
        outputs = predict_outputs(model, np.stack(rows[:count]))
        for (t, i), output in zip(owners[:count], outputs, strict=True):
            probability = output[columns[t]]
            if i is None:
                whole[t] = probability  # each text's own row comes before its variants
            else:
                result[t][i][1] = float(whole[t] - probability)
        del rows[:count], owners[:count]

    def add(row: np.ndarray, owner: tuple[int, int | None]) -> None:
        rows.append(row)
        owners.append(owner)
        if len(rows) == EXPLAIN_ROWS:
            score(EXPLAIN_ROWS)

    for t, x in enumerate(encoding.encode_texts(texts)):
        add(x, (t, None))
        first = encoding.maxlen - len(words[t])  # where word 0 is, after the start token
        for i in range(max(0, -first), len(words[t])):  # the words cut off stay None
            variant = x.copy()
            variant[first + i] = 0
            add(variant, (t, i))
    if rows:
        score(len(rows))
    return [[tuple(pair) for pair in text] for text in result]


class Classifier:
    """A saved model version, loaded once, that says of texts what predict.py says:

        classifier = common.Classifier.load("cnn")  # the newest outputs/cnn/N/, or a folder
        for record in classifier.predict(["A wonderful film.", "Dull."]):
            print(record["label"], record["probabilities"])

    A text below the version's saved threshold (training's --target-accuracy), or
    `min_confidence`, gets `label` None and `abstained` true. A text with no word the
    model reads is refused with a UserError, as predict.py refuses it.
    """

    def __init__(
        self, model: keras.Model, encoding: TextEncoding, min_confidence: float | None = None
    ) -> None:
        self.model, self.encoding = model, encoding
        self.min_confidence = confidence_threshold(min_confidence, encoding)

    @classmethod
    def load(
        cls,
        model: ModelFiles | str | os.PathLike[str],
        models_dir: str | os.PathLike[str] = DEFAULT_OUTPUT_DIR,
        min_confidence: float | None = None,
    ) -> Classifier:
        """The version `model` names (as predict.py's --model does), from `models_dir`."""
        return cls(*load_model(model, models_dir), min_confidence=min_confidence)

    def predict(self, texts: Sequence[str], explain: bool = False) -> list[dict[str, object]]:
        """A record per text: its label, every label's probability, whether it abstained
        and (with `explain`) each word's contribution, as `predict.py --format json`."""
        check_texts([(f"text {i}", text) for i, text in enumerate(texts, start=1)])
        if explain:
            found = explained_records(self.model, self.encoding, texts)
        else:
            found = scored_records(self.model, self.encoding, texts)
        return found if self.min_confidence is None else abstain(found, self.min_confidence)
