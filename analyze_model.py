"""See where a trained model goes wrong, and how it copes with short texts.

Loads a model saved by any training script (train_mlp.py, train_cnn.py,
train_deep_cnn.py, train_lstm.py, train_bow.py, train_ensemble.py) and the test
reviews, then prints:

* its test accuracy on the whole reviews (as the training script printed it);
* its test accuracy on the same reviews cut to their first N words (--first-words,
  default 30): how far to trust it on a one-line review or a tweet;
* the test reviews it got most confidently wrong (--show-errors, default 5),
  decoded back into words, with the probability it gave them and, for the Stanford
  dataset, the file each came from.

    python analyze_model.py --model mlp --data ../shared/data/aclImdb_labeled.tar.gz

Nothing is chosen on these figures: they describe a model that is already trained.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np

import common

SHOW_WORDS = 80  # how much of each misclassified review to print


def main(argv: Sequence[str] | None = None) -> None:
    parser = common.data_parser(__doc__, writes=False)
    common.cli.add_model_flags(parser)
    parser.add_argument(
        "--first-words", type=common.cli.positive_int, default=30, metavar="N",
        help="also score the test reviews cut to their first N words (default: 30)",
    )  # fmt: skip
    parser.add_argument(
        "--show-errors", type=common.cli.positive_int, default=5, metavar="N",
        help="how many of the most confidently wrong reviews to show (default: 5)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    model_path = common.resolve_model_path(args.model, args.models_dir)
    model, encoding = common.load_model(model_path)

    # Every word and no padding: the reviews can then be shortened, and decoded in full.
    data = common.load_imdb(args.data, num_words=None, maxlen=None)
    check_same_vocabulary(encoding, data.word_index)
    y_test = data.y_test

    def accuracy_and_probabilities(sequences: Sequence[np.ndarray]) -> tuple[float, np.ndarray]:
        x = encoding.prepare(sequences)
        probabilities = model.predict(x, batch_size=256, verbose=0)[:, 0]
        return float(np.mean((probabilities >= 0.5) == y_test)), probabilities

    accuracy, probabilities = accuracy_and_probabilities(data.x_test)
    # Keep the start token and the first N words: what a short text looks like to the model.
    short_accuracy, _ = accuracy_and_probabilities([s[: 1 + args.first_words] for s in data.x_test])

    print(f"Model {model_path}, on the {len(y_test):,} test reviews:")
    print(f"  whole reviews:         accuracy {accuracy:.2%}")
    print(f"  first {args.first_words} words only: accuracy {short_accuracy:.2%}")

    # Confidently wrong: a positive review scored near 0, or a negative one near 1.
    error = np.abs(probabilities - y_test)
    wrong = np.flatnonzero(error >= 0.5)
    worst = wrong[np.argsort(-error[wrong], kind="stable")][: args.show_errors]
    print(f"\n{len(wrong):,} test reviews misclassified; the {len(worst)} most confident mistakes:")
    texts = common.decode_many(data.x_test[worst], data.word_index)
    for rank, (i, text) in enumerate(zip(worst, texts, strict=True), start=1):
        truth = "positive" if y_test[i] == 1 else "negative"
        words = text.split()
        shown = " ".join(words[:SHOW_WORDS]) + (" ..." if len(words) > SHOW_WORDS else "")
        where = f", aclImdb/{data.test_files[i]}" if data.test_files else ""
        print(
            f"\n{rank}. P(positive) = {probabilities[i]:.4f}, but the review is {truth}"
            f" ({len(words)} words{where}):"
        )
        print(textwrap.fill(shown, width=88, initial_indent="   ", subsequent_indent="   "))


def check_same_vocabulary(encoding: common.TextEncoding, word_index: dict[str, int]) -> None:
    """The model must have been trained on data encoded with this data's word ranks."""
    if any(word_index.get(word) != rank for word, rank in encoding.word_index.items()):
        raise common.UserError(
            "the model was trained on reviews encoded with another vocabulary than --data "
            "gives: analyze it with the data source it was trained on."
        )


if __name__ == "__main__":
    common.run(main)
