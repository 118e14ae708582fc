"""model_card.md: what a saved model is, what it learned from, and how far to trust it.

Written into every version folder when it is saved (common/training.py), and by
`analyze_model.py --write-card` for a version saved before cards were. A card after
Mitchell et al., "Model Cards for Model Reporting" (2019), with what only a test of
the model itself can say: its accuracy and macro-F1 with 95% bootstrap intervals, each
label's precision and recall, its calibration, what it answers when it may abstain,
its accuracy by text length, and behavioural checks (common/behaviour.py).
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from common.behaviour import run_checks
from common.cli import printable
from common.data import Dataset, fit_size
from common.files import atomic_path, file_sha256
from common.report import class_figures, library_versions
from common.saving import TextEncoding
from common.scoring import score_texts

import keras
import numpy as np

from models.calibration import ABSTAIN_AT, CURVE_AT, CURVE_FLOOR, chosen_because, selective
from models.outputs import predicted, probabilities
from models.word_ids import START

CARD_FILE = "model_card.md"
RESAMPLES = 1000  # bootstrap resamples of the test texts
BOOTSTRAP_SEED = 7
LENGTH_BINS = (10, 30, 100, 300)  # words: 1-10, 11-30, 31-100, 101-300, more


@dataclasses.dataclass
class CardFacts:
    """What the card says, gathered where the model is saved (or analysed again)."""

    name: str  # the model's folder name: cnn, reviews_bow
    model_sha256: str  # of model.keras, the file the card describes
    script: str  # the script that trained it: train_cnn.py
    flags: dict  # every flag as it was parsed
    seed: int | None
    parameters: int  # trainable weights
    data: str  # where the texts came from: IMDB's archive (sha256 ...) or reviews.csv
    data_sha256: str | None  # of your own data's file; None for IMDB's (in `data`) or a folder
    split: str  # how the test texts were set apart
    labels: list[str]
    train_counts: list[int]  # texts of each label learned from (validation included)
    validation_texts: int
    y_test: np.ndarray
    outputs: np.ndarray  # the saved model's outputs for the test texts
    words: np.ndarray  # each test text's length in words, as the model read it
    maxlen: int
    calibration: dict | None  # the temperature or curve, ECE / Brier before and after; None: not
    min_confidence: float | None  # the saved threshold (--target-accuracy), if any
    checks: list[dict]
    versions: dict[str, str]  # of Python and the libraries
    saved: str = dataclasses.field(  # the day it was trained
        default_factory=lambda: datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    )
    written_later: bool = False  # by analyze_model.py, for a version saved without a card


def gather(
    model: keras.Model,
    encoding: TextEncoding,
    data: Dataset,
    outputs: np.ndarray,
    *,
    name: str,
    model_sha256: str,
    script: str,
    flags: dict,
    data_path: str | None,
    calibration: dict | None,
    versions: dict[str, str] | None = None,
    saved: str | None = None,
) -> CardFacts:
    """The card's facts of a saved model, its encoding, the data it was tested on and its
    outputs for the test texts; the behavioural checks are run here. `flags` are the
    training flags as parsed; `saved`, the day it was trained where that was not today
    (the card is then written later)."""
    split = flags.get("validation_split")
    fitted = fit_size(len(data.y_train), split) if isinstance(split, float) else len(data.y_train)
    own_file = data_path is not None and data.sha256 is None and Path(data_path).is_file()
    later = {"saved": saved, "written_later": True} if saved else {}
    return CardFacts(
        name=name,
        model_sha256=model_sha256,
        script=script,
        flags=flags,
        seed=flags.get("seed"),
        parameters=sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        data=data.source,
        data_sha256=file_sha256(data_path) if own_file else data.sha256,
        split=split_description(encoding.origin)
        + (" (--dry-run: the first 512)" if flags.get("dry_run") else ""),
        labels=list(data.labels),
        train_counts=np.bincount(data.y_train, minlength=len(data.labels)).tolist(),
        validation_texts=len(data.y_train) - fitted,
        y_test=np.asarray(data.y_test),
        outputs=outputs,
        words=words_read(data.x_test, encoding.maxlen),
        maxlen=encoding.maxlen,
        calibration=calibration,
        min_confidence=encoding.min_confidence,
        checks=run_checks(
            lambda texts: probabilities(score_texts(model, encoding, texts)), data.labels
        ),  # fmt: skip
        versions=versions or library_versions(),
        **later,
    )


def words_read(x: np.ndarray, maxlen: int) -> np.ndarray:
    """How many words of each text a model of `maxlen` reads: from padded ids (the start
    token and padding not counted), or from every word of each text, up to maxlen."""
    if x.dtype != object:
        return np.sum(np.asarray(x) > START, axis=1)
    return np.minimum([len(s) - 1 for s in x], maxlen)  # without the start token


def bootstrap(y: np.ndarray, guess: np.ndarray, num_labels: int) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of the accuracy and the macro-F1, over RESAMPLES resamples
    of the test texts (with replacement, seed BOOTSTRAP_SEED)."""
    rng = np.random.RandomState(BOOTSTRAP_SEED)
    k, n = num_labels, len(y)
    accuracy, macro_f1 = np.empty(RESAMPLES), np.empty(RESAMPLES)
    for r in range(RESAMPLES):
        rows = rng.randint(0, n, n)
        confusion = np.bincount(y[rows] * k + guess[rows], minlength=k * k).reshape(k, k)
        right = np.diag(confusion)
        accuracy[r] = right.sum() / n
        # F1 = 2 TP / (2 TP + FP + FN): 0 for a label neither present nor predicted
        both = confusion.sum(axis=0) + confusion.sum(axis=1)
        macro_f1[r] = np.mean(np.divide(2 * right, both, out=np.zeros(k), where=both > 0))
    return {name: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
            for name, v in (("accuracy", accuracy), ("macro_f1", macro_f1))}  # fmt: skip


def by_length(words: np.ndarray, right: np.ndarray, maxlen: int) -> list[tuple[str, int, float]]:
    """(words, texts, accuracy) for each bin of LENGTH_BINS that holds a text."""
    edges = [0, *[b for b in LENGTH_BINS if b < maxlen], maxlen]
    rows = []
    for low, high in zip(edges, edges[1:], strict=False):
        inside = (words > low) & (words <= high)
        name = f"{low + 1}-{high}" + (" (cut to it)" if high == maxlen else "")
        if inside.any():
            rows.append((name, int(inside.sum()), float(right[inside].mean())))
    return rows


def text(facts: CardFacts) -> str:
    """The card, as Markdown."""
    labels, y = facts.labels, facts.y_test
    guess = predicted(facts.outputs)
    figures = class_figures(y, guess, labels)
    intervals = bootstrap(y, guess, len(labels))
    accuracy = float(np.mean(guess == y))
    names = [printable(label) for label in labels]
    test_counts = np.bincount(y, minlength=len(labels))
    lines = [
        f"# Model card: {printable(facts.name)}",
        "",
        f"Trained by `{printable(facts.script)}` on {facts.saved}"
        + (
            " (this card written later, by analyze_model.py, on the same test texts)"
            if facts.written_later
            else ""
        )  # fmt: skip
        + f". It gives every text one of "
        f"{len(labels)} labels ({', '.join(names)}) and each label's probability. It knows "
        "only what its training texts taught it: read the accuracy by length and the "
        "behavioural checks below before using it on texts of another kind.",
        "",
        "## Data",
        "",
        "| | |",
        "|---|---|",
        f"| learned from | {printable(facts.data)} |",
    ]
    if facts.data_sha256:
        lines.append(f"| its sha256 | `{facts.data_sha256}` |")
    lines += [
        f"| texts | {sum(facts.train_counts):,} to learn from (the last {facts.validation_texts:,} "
        f"of them to validate on), {len(y):,} to test on |",
        f"| labels learned from | {_counts(names, facts.train_counts)} |",
        f"| labels tested on | {_counts(names, test_counts)} |",
        f"| test texts | {printable(facts.split)} |",
        "",
        "## Model",
        "",
        "| | |",
        "|---|---|",
        f"| script | `{printable(facts.script)}` |",
        f"| flags | `{printable(command_line(facts.flags))}` |",
        f"| seed | {facts.seed} |",
        f"| model.keras sha256 | `{facts.model_sha256}` |",
        f"| trained weights | {facts.parameters:,} |",
        f"| reads | the last {facts.maxlen:,} words of a text (a longer one loses its beginning),"
        " as word ids (encoding.json) |",
        f"| libraries | {', '.join(f'{k} {v}' for k, v in facts.versions.items())} |",
        "",
        f"## On the {len(y):,} test texts",
        "",
        f"Accuracy **{accuracy:.2%}** (95% interval {intervals['accuracy'][0]:.2%} to "
        f"{intervals['accuracy'][1]:.2%}); macro-F1 {figures['macro_f1']:.2%} (95% interval "
        f"{intervals['macro_f1'][0]:.2%} to {intervals['macro_f1'][1]:.2%}). The intervals: "
        f"{RESAMPLES:,} bootstrap resamples of the test texts; they say how much the figure "
        "owes to which texts were drawn for the test, not to the seed.",
        "",
        "| label | precision | recall | F1 | texts |",
        "|---|---|---|---|---|",
    ]
    for i, name in enumerate(names):
        lines.append(f"| {name} | {figures['precision'][i]:.2%} | {figures['recall'][i]:.2%} | "
                     f"{figures['f1'][i]:.2%} | {figures['texts'][i]:,} |")  # fmt: skip
    lines += ["", "## Calibration", ""]
    calibration = facts.calibration
    if calibration is None:
        lines.append("Not calibrated: its probabilities are the network's own (trained with "
                     "no validation texts, or saved before calibration).")  # fmt: skip
    else:
        before, after = calibration["before"], calibration["after"]
        lines += [
            f"{calibration_sentence(calibration)} On the test texts:",
            "",
            "| | expected calibration error | Brier score |",
            "|---|---|---|",
            f"| before | {before['ece']:.4f} | {before['brier']:.4f} |",
            f"| after | {after['ece']:.4f} | {after['brier']:.4f} |",
            "",
            "![Probability claimed and share right](calibration.png)",
        ]
    lines += ["", "## Saying \"not sure\"", "",
              "Where it answers only from a top probability P (`predict.py --min-confidence P`):",
              "", "| P | texts answered | right among them |", "|---|---|---|"]  # fmt: skip
    thresholds = sorted({*ABSTAIN_AT, *([facts.min_confidence] if facts.min_confidence else [])})
    for p in thresholds:
        answered, right = selective(facts.outputs, y, p)
        saved = " (saved: its default)" if p == facts.min_confidence else ""
        lines.append(f"| {p:.4g}{saved} | {answered:.2%} | "
                     f"{'none answered' if right is None else f'{right:.2%}'} |")  # fmt: skip
    lines += ["", "## Accuracy by text length", "", "| words | texts | accuracy |", "|---|---|---|"]
    for name, count, share in by_length(facts.words, guess == y, facts.maxlen):
        lines.append(f"| {name} | {count:,} | {share:.2%} |")
    lines += ["", "## Behavioural checks", ""]
    if not facts.checks:
        lines.append("None were run.")
    else:
        lines += [
            "Sentences made for the purpose, in the spirit of CheckList (Ribeiro et al., 2020; "
            "common/behaviour.py): each check compares pairs of sentences and passes a pair "
            "where the model does what anyone would expect.",
            "",
            "| check | passed | worst pair |",
            "|---|---|---|",
        ]
        for check in facts.checks:
            example = check["example"]
            label = names[example["label"]]
            before, after = (printable(example[key]) for key in ("before", "after"))
            worst = (f"\"{before}\" → \"{after}\": P({label}) {example['p_before']:.2f} → "
                     f"{example['p_after']:.2f}")  # fmt: skip
            lines.append(f"| {check['check']} | {check['passed']} of {check['pairs']} "
                         f"({check['passed'] / check['pairs']:.0%}) | {worst} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def split_description(origin: dict | None) -> str:
    """How the test texts were set apart, from the encoding's `origin` (None: IMDB)."""
    if not origin:
        return "the archive's own test reviews (test/)"
    if origin.get("test_split") is not None:
        return (f"a stratified hold-out of {origin['test_split']:.0%} of each label, drawn "
                f"with seed {origin['split_seed']}")  # fmt: skip
    return f"the test part {origin.get('test_data') or 'test/'}"


def command_line(flags: dict) -> str:
    """The flags as they would be typed: each set one, `--name value`, a switch bare; a
    data file by its name alone (the card says its sha256), not where it lay."""
    words = []
    for key, value in flags.items():
        if value is None or value is False:
            continue
        if key in ("data", "test_data"):
            value = Path(str(value)).name or value
        words.append(f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}"))
    return " ".join(words)


def _counts(names: list[str], counts) -> str:
    return ", ".join(f"{name} {int(c):,}" for name, c in zip(names, counts, strict=True))


def write(folder: str | Path, facts: CardFacts) -> Path:
    """Write the card into `folder` (a version being written, or one saved before)."""
    path = Path(folder) / CARD_FILE
    with atomic_path(path) as temporary:
        temporary.write_text(text(facts), encoding="utf-8")
    return path


def calibration_sentence(calibration: dict) -> str:
    """The card's sentence on what calibrates the model, and on how many texts."""
    texts = f"{calibration['validation_texts']:,} validation texts{chosen_because(calibration)}"
    if "curve" in calibration:
        slopes = ", ".join(f"{s:.3f}" for s in calibration["curve"]["slopes"])
        ends = ", ".join(f"{a:g}" for a in (CURVE_FLOOR, *CURVE_AT))
        return (f"An increasing curve on its log-probabilities, fitted on the {texts}, reshapes "
                f"its probabilities (the labels stay the same): slopes {slopes} between the "
                f"probabilities {ends}.")  # fmt: skip
    return (f"A temperature of {calibration['temperature']:.3f}, fitted on the {texts}, scales "
            "its probabilities (the labels stay the same).")  # fmt: skip
