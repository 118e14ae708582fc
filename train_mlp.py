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

from models import classes

NUM_WORDS = 5000  # the vocabulary: the 5,000 most frequent words
MAXLEN = 500  # every review padded or cut to 500 words
EMBEDDING_DIM = 32  # each word becomes a vector of 32 learned numbers
EPOCHS = 2  # in the second epoch it already overfits (docs/what-works.md)
BATCH_SIZE = 128


def build_model(num_words: int, maxlen: int, num_classes: int = 2) -> keras.Model:
    """Embedding -> Flatten -> Dense(250) -> the probability that a review is positive."""
    return keras.Sequential(
        [
            keras.Input(shape=(maxlen,), dtype="int32"),
            layers.Embedding(num_words, EMBEDDING_DIM),
            # Flattening ties every weight to a position in the review: the same word
            # at position 10 and at position 400 meets different weights.
            layers.Flatten(),
            layers.Dense(250, activation="relu"),
            classes.output_layer(num_classes),  # P(positive), or one per label
        ],
        name="mlp",
    )


def main(argv: list[str] | None = None) -> keras.Model:
    args = common.training_parser(
        __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, num_words=NUM_WORDS, maxlen=MAXLEN
    ).parse_args(argv)
    training = common.Training("mlp", args)  # times the run, saves and reports it
    num_words, maxlen = args.num_words, args.maxlen  # the vocabulary and length, as asked

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0
    # (or your own texts, --data FILE, with any labels: docs/your-own-data.md).
    data = training.load_data(num_words=num_words, maxlen=maxlen)

    # One model per seed: one seed, unless --seeds asks to see how much results move.
    for _ in training.seeds():  # each seed is set before the model is built
        model = build_model(num_words, maxlen, data.num_classes)
        model.summary()
        # Binary cross-entropy for two labels; sparse categorical for more (models/classes.py).
        model.compile(loss=classes.loss(data.num_classes), optimizer="adam", metrics=["accuracy"])
        # Keras holds out the last part of the (shuffled) training reviews to validate
        # on: the test reviews stay unseen until training is over.
        history = model.fit(
            data.x_train,
            data.y_train,
            validation_split=args.validation_split,
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=[training.callback],
            verbose=training.verbose,
        )
        # The test set is evaluated once, after training.
        test_loss, test_accuracy = model.evaluate(
            data.x_test, data.y_test, batch_size=args.batch_size, verbose=0
        )
        training.record(model, history, test_loss, test_accuracy)

    # Save the first seed's model with what predict.py needs to encode new text, the
    # plot and the metrics; print the test accuracy (mean ± std with several seeds).
    return training.finish(data)


if __name__ == "__main__":
    common.run(main)
