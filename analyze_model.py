"""See where a trained model goes wrong, and how far to trust it on short texts.

Loads a model saved by any training script (train_mlp.py, train_cnn.py,
train_deep_cnn.py, train_lstm.py, train_bow.py, train_ensemble.py, train_minilm.py) and the
test texts it was trained beside (the IMDB test reviews, or the test part of your own
data, read with the columns and hold-out the model was trained with), then prints:

* its test accuracy on the whole texts (as the training script printed it), and each
  label's precision, recall and F1;
* its test accuracy on the same texts cut to their first N words (--first-words,
  default 30): how far to trust it on a one-line review or a tweet;
* for each label, the test texts of that label it got most confidently wrong
  (--show-errors, default 5), decoded back into words, with the label it gave them and
  how sure it was, and the file or line each came from;

and saves outputs/<model>_confusion.png, which label each label's test texts were
given, and outputs/<model>_length.png: its accuracy on the test texts cut to their first
10, 20, 30, 50, 100 and 200 words, and whole. Give several models, separated by commas,
to draw one line for each (saved as outputs/<model>+<model>_length.png).

    python analyze_model.py --model mlp --data aclImdb_v1.tar.gz
    python analyze_model.py --model cnn,deep_cnn,bow,ensemble --show-errors 0
    python analyze_model.py --model bow --data tweets.csv
    python analyze_model.py --model cnn --write-card   # a model saved without model_card.md

--write-card writes model_card.md into each model's version folder, as training writes
it now (common/model_card.py): for a version saved before cards were.

Nothing is chosen on these figures: they describe models that are already trained.
"""

from __future__ import annotations

import argparse
import datetime
import textwrap
from collections.abc import Sequence
from pathlib import Path

import common

import numpy as np

import models  # each piece loads at first use (models.outputs), after the flags

SHOW_WORDS = 80  # how much of each misclassified review to print
LENGTHS = (10, 20, 30, 50, 100, 200)  # the words kept for the length curve; then whole reviews


def main(argv: Sequence[str] | None = None) -> None:
    parser = common.cli.data_parser(__doc__, output_help="where the length plot is saved")
    common.cli.add_model_flags(parser)
    parser.add_argument(
        "--first-words", type=common.cli.positive_int, default=30, metavar="N",
        help="also score the test reviews cut to their first N words (default: 30)",
    )  # fmt: skip
    parser.add_argument(
        "--show-errors", type=common.cli.non_negative_int, default=5, metavar="N",
        help="how many of the most confidently wrong reviews to show; 0: none (default: 5)",
    )  # fmt: skip
    parser.add_argument(
        "--write-card", action="store_true",
        help="write model_card.md into each model's version folder (training writes it; "
        "this is for a version saved before it did)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.model.split(",") if name.strip()]
    if not names:
        raise common.UserError("--model is empty: name a model, e.g. --model cnn.")
    found = [common.find_model(name, args.models_dir) for name in names]
    output_dir = common.cli.prepare_output_dir(args.output_dir)
    loaded = [common.load_model(files) for files in found]

    # Every word and no padding: the texts can then be shortened, and decoded in full. Your
    # own data is read as the first model was trained on it, unless the flags say otherwise.
    options = trained_options(args, loaded[0][1])
    data = common.labeled.load_data(args.data, None, None, options)
    curves = {}
    for label, files, (model, encoding) in zip(curve_labels(names, found), found, loaded,
                                                strict=True):  # fmt: skip
        check_same_data(encoding, data)
        curves[label], outputs = analyze(model, encoding, data, files.model, args)
        if args.write_card:
            print(f"Wrote {write_card(files, model, encoding, data, outputs, args.data)}\n")
        plot_confusion(curves[label].pop(), data.labels, label,
                       output_dir / f"{label.replace('/', '-')}_confusion.png")  # fmt: skip

    plot_path = output_dir / f"{'+'.join(curves).replace('/', '-')}_length.png"
    median = np.median([len(s) - 1 for s in data.x_test])  # words, without the start token
    plot_lengths(curves, median, plot_path, data.num_classes)
    print(f"\nSaved {plot_path}")


def trained_options(
    args: argparse.Namespace, encoding: common.saving.TextEncoding
) -> common.labeled.Options:
    """How to read --data: the flags, and where they are silent, how the model's own
    data was read when it was trained (its columns and test part)."""
    options = common.labeled.options(args)
    origin = encoding.origin or {}
    columns = options.columns
    if columns.text is None and columns.label is None:
        columns.text, columns.label = origin.get("text_column"), origin.get("label_column")
    if options.test_data is None and origin.get("test_data"):  # its name, found beside --data
        options.test_data = str(Path(args.data).parent / Path(str(origin["test_data"])).name)
    if origin.get("test_split") is not None and options.test_split is None:
        options.test_split = origin["test_split"]
    if options.escape_char is None and isinstance(origin.get("escape_char"), str):
        options.escape_char = origin["escape_char"]
    if options.positive_label is None and len(encoding.labels) == 2 and origin:
        options.positive_label = encoding.labels[1]
    return options


def curve_labels(names: list[str], found: list[common.saving.ModelFiles]) -> list[str]:
    """Each model's name on the plot: its own (cnn), or, where two models share a name
    (seed7/bow, seed8/bow), --model's words for it, without .keras."""
    own = [files.name for files in found]
    labels = [name.removesuffix(".keras") if own.count(mine) > 1 else mine
              for name, mine in zip(names, own, strict=True)]  # fmt: skip
    if len(set(labels)) < len(labels):
        raise common.UserError(f"--model names the same model twice: {', '.join(names)}.")
    return labels


def analyze(
    model: object, encoding: common.saving.TextEncoding, data: common.data.Dataset, path: Path,
    args: argparse.Namespace,
) -> list:  # fmt: skip
    """Print one model's accuracies, figures per label and mistakes; return its accuracy at
    each of LENGTHS, whole, then its confusion matrix."""
    y_test = data.y_test

    def accuracy_and_outputs(words: int | None) -> tuple[float, np.ndarray]:
        # Keep the start token and the first N words: what a short text looks like.
        cut = data.x_test if words is None else [s[: 1 + words] for s in data.x_test]
        outputs = common.scoring.predict_outputs(model, encoding.prepare(cut))
        return float(np.mean(models.outputs.predicted(outputs) == y_test)), outputs

    accuracy, outputs = accuracy_and_outputs(None)
    by_length = {n: accuracy_and_outputs(n)[0] for n in {*LENGTHS, args.first_words}}
    figures = common.report.class_figures(y_test, models.outputs.predicted(outputs), data.labels)

    learned = common.saving.describe(encoding)
    print(f"Model {path}, learned from {learned}, on the {len(y_test):,} test texts:")
    print(f"  whole texts:           accuracy {accuracy:.2%}")
    print(f"  first {args.first_words} words only: accuracy {by_length[args.first_words]:.2%}")
    print("  by words kept:         " + ", ".join(f"{n}: {by_length[n]:.2%}" for n in LENGTHS))
    print("\nPer label, whole texts:")
    print(common.report.class_table(figures))
    if args.show_errors:
        show_mistakes(models.outputs.probabilities(outputs), data, args.show_errors)
    print()
    return [by_length[n] for n in LENGTHS] + [accuracy, figures["confusion"]], outputs


def write_card(
    files: common.saving.ModelFiles, model: object, encoding: common.saving.TextEncoding,
    data: common.data.Dataset, outputs: np.ndarray, data_path: str | None,
) -> Path:  # fmt: skip
    """Write model_card.md beside the model, from its metrics file and this test."""
    metrics_path = files.folder / common.saving.METRICS_FILE
    try:
        metrics = common.files.read_json(metrics_path, 64 * 2**20)
    except (OSError, ValueError):
        metrics = None
    if not isinstance(metrics, dict):
        raise common.UserError(
            f"{str(metrics_path)!r} cannot be read: the card needs the metrics its training saved."
        )
    trained = datetime.datetime.fromtimestamp(files.model.stat().st_mtime, datetime.UTC)
    facts = common.model_card.gather(
        model, encoding, data, outputs, name=files.name,
        model_sha256=common.files.file_sha256(files.model),
        script=metrics.get("script") or script_of(files.name),
        flags={k: v for k, v in metrics.items() if k not in common.report.REPORT_FIELDS},
        data_path=data_path, calibration=metrics.get("calibration"),
        versions=metrics.get("versions"), saved=trained.strftime("%Y-%m-%d"),
    )  # fmt: skip
    return common.model_card.write(files.folder, facts)


def script_of(name: str) -> str:
    """The script that saves a model of this name: cnn, or reviews_cnn for your own data."""
    known = [key for key in common.cli.MODELS if name == key or name.endswith(f"_{key}")]
    return common.cli.MODELS[max(known, key=len)][0] if known else "a training script"


def show_mistakes(probabilities: np.ndarray, data: common.data.Dataset, count: int) -> None:
    """For each label, print the `count` test texts of that label the model was most
    confidently wrong about: the highest probability it gave another label."""
    y_test, labels = data.y_test, data.labels
    given = np.argmax(probabilities, axis=1)
    wrong = np.flatnonzero(given != y_test)
    print(f"\n{len(wrong):,} test texts misclassified.")
    for c, label in enumerate(labels):
        mine = wrong[y_test[wrong] == c]
        sure = probabilities[mine, given[mine]]
        worst = mine[np.argsort(-sure, kind="stable")][:count]
        if not len(worst):
            continue
        print(f"\nLabeled {common.cli.printable(label)}, but given another label "
              f"({len(mine):,}); the {len(worst)} most confident:")  # fmt: skip
        texts = common.data.decode_many(data.x_test[worst], data.word_index)
        for rank, (i, text) in enumerate(zip(worst, texts, strict=True), start=1):
            words = text.split()
            shown = " ".join(words[:SHOW_WORDS]) + (" ..." if len(words) > SHOW_WORDS else "")
            where = f", {common.cli.printable(source(data, i))}" if data.test_files else ""
            print(
                f"\n{rank}. P({common.cli.printable(labels[given[i]])}) = "
                f"{probabilities[i, given[i]]:.4f} ({len(words)} words{where}):"
            )
            print(textwrap.fill(shown, width=88, initial_indent="   ", subsequent_indent="   "))


def source(data: common.data.Dataset, i: int) -> str:
    """Where test text `i` came from: aclImdb/test/neg/0_2.txt, line 12, neutral/3.txt."""
    return data.test_files[i] if data.origin else f"aclImdb/{data.test_files[i]}"


def plot_confusion(confusion: list[list[int]], labels: list[str], name: str, path: Path) -> None:
    """Which label each label's test texts were given, as a share of that label's texts."""
    from matplotlib.figure import Figure

    counts = np.array(confusion)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 3.5 + 0.6 * len(labels)
    figure = Figure(figsize=(size + 1.5, size), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    shown = [common.cli.printable(label)[:20] for label in labels]
    axes.set_xticks(range(len(labels)), shown, rotation=30 if len(labels) > 3 else 0)
    axes.set_yticks(range(len(labels)), shown)
    if len(labels) <= 20:  # a number in each cell: the share of the row, and the count
        for (row, col), share in np.ndenumerate(shares):
            axes.text(col, row, f"{share:.0%}\n{counts[row, col]:,}", ha="center", va="center",
                      fontsize=9, color="white" if share > 0.6 else "black")  # fmt: skip
    axes.set_xlabel("label the model gave")
    axes.set_ylabel("true label")
    axes.set_title(f"{name}: which label each label's test texts got")
    figure.colorbar(image, ax=axes, label="share of the true label's texts")
    common.report.save_figure(figure, path)
    print(f"Saved {path}")


def plot_lengths(
    curves: dict[str, list[float]], median: float, path: Path, num_classes: int = 2
) -> None:
    """Accuracy against the words kept of each test review, one line per model; the line
    of guessing at random among `num_classes` labels (a coin toss for two)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5.5), layout="constrained")
    axes = figure.subplots()
    positions = np.arange(len(LENGTHS) + 1)  # evenly spaced: 10, 20, ... 200, whole
    for name, accuracies in curves.items():
        percent = 100 * np.array(accuracies)
        axes.plot(positions, percent, marker="o", label=f"{name} ({percent[-1]:.1f}% whole)")
    chance = 100 / num_classes
    guess = "a coin toss" if num_classes == 2 else f"a guess among {num_classes} labels"
    axes.axhline(chance, color="grey", linestyle=":", linewidth=1)
    axes.annotate(guess, (positions[0], chance), xytext=(0, 3), textcoords="offset points",
                  color="grey", fontsize=9)  # fmt: skip
    axes.set_xticks(positions, [*map(str, LENGTHS), f"whole\n(median {median:.0f})"])
    axes.set_xlabel("words kept from the start of each test review")
    axes.set_ylabel("test accuracy (%)")
    axes.set_ylim(chance - 5, 100)
    axes.set_title("How far to trust a model on short texts: the test reviews cut short")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")  # short texts score low: that corner stays free
    common.report.save_figure(figure, path)


def check_same_data(encoding: common.saving.TextEncoding, data: common.data.Dataset) -> None:
    """The model must have been trained on data encoded with this data's word ranks and
    labels."""
    if encoding.labels != data.labels:
        raise common.UserError(
            f"the model tells apart {', '.join(map(repr, encoding.labels))}, but --data has the "
            f"labels {', '.join(map(repr, data.labels))}: analyze it with the data it was "
            "trained on."
        )
    if any(data.word_index.get(word) != rank for word, rank in encoding.word_index.items()):
        raise common.UserError(
            "the model was trained on texts encoded with another vocabulary than --data "
            "gives: analyze it with the data source it was trained on."
        )


if __name__ == "__main__":
    common.run(main)
