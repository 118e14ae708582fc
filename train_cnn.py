"""Tell positive from negative movie reviews with a small 1-D convolutional network.

The second model of "Predict Sentiment From Movie Reviews Using Deep Learning", on
Keras 3: each review is 500 word indices; an embedding turns every word into 32
numbers, 32 filters slide over every 3 consecutive words looking for telling
phrases, max pooling keeps the stronger of each two neighbouring responses, and a
hidden layer of 250 units decides. The article reports 87.79% test accuracy.

    python train_cnn.py --data ../shared/data/aclImdb_labeled.tar.gz
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import common
from common.lazy import keras, layers  # loaded when first used: --help needs no TensorFlow

MODEL_NAME = "cnn"
NUM_WORDS = common.NUM_WORDS  # the vocabulary: the 5,000 most frequent words
MAXLEN = common.MAXLEN  # every review padded or cut to 500 words
EMBEDDING_DIM = 32  # each word becomes a vector of 32 learned numbers
EPOCHS = 2
BATCH_SIZE = 128


def build_model(global_pool: bool = False) -> keras.Model:
    """Embedding -> Conv1D -> MaxPooling1D -> Dense(250) -> P(review is positive)."""
    return keras.Sequential(
        [
            keras.Input(shape=(MAXLEN,), dtype="int32"),
            layers.Embedding(NUM_WORDS, EMBEDDING_DIM),
            # 32 filters, each looking at 3 consecutive words at a time; "same" padding
            # keeps one output per word, so the sequence stays 500 long.
            layers.Conv1D(32, 3, padding="same", activation="relu"),
            # The tutorial keeps the larger of each two neighbouring outputs (500 -> 250
            # positions). It closes by suggesting a pool over all 500: each filter then
            # says only how strongly its phrase occurs anywhere in the review, wherever.
            layers.MaxPooling1D(MAXLEN if global_pool else 2),
            layers.Flatten(),
            layers.Dense(250, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name=f"{MODEL_NAME}_globalpool" if global_pool else MODEL_NAME,
    )


def train(
    args: argparse.Namespace, data: common.Imdb, seed: int, clock: common.PhaseClock
) -> tuple[keras.Model, common.TrainingRun]:
    """Build a model from `seed`, train it, and test it once."""
    common.set_seed(seed)
    model = build_model(global_pool=args.global_pool)
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
    parser.add_argument(
        "--global-pool",
        action="store_true",
        help="pool over all 500 positions instead of pairs: the article's closing "
        "suggestion; saved as cnn_globalpool",
    )
    args = parser.parse_args(argv)
    name = f"{MODEL_NAME}_globalpool" if args.global_pool else MODEL_NAME
    output_dir = common.prepare_output_dir(args.output_dir)  # fail now, not after training
    clock = common.PhaseClock()

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0.
    data = common.load_training_data(args, num_words=NUM_WORDS, maxlen=MAXLEN)
    clock.lap("data")

    build_model(global_pool=args.global_pool).summary()
    # One model per seed: one seed, unless --seeds asks to see how much results move.
    trained = [train(args, data, seed, clock) for seed in common.seeds(args)]

    # Save the first seed's model with what predict.py needs to encode new text, the
    # plot and the metrics; print the test accuracy (mean ± std with several seeds).
    return common.finish_training(name, trained, data, args, clock, output_dir)


if __name__ == "__main__":
    common.run(main)
