"""Look at the IMDB reviews (or your own texts) before modelling them.

Loads all 50,000 reviews (training and test together, every word, no padding) and
prints their shape, the classes, how many distinct words they use, how long they
are, and one review decoded back into words. Saves outputs/review_length.png: the
review lengths as a box plot and a histogram, with the 500-word cut the models use.
Your own data (docs/your-own-data.md) is shown the same way.

    python explore_dataset.py --data aclImdb_v1.tar.gz
    python explore_dataset.py --data tweets.csv
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import common

import numpy as np
from matplotlib.figure import Figure

from models.word_ids import INDEX_FROM

MAXLEN = common.data.MAXLEN  # the models see 500 tokens of every review
SHOW_WORDS = 120  # how much of the example review to print
MAX_BINS = 200  # a histogram with more bars than this is unreadable, and slow to draw


def main(argv: Sequence[str] | None = None) -> None:
    args = common.cli.data_parser(__doc__).parse_args(argv)
    output_dir = common.cli.prepare_output_dir(args.output_dir)

    # Every word (num_words=None) and no padding (maxlen=None): the reviews as they are.
    data = common.labeled.load_data(args.data, None, None, common.labeled.options(args))
    X = np.concatenate((data.x_train, data.x_test))
    y = np.concatenate((data.y_train, data.y_test))
    print(f"Reviews: X {X.shape}, y {y.shape}")
    print(f"         {len(data.x_train):,} for training, {len(data.x_test):,} for testing")
    counts = np.bincount(y, minlength=data.num_classes)
    classes = [f"{c} = {common.cli.printable(label)} ({n / len(y):.0%})"
               for c, (label, n) in enumerate(zip(data.labels, counts, strict=True))]  # fmt: skip
    print("Classes: " + ", ".join(classes))

    # Indices up to INDEX_FROM are markers (start, unknown word), not words.
    indices = np.unique(np.hstack(X))
    print(f"Distinct words: {np.count_nonzero(indices > INDEX_FROM):,}")

    tokens = np.array([len(x) for x in X])  # what the models see: the start token + the words
    words = tokens - 1
    print(f"Review length: mean {words.mean():.2f} words, standard deviation {words.std():.2f}")
    print(
        f"               median {np.median(words):.0f}, from {words.min()} to {words.max()} words"
    )
    fits = np.mean(tokens <= MAXLEN)
    print(f"Reviews that fit in {MAXLEN} tokens uncut: {fits:.1%}")

    review = common.data.decode(data.x_train[0], data.word_index).split()
    label = common.cli.printable(data.labels[data.y_train[0]])
    shown = " ".join(review[:SHOW_WORDS]) + (" ..." if len(review) > SHOW_WORDS else "")
    print(f"\nThe first training review, decoded ({label}, {len(review)} words):")
    print(textwrap.fill(shown, width=88, initial_indent="  ", subsequent_indent="  "))

    path = output_dir / "review_length.png"
    name = "IMDB reviews" if data.origin is None else "texts"
    common.report.save_figure(plot_review_lengths(words, fits, name), path)
    print(f"\nSaved {path}")


def plot_review_lengths(words: np.ndarray, fits: float, name: str = "IMDB reviews") -> Figure:
    """The tutorial's box plot of review lengths, with a histogram beside it."""
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    box, hist = figure.subplots(1, 2, width_ratios=(1, 3))

    box.boxplot(words, flierprops={"markersize": 2, "alpha": 0.3})
    box.axhline(MAXLEN, color="tab:red", linestyle="--")
    box.set_xticks([])
    box.set_ylabel("words per review")
    box.set_title("Box plot")

    # The longest reviews would stretch the axis far past where the bars are visible
    # (and one enormous review would ask for thousands of bins): cut at the 99.5th
    # percentile, rounded up to 100 words, and say how many lie beyond.
    limit = max(int(np.ceil(np.percentile(words, 99.5, method="lower") / 100)) * 100, MAXLEN + 100)
    beyond = int(np.count_nonzero(words > limit))
    width = max(25, int(np.ceil(limit / MAX_BINS / 25)) * 25)  # 25 words, unless that is too fine
    hist.hist(words[words <= limit], bins=np.arange(0, limit + width, width), color="tab:blue")
    hist.set_xlim(0, limit)
    if beyond:
        hist.annotate(
            f"{beyond:,} longer review{'s' if beyond > 1 else ''},\nup to {words.max():,} "
            f"words,\n{'are' if beyond > 1 else 'is'} not shown",
            xy=(0.98, 0.5), xycoords="axes fraction", ha="right", va="center",
            fontsize="small", color="dimgray",
        )  # fmt: skip
    hist.axvline(
        MAXLEN, color="tab:red", linestyle="--", label=f"{MAXLEN}: {fits:.1%} of reviews fit"
    )
    hist.set_xlabel("words per review")
    hist.set_ylabel("reviews")
    hist.set_title(f"Histogram (bins of {width:,} words)")
    hist.legend()
    figure.suptitle(f"Length of the {len(words):,} {name}")
    return figure


if __name__ == "__main__":
    common.run(main)
