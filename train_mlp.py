"""Tell positive from negative movie reviews with a multilayer perceptron.

The first model of "Predict Sentiment From Movie Reviews Using Deep Learning", on
Keras 3: each review is 500 word indices; an embedding turns every word into 32
numbers, the 500 x 32 numbers are flattened into one long vector, and a hidden layer
of 250 units decides. The article reports 86.94%; here, seed 7: 84.76% (over seeds 7
to 11, 84.74% ± 1.65; docs/what-works.md).

    python train_mlp.py --data aclImdb_v1.tar.gz
"""

import common  # before keras: it hides the lines TensorFlow prints as it loads

import keras
from keras import layers

NUM_WORDS = 5000  # the vocabulary: the 5,000 most frequent words
MAXLEN = 500  # every review padded or cut to 500 words
EMBEDDING_DIM = 32  # each word becomes a vector of 32 learned numbers
EPOCHS = 2  # in the second epoch it already overfits (docs/what-works.md)
BATCH_SIZE = 128


def build_model(num_words: int, maxlen: int, num_classes: int) -> keras.Model:
    """Embedding -> Flatten -> Dense(250) -> the probability that a review is positive."""
    return keras.Sequential(
        [
            keras.Input(shape=(maxlen,), dtype="int32"),
            layers.Embedding(num_words, EMBEDDING_DIM),
            # Flattening ties every weight to a position in the review: the same word
            # at position 10 and at position 400 meets different weights.
            layers.Flatten(),
            layers.Dense(250, activation="relu"),
            # Two labels: one sigmoid unit, P(positive); more: a softmax, one per label.
            layers.Dense(1, activation="sigmoid")
            if num_classes == 2
            else layers.Dense(num_classes, activation="softmax"),
        ],
        name="mlp",
    )


def main(argv: list[str] | None = None) -> keras.Model:
    args = common.training_parser(
        __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, num_words=NUM_WORDS, maxlen=MAXLEN
    ).parse_args(argv)
    record = common.RunRecord("mlp", args)  # checks the output folder, times the run

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0
    # (or your own texts, --data FILE, with any labels: docs/your-own-data.md).
    (x_train, y_train), (x_test, y_test), labels = record.load_data()

    # The same seed gives the same weights, and so the same accuracy, on one machine.
    keras.utils.set_random_seed(args.seed)
    model = build_model(args.num_words, args.maxlen, len(labels))
    model.summary()
    model.compile(
        # Binary cross-entropy for two labels; for more, the labels stay ids 0, 1, 2, ...
        loss="binary_crossentropy" if len(labels) == 2 else "sparse_categorical_crossentropy",
        optimizer="adam",
        metrics=["accuracy"],
    )
    # Keras holds out the last part of the (shuffled) training reviews to validate
    # on: the test reviews stay unseen until training is over.
    history = model.fit(
        x_train,
        y_train,
        validation_split=args.validation_split,
        epochs=args.epochs,
        batch_size=args.batch_size,
        # The run's record times each epoch and stops cleanly on SIGTERM (a copy drops it).
        callbacks=record.callbacks,
        verbose=record.verbose,
    )
    # The test set is evaluated once, after training.
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)

    # Honest probabilities: a temperature (or a curve, where it does better) fitted on
    # the validation texts becomes the model's last layer; the labels stay (docs/trust.md).
    model = record.calibrate(model)

    # Save the model with what predict.py needs to encode new text, its export, the plot
    # and the metrics (outputs/mlp/1/); print the test accuracy.
    record.save(model, history, test_loss, test_accuracy)
    return model


if __name__ == "__main__":
    common.run(main)
