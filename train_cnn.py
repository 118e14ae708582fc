"""Tell positive from negative movie reviews with a small 1-D convolutional network.

The second model of "Predict Sentiment From Movie Reviews Using Deep Learning", on
Keras 3: each review is 500 word indices; an embedding turns every word into 32
numbers, 32 filters slide over every 3 consecutive words looking for telling phrases,
max pooling keeps the stronger of each two neighbouring responses, and a hidden layer
of 250 units decides (models/cnn.py, which the ensemble reuses). The article reports
87.79%; here, seed 7: 88.71% (over seeds 7 to 11, 88.29% ± 0.92; docs/what-works.md).

    python train_cnn.py --data aclImdb_v1.tar.gz
    python train_cnn.py --global-pool    # the article's closing suggestion: cnn_globalpool
"""

import common  # before keras: it hides the lines TensorFlow prints as it loads

import keras

from models import classes
from models.cnn import build_cnn

NUM_WORDS = 5000  # the vocabulary: the 5,000 most frequent words
MAXLEN = 500  # every review padded or cut to 500 words
EPOCHS = 2
BATCH_SIZE = 128


def main(argv: list[str] | None = None) -> keras.Model:
    parser = common.training_parser(
        __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, num_words=NUM_WORDS, maxlen=MAXLEN
    )
    parser.add_argument(
        "--global-pool", action="store_true",
        help="pool over all 500 positions instead of pairs: the article's closing "
        "suggestion; saved as cnn_globalpool",
    )  # fmt: skip
    args = parser.parse_args(argv)
    name = "cnn_globalpool" if args.global_pool else "cnn"
    training = common.Training(name, args)  # times the run, saves and reports it
    num_words, maxlen = args.num_words, args.maxlen  # the vocabulary and length, as asked

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0
    # (or your own texts, --data FILE, with any labels: docs/your-own-data.md).
    data = training.load_data(num_words=num_words, maxlen=maxlen)

    # One model per seed: one seed, unless --seeds asks to see how much results move.
    for _ in training.seeds():  # each seed is set before the model is built
        # The model (models/cnn.py, which the ensemble reuses): each word becomes 32
        # numbers, 32 filters read every 3 consecutive words, max pooling keeps the
        # stronger of each two neighbouring responses (or, with --global-pool, the
        # strongest of all 500), and a hidden layer of 250 units decides.
        model = build_cnn(num_words, maxlen, args.global_pool, data.num_classes)
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
