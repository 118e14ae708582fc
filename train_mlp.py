"""Tell positive from negative movie reviews with a multilayer perceptron.

The first model of "Predict Sentiment From Movie Reviews Using Deep Learning", on
Keras 3: each review is 500 word indices; an embedding turns every word into 32
numbers, the 500 x 32 numbers are flattened into one long vector, and a hidden
layer of 250 units decides. The article reports 86.94% test accuracy.

    python train_mlp.py --data ../shared/data/aclImdb_labeled.tar.gz
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import common
from common.lazy import keras, layers  # loaded when first used: --help needs no TensorFlow

MODEL_NAME = "mlp"
NUM_WORDS = common.NUM_WORDS  # the vocabulary: the 5,000 most frequent words
MAXLEN = common.MAXLEN  # every review padded or cut to 500 words
EMBEDDING_DIM = 32  # each word becomes a vector of 32 learned numbers
EPOCHS = 2
BATCH_SIZE = 128


def build_model() -> keras.Model:
    """Embedding -> Flatten -> Dense(250) -> the probability that a review is positive."""
    return keras.Sequential(
        [
            keras.Input(shape=(MAXLEN,), dtype="int32"),
            layers.Embedding(NUM_WORDS, EMBEDDING_DIM),
            # Flattening ties every weight to a position in the review: the same word
            # at position 10 and at position 400 meets different weights.
            layers.Flatten(),
            layers.Dense(250, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name=MODEL_NAME,
    )


def train(
    args: argparse.Namespace, data: common.Imdb, seed: int, clock: common.PhaseClock
) -> tuple[keras.Model, common.TrainingRun]:
    """Build a model from `seed`, train it, and test it once."""
    common.set_seed(seed)
    model = build_model()
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    clock.lap("build")

    # Keras holds out the last part of the (shuffled) training reviews to validate on:
    # the test reviews stay unseen until training is over.
    epoch_timer = common.EpochTimer()
    history = model.fit(
        data.x_train,
        data.y_train,
        validation_split=args.validation_split,
        epochs=args.epochs,
        batch_size=args.batch_size,
        callbacks=[epoch_timer],
        verbose=common.progress_verbosity(),  # a live bar in a terminal, a line per epoch in a log
    )
    clock.lap("fit")

    # The test set is evaluated once, after training.
    test_loss, test_accuracy = model.evaluate(
        data.x_test, data.y_test, batch_size=args.batch_size, verbose=0
    )
    clock.lap("evaluate")
    return model, common.TrainingRun(
        seed, test_accuracy, test_loss, history.history, epoch_timer.seconds
    )


def main(argv: Sequence[str] | None = None) -> keras.Model:
    parser = common.training_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE)
    args = parser.parse_args(argv)
    output_dir = common.prepare_output_dir(args.output_dir)  # fail now, not after training
    clock = common.PhaseClock()

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0.
    data = common.load_training_data(args, num_words=NUM_WORDS, maxlen=MAXLEN)
    clock.lap("data")

    build_model().summary()
    # One model per seed: one seed, unless --seeds asks to see how much results move.
    trained = [train(args, data, seed, clock) for seed in common.seeds(args)]

    # Save the first seed's model with what predict.py needs to encode new text, the
    # plot and the metrics; print the test accuracy (mean ± std with several seeds).
    return common.finish_training(MODEL_NAME, trained, data, args, clock, output_dir)


if __name__ == "__main__":
    common.run(main)
