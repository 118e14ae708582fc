"""The baseline to beat: a logistic regression on the words and word pairs of a review.

Before any deep learning, a practitioner tries this: forget word order except between
neighbours, note which words and adjacent word pairs a review contains, and weigh each
one by how much more often it occurs in positive than in negative training reviews
(naive-Bayes weighting, Wang & Manning 2012; models/bag_of_ngrams.py). It reads
exactly the input of the other models (the 5,000 most frequent words, 500 tokens per
review) and is written in Keras, so it trains, saves and predicts like them. Seed 7:
91.34% (over seeds 7 to 11, 91.36% ± 0.07), 3 points above every network trained here
from scratch, after seconds of training (docs/what-works.md).

--short-texts then freezes it and adds a second regression for short texts, fitted on
every training review cut into windows of 10 to 50 words; the model answers with it up
to 50 words and with the first from 150 words, blending the two between: a model for
one-line reviews that answers whole reviews as bow does (docs/short-texts.md).

    python train_bow.py --data aclImdb_v1.tar.gz
    python train_bow.py --ngrams 1       # words only; saved as bow_words
    python train_bow.py --short-texts    # + a regression for short texts; bow_short
"""

import argparse

import common  # before keras: it hides the lines TensorFlow prints as it loads

import keras

from models.bag_of_ngrams import LEARNING_RATE, best_epoch, build_bow, fit_features
from models.short_texts import fit_short_text_regression

NUM_WORDS = 5000  # the vocabulary: the 5,000 most frequent words
MAXLEN = 500  # every review padded or cut to 500 words
NGRAMS = 2  # words and adjacent word pairs
EPOCHS = 2  # validation accuracy is flat after the second epoch
BATCH_SIZE = 128


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = common.training_parser(
        __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, num_words=NUM_WORDS, maxlen=MAXLEN
    )
    parser.add_argument(
        "--ngrams", type=int, choices=(1, 2), default=NGRAMS,
        help="1: words only (saved as bow_words); 2: words and adjacent word pairs (default)",
    )  # fmt: skip
    parser.add_argument(
        "--short-texts", action="store_true",
        help="then add a regression for texts under 150 words (saved as bow_short)",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> keras.Model:
    args = parse_args(argv)
    name = ("bow" if args.ngrams == 2 else "bow_words") + ("_short" if args.short_texts else "")
    record = common.RunRecord(name, args)  # checks the output folder, times the run

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0
    # (or your own texts, --data FILE, with any labels: docs/your-own-data.md).
    (x_train, y_train), (x_test, y_test), labels = record.load_data()

    # The ratios and the pair vocabulary are counted on the reviews the model is fitted
    # on (the first 90%, as fit's validation_split takes them): the validation reviews'
    # labels must not leak into them.
    n = int(len(x_train) * (1.0 - args.validation_split))
    x_fit, y_fit = x_train[:n], y_train[:n]
    validation = (x_train[n:], y_train[n:]) if n < len(x_train) else None
    keras.utils.set_random_seed(args.seed)  # the same seed, the same model, on one machine

    # The model (models/bag_of_ngrams.py): each review's distinct words and pairs, each
    # weighed by its naive-Bayes ratio, then one learned weight per feature.
    pairs, ratios = fit_features(x_fit, y_fit, args.num_words, args.ngrams, len(labels))
    model = build_bow(
        pairs, ratios, n, num_words=args.num_words, maxlen=args.maxlen,
        name="bow" if args.ngrams == 2 else "bow_words",
    )  # fmt: skip
    model.compile(
        # Binary cross-entropy for two labels; for more, the labels stay ids 0, 1, 2, ...
        loss="binary_crossentropy" if len(labels) == 2 else "sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        metrics=["accuracy"],
    )
    history = model.fit(
        x_fit,
        y_fit,
        validation_data=validation,  # the last reviews, as validation_split takes them
        epochs=args.epochs,
        batch_size=args.batch_size,
        # Keep the epoch of lowest validation loss: short texts overfit by the second. The
        # run's record times each epoch and stops cleanly on SIGTERM (a copy drops it).
        callbacks=best_epoch(validation is not None) + record.callbacks,
        verbose=record.verbose,
    )
    if args.short_texts:
        # Then freeze it and fit a regression for short texts on the same reviews cut
        # into windows of 10 to 50 words: whole reviews keep their answers.
        model, short_history = fit_short_text_regression(
            model, x_fit, y_fit, args.seed, name=f"{model.name}_short", validation_data=validation,
            epochs=args.epochs, batch_size=args.batch_size, callbacks=record.callbacks,
            verbose=record.verbose,
        )  # fmt: skip
        history = {  # each part, named by what it fitted (the plot's panels)
            "the bag of n-grams, on whole texts": history,
            "its regression for short texts, on whole texts and windows": short_history,
        }
    model.summary()
    # The test set is evaluated once, after training.
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)

    # Honest probabilities: a temperature (or a curve, where it does better) fitted on
    # the validation texts becomes the model's last layer; the labels stay (docs/trust.md).
    model = record.calibrate(model)

    # Save the model, its export, the plot and the metrics; print the test accuracy.
    record.save(model, history, test_loss, test_accuracy)
    return model


if __name__ == "__main__":
    common.run(main)
