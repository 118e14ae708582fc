"""See where a trained model goes wrong, and how far to trust it on short texts.

Loads a model saved by any training script (train_mlp.py, train_cnn.py,
train_deep_cnn.py, train_lstm.py, train_bow.py, train_ensemble.py, train_minilm.py) and the test
reviews, then prints:

* its test accuracy on the whole reviews (as the training script printed it);
* its test accuracy on the same reviews cut to their first N words (--first-words,
  default 30): how far to trust it on a one-line review or a tweet;
* the test reviews it got most confidently wrong (--show-errors, default 5),
  decoded back into words, with the probability it gave them and, for the Stanford
  dataset, the file each came from;

and saves outputs/<model>_length.png: its accuracy on the test reviews cut to their
first 10, 20, 30, 50, 100 and 200 words, and whole. Give several models, separated
by commas, to draw one line for each (saved as outputs/<model>+<model>_length.png).

    python analyze_model.py --model mlp --data aclImdb_v1.tar.gz
    python analyze_model.py --model cnn,deep_cnn,bow,ensemble --show-errors 0

Nothing is chosen on these figures: they describe models that are already trained.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import common

SHOW_WORDS = 80  # how much of each misclassified review to print
LENGTHS = (10, 20, 30, 50, 100, 200)  # the words kept for the length curve; then whole reviews


def main(argv: Sequence[str] | None = None) -> None:
    parser = common.data_parser(__doc__, output_help="where the length plot is saved")
    common.cli.add_model_flags(parser)
    parser.add_argument(
        "--first-words", type=common.cli.positive_int, default=30, metavar="N",
        help="also score the test reviews cut to their first N words (default: 30)",
    )  # fmt: skip
    parser.add_argument(
        "--show-errors", type=common.cli.non_negative_int, default=5, metavar="N",
        help="how many of the most confidently wrong reviews to show; 0: none (default: 5)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.model.split(",") if name.strip()]
    if not names:
        raise common.UserError("--model is empty: name a model, e.g. --model cnn.")
    found = [common.find_model(name, args.models_dir) for name in names]
    output_dir = common.prepare_output_dir(args.output_dir)

    # Every word and no padding: the reviews can then be shortened, and decoded in full.
    data = common.load_imdb(args.data, num_words=None, maxlen=None)
    curves = {}
    for label, files in zip(curve_labels(names, found), found, strict=True):
        model, encoding = common.load_model(files)
        check_same_vocabulary(encoding, data.word_index)
        curves[label] = analyze(model, encoding, data, files.model, args)

    plot_path = output_dir / f"{'+'.join(curves).replace('/', '-')}_length.png"
    median = np.median([len(s) - 1 for s in data.x_test])  # words, without the start token
    plot_lengths(curves, median, plot_path)
    print(f"\nSaved {plot_path}")


def curve_labels(names: list[str], found: list[common.ModelFiles]) -> list[str]:
    """Each model's name on the plot: its own (cnn), or, where two models share a name
    (seed7/bow, seed8/bow), --model's words for it, without .keras."""
    own = [files.name for files in found]
    labels = [name.removesuffix(".keras") if own.count(mine) > 1 else mine
              for name, mine in zip(names, own, strict=True)]  # fmt: skip
    if len(set(labels)) < len(labels):
        raise common.UserError(f"--model names the same model twice: {', '.join(names)}.")
    return labels


def analyze(
    model: object, encoding: common.TextEncoding, data: common.Imdb, path: Path,
    args: argparse.Namespace,
) -> list[float]:  # fmt: skip
    """Print one model's accuracies and mistakes; return its accuracy at each of LENGTHS, whole."""
    y_test = data.y_test

    def accuracy_and_probabilities(words: int | None) -> tuple[float, np.ndarray]:
        # Keep the start token and the first N words: what a short text looks like.
        cut = data.x_test if words is None else [s[: 1 + words] for s in data.x_test]
        probabilities = model.predict(encoding.prepare(cut), batch_size=256, verbose=0)[:, 0]
        return float(np.mean((probabilities >= 0.5) == y_test)), probabilities

    accuracy, probabilities = accuracy_and_probabilities(None)
    by_length = {n: accuracy_and_probabilities(n)[0] for n in {*LENGTHS, args.first_words}}

    print(f"Model {path}, on the {len(y_test):,} test reviews:")
    print(f"  whole reviews:         accuracy {accuracy:.2%}")
    print(f"  first {args.first_words} words only: accuracy {by_length[args.first_words]:.2%}")
    print("  by words kept:         " + ", ".join(f"{n}: {by_length[n]:.2%}" for n in LENGTHS))
    if args.show_errors:
        show_mistakes(probabilities, data, args.show_errors)
    print()
    return [by_length[n] for n in LENGTHS] + [accuracy]


def show_mistakes(probabilities: np.ndarray, data: common.Imdb, count: int) -> None:
    """Print the `count` test reviews the model was most confidently wrong about."""
    y_test = data.y_test
    # Confidently wrong: a positive review scored near 0, or a negative one near 1.
    error = np.abs(probabilities - y_test)
    wrong = np.flatnonzero(error >= 0.5)
    worst = wrong[np.argsort(-error[wrong], kind="stable")][:count]
    print(f"\n{len(wrong):,} test reviews misclassified; the {len(worst)} most confident:")
    texts = common.decode_many(data.x_test[worst], data.word_index)
    for rank, (i, text) in enumerate(zip(worst, texts, strict=True), start=1):
        truth = "positive" if y_test[i] == 1 else "negative"
        words = text.split()
        shown = " ".join(words[:SHOW_WORDS]) + (" ..." if len(words) > SHOW_WORDS else "")
        where = f", aclImdb/{common.cli.printable(data.test_files[i])}" if data.test_files else ""
        print(
            f"\n{rank}. P(positive) = {probabilities[i]:.4f}, but the review is {truth}"
            f" ({len(words)} words{where}):"
        )
        print(textwrap.fill(shown, width=88, initial_indent="   ", subsequent_indent="   "))


def plot_lengths(curves: dict[str, list[float]], median: float, path: Path) -> None:
    """Accuracy against the words kept of each test review, one line per model."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5.5), layout="constrained")
    axes = figure.subplots()
    positions = np.arange(len(LENGTHS) + 1)  # evenly spaced: 10, 20, ... 200, whole
    for name, accuracies in curves.items():
        percent = 100 * np.array(accuracies)
        axes.plot(positions, percent, marker="o", label=f"{name} ({percent[-1]:.1f}% whole)")
    axes.axhline(50, color="grey", linestyle=":", linewidth=1)
    axes.annotate("a coin toss", (positions[0], 50), xytext=(0, 3), textcoords="offset points",
                  color="grey", fontsize=9)  # fmt: skip
    axes.set_xticks(positions, [*map(str, LENGTHS), f"whole\n(median {median:.0f})"])
    axes.set_xlabel("words kept from the start of each test review")
    axes.set_ylabel("test accuracy (%)")
    axes.set_ylim(45, 100)
    axes.set_title("How far to trust a model on short texts: the test reviews cut short")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")  # short texts score low: that corner stays free
    common.save_figure(figure, path)


def check_same_vocabulary(encoding: common.TextEncoding, word_index: dict[str, int]) -> None:
    """The model must have been trained on data encoded with this data's word ranks."""
    if any(word_index.get(word) != rank for word, rank in encoding.word_index.items()):
        raise common.UserError(
            "the model was trained on reviews encoded with another vocabulary than --data "
            "gives: analyze it with the data source it was trained on."
        )


if __name__ == "__main__":
    common.run(main)
