"""Look inside a trained model's word embedding: what did those 5,000 x 32 numbers learn?

The first layer of every network here, `Embedding(5000, 32)`, is a table with one row
of 32 numbers per word id: row i holds the word of frequency rank i - 3 ("the" is row
4). The numbers start random and are learned by `fit`, like every other weight, so
words that push a review the same way end up with similar rows. This script prints:

* the table's shape and one row, to see what it holds;
* for some words (--words), the words whose rows are most alike (cosine similarity);

and saves outputs/<model>_embedding.png: the most frequent words (--top) projected
from 32 dimensions to 2 (PCA, the two directions along which the rows vary most),
coloured by how each word alone moves the model's prediction, the clearest labelled
(with more than two labels: by the label each word alone pushes towards most,
compared with the average word).

    python explore_embeddings.py --model cnn
    python explore_embeddings.py --model deep_cnn --words excellent,awful,plot

Read the table in your own code with `model.layers[0].get_weights()[0]` (the
sequential models' first layer; `explore_embeddings.word_embedding` finds it in any
model), and a word's row as `table[word_index[word] + 3]`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path

import common

import numpy as np

WORDS = "excellent,awful,boring,plot,not"  # words a reader tries first
NEIGHBOURS = 8  # how many most similar words to print for each
TOP = 500  # how many of the most frequent words to place on the map
LABELLED = 16  # how many of the words that push hardest each way to label on the map
SHOWN_NUMBERS = 8  # how many of a row's numbers to print


def word_embedding(model: object, num_words: int) -> np.ndarray:
    """The (num_words, dim) table of the model's word Embedding layer, searched in nested models.

    A bag of n-grams has Embedding layers too, but over n-gram features with one number
    each: they are weights of a linear model, not word vectors, and are not returned.
    """
    import keras  # loaded with the model; not at the top, so that --help need not load it

    def all_layers(parent: keras.Model) -> Iterator[keras.Layer]:
        for layer in parent.layers:  # the ensemble holds whole models as layers
            yield layer
            if isinstance(layer, keras.Model):
                yield from all_layers(layer)

    for layer in all_layers(model):
        if isinstance(layer, keras.layers.Embedding) and layer.input_dim == num_words:
            if layer.output_dim > 1:
                return keras.ops.convert_to_numpy(layer.embeddings)
    raise common.UserError(
        f"the model {model.name!r} has no word embedding (an Embedding layer with a row of "
        f"several numbers for each of its {num_words:,} word ids) to explore; try cnn, "
        "mlp, deep_cnn or lstm."
    )


def cosine_neighbours(
    table: np.ndarray, row: int, candidates: np.ndarray, count: int
) -> list[tuple[int, float]]:
    """The `count` rows among `candidates` most similar to `row` (cosine), best first."""
    candidates = candidates[candidates != row]
    norms = np.linalg.norm(table[candidates], axis=1) * np.linalg.norm(table[row]) + 1e-12
    similarity = table[candidates] @ table[row] / norms
    best = np.argsort(-similarity, kind="stable")[:count]
    return [(int(candidates[i]), float(similarity[i])) for i in best]


def word_pushes(model: object, encoding: common.saving.TextEncoding, ids: np.ndarray) -> np.ndarray:
    """How each word alone moves P(positive): P(start, word) - P(start), padded as any text.
    With more than two labels, each label's probability: shape (words, labels)."""
    texts = encoding.prepare([[encoding.start, i] for i in ids] + [[encoding.start]])
    probabilities = model.predict(texts, batch_size=1024, verbose=0)
    if probabilities.shape[1] == 1:
        probabilities = probabilities[:, 0]
    return probabilities[:-1] - probabilities[-1]


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows projected on their two main directions, and the share of variance each holds."""
    centred = vectors - vectors.mean(axis=0)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    total = np.sum(singular**2)
    variance = singular**2 / total if total > 0 else np.zeros_like(singular)  # identical rows
    return centred @ directions[:2].T, variance[:2]


def plot_map(
    points: np.ndarray, pushes: np.ndarray, words: list[str], labelled: set[int],
    variance: np.ndarray, title: str, path: Path,
) -> None:  # fmt: skip
    """The map: one dot per word, red to green by push, the chosen words labelled."""
    from matplotlib import patheffects
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 8.5), layout="constrained")
    axes = figure.subplots()
    limit = float(np.max(np.abs(pushes))) or 1.0
    dots = axes.scatter(
        points[:, 0], points[:, 1], c=pushes, s=16, cmap="RdYlGn",
        norm=TwoSlopeNorm(0.0, -limit, limit), edgecolors="grey", linewidths=0.3,
    )  # fmt: skip
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    middle = (points[:, 0].min() + points[:, 0].max()) / 2
    for i in sorted(labelled):
        right = points[i, 0] > middle  # labels point inwards, so none runs off the edge
        axes.annotate(
            words[i], points[i], xytext=(-4 if right else 4, 3), textcoords="offset points",
            ha="right" if right else "left", fontsize=9, path_effects=halo,
        )  # fmt: skip
    axes.margins(0.06)
    colorbar = figure.colorbar(dots, ax=axes, shrink=0.8)
    colorbar.set_label("P(positive) of the word alone, minus that of an empty text")
    axes.set_xlabel(f"first principal direction ({variance[0]:.0%} of the variance)")
    axes.set_ylabel(f"second principal direction ({variance[1]:.0%} of the variance)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    common.report.save_figure(figure, path)


def plot_label_map(
    points: np.ndarray, pushes: np.ndarray, words: list[str], labelled: set[int],
    variance: np.ndarray, labels: list[str], title: str, path: Path,
) -> None:  # fmt: skip
    """The map for more than two labels: each word in the colour of the label it alone
    pushes towards most, the stronger the push the more opaque."""
    from matplotlib import patheffects
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 8.5), layout="constrained")
    axes = figure.subplots()
    towards, strength = np.argmax(pushes, axis=1), np.max(pushes, axis=1)
    opacity = 0.15 + 0.85 * np.clip(strength / (strength.max() or 1.0), 0, 1)
    palette = [f"C{i % 10}" for i in range(len(labels))]
    for c, label in enumerate(labels):
        mine = towards == c
        if not mine.any():
            continue
        axes.scatter(points[mine, 0], points[mine, 1], s=16, color=palette[c],
                     alpha=opacity[mine], edgecolors="none",
                     label=f"{common.cli.printable(label)[:30]} ({mine.sum()})")  # fmt: skip
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    middle = (points[:, 0].min() + points[:, 0].max()) / 2
    for i in sorted(labelled):
        right = points[i, 0] > middle
        axes.annotate(
            words[i], points[i], xytext=(-4 if right else 4, 3), textcoords="offset points",
            ha="right" if right else "left", fontsize=9, path_effects=halo,
            color=palette[towards[i]],
        )  # fmt: skip
    axes.margins(0.06)
    axes.legend(title="pushes most towards\n(against the average word)", loc="best", fontsize=9)
    axes.set_xlabel(f"first principal direction ({variance[0]:.0%} of the variance)")
    axes.set_ylabel(f"second principal direction ({variance[1]:.0%} of the variance)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    common.report.save_figure(figure, path)


def at_least_two(text: str) -> int:
    """An argparse type for --top: a map in 2 dimensions needs 2 words at least."""
    value = common.cli.positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"a map needs at least 2 words, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common.cli.add_model_flags(parser)
    parser.add_argument(
        "--words", default=WORDS,
        help=f"comma-separated words to find the neighbours of (default: {WORDS})",
    )  # fmt: skip
    parser.add_argument(
        "--top", type=at_least_two, default=TOP, metavar="N",
        help=f"how many of the most frequent words to place on the map, 2 or more "
        f"(default: {TOP})",
    )  # fmt: skip
    parser.add_argument(
        "--output-dir", default=common.cli.DEFAULT_OUTPUT_DIR, metavar="DIR",
        help=f"where the map is saved (default: {common.cli.DEFAULT_OUTPUT_DIR}/)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    queries = [word.strip().lower() for word in args.words.split(",") if word.strip()]
    if not queries:
        raise common.UserError("--words is empty: give at least one word, e.g. --words good.")
    output_dir = common.cli.prepare_output_dir(args.output_dir)
    files = common.find_model(args.model, args.models_dir)
    model, encoding = common.load_model(files)
    name = files.name
    rows = {word: rank + encoding.index_from for word, rank in encoding.word_index.items()}
    unknown = [word for word in queries if word not in rows]
    if unknown:
        raise common.UserError(
            f"{unknown[0]!r} is not one of the {len(rows):,} words the model knows (the most "
            "frequent words of the training reviews, lowercase); try another word."
        )

    # The table: one row per word id, learned by fit like any other weight.
    table = word_embedding(model, encoding.num_words)
    words = {row: word for word, row in rows.items()}
    known = np.array(sorted(words))  # the rows of words: not padding, start, OOV or unused ids
    example = queries[0]
    shown = ", ".join(f"{v:+.3f}" for v in table[rows[example], :SHOWN_NUMBERS])
    print(f"Model {files.model}: word embedding of {table.shape[0]:,} rows x {table.shape[1]} "
          f"numbers ({table.size:,} weights, learned in training)")  # fmt: skip
    print(f"Row {rows[example]} is {example!r} (rank {rows[example] - encoding.index_from}): "
          f"[{shown}, ...]")  # fmt: skip

    # Neighbours: the words whose rows point the most the same way.
    print(f"\nMost similar words (cosine similarity of their rows), {NEIGHBOURS} per word:")
    for word in queries:
        neighbours = cosine_neighbours(table, rows[word], known, NEIGHBOURS)
        listed = ", ".join(f"{words[i]} {s:.2f}" for i, s in neighbours)
        print(f"  {word:>12}: {listed}")

    # The map: the most frequent words, in two dimensions, coloured by their push.
    top = known[: args.top]  # rows in order of frequency
    pushes = word_pushes(model, encoding, top)
    points, variance = pca_2d(table[top])
    top_words = [words[int(i)] for i in top]
    queried = {int(np.flatnonzero(top == rows[w])[0]) for w in queries if rows[w] in top}
    if pushes.ndim == 1:  # two labels: how far towards positive
        order = np.argsort(pushes, kind="stable")
        labelled = set(order[:LABELLED]) | set(order[-LABELLED:]) | queried
        varies = np.ptp(points[:, 0]) > 0 and np.ptp(pushes) > 0  # else no correlation exists
        correlation = np.corrcoef(points[:, 0], pushes)[0, 1] if varies else None
        relation = (f"correlates {correlation:+.2f} with" if correlation is not None
                    else "cannot be compared with, as one of them does not vary,")  # fmt: skip
        print(
            f"\nThe {len(top)} most frequent words in 2 dimensions keep {variance.sum():.0%} "
            f"of the rows' variance; the first direction {relation} how each word alone moves "
            "the prediction."
        )
    else:  # more labels: towards which label, and how far
        # Compared with the average word's: a single word is no text, and alone every word
        # may move the labels the same way; what tells words apart is how they differ.
        pushes = pushes - pushes.mean(axis=0)
        order = np.argsort(-pushes.max(axis=1), kind="stable")
        labelled = set(order[: 2 * LABELLED]) | queried
        towards = np.bincount(np.argmax(pushes, axis=1), minlength=len(encoding.labels))
        print(
            f"\nThe {len(top)} most frequent words in 2 dimensions keep {variance.sum():.0%} "
            "of the rows' variance; the label each alone pushes towards most (compared with "
            "the average word): "
            + ", ".join(
                f"{common.cli.printable(label)} {n}"
                for label, n in zip(encoding.labels, towards, strict=True)
            )  # fmt: skip
        )
    path = output_dir / f"{name}_embedding.png"
    title = (f"What the {name} model's embedding learned: its {len(top)} most frequent "
             f"words, {table.shape[1]} numbers each, seen from 2 directions")  # fmt: skip
    if pushes.ndim == 1:
        plot_map(points, pushes, top_words, labelled, variance, title, path)
    else:
        plot_label_map(points, pushes, top_words, labelled, variance, encoding.labels, title,
                       path)  # fmt: skip
    print(f"Saved {path}")


if __name__ == "__main__":
    common.run(main)
