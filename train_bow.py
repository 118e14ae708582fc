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

import common  # before keras: it hides the lines TensorFlow prints as it loads

import keras

from models import classes, short_texts
from models.bag_of_ngrams import LEARNING_RATE, best_epoch, build_bow, fit_features

NUM_WORDS = 5000  # the vocabulary: the 5,000 most frequent words
MAXLEN = 500  # every review padded or cut to 500 words
NGRAMS = 2  # words and adjacent word pairs
EPOCHS = 2  # validation accuracy is flat after the second epoch
BATCH_SIZE = 128


def main(argv: list[str] | None = None) -> keras.Model:
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
    args = parser.parse_args(argv)
    name = ("bow" if args.ngrams == 2 else "bow_words") + ("_short" if args.short_texts else "")
    training = common.Training(name, args)  # times the run, saves and reports it
    num_words, maxlen = args.num_words, args.maxlen  # the vocabulary and length, as asked

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0
    # (or your own texts, --data FILE, with any labels: docs/your-own-data.md).
    data = training.load_data(num_words=num_words, maxlen=maxlen)
    # The ratios and the pair vocabulary are counted on the reviews the model is fitted
    # on: the validation reviews' labels must not leak into them.
    n = common.fit_size(len(data.x_train), args.validation_split)
    x_fit, y_fit = data.x_train[:n], data.y_train[:n]
    validation = (data.x_train[n:], data.y_train[n:]) if n < len(data.x_train) else None

    # One model per seed: one seed, unless --seeds asks to see how much results move.
    for seed in training.seeds():
        pairs, ratios = fit_features(x_fit, y_fit, num_words, args.ngrams, data.num_classes)
        bow_name = name.removesuffix("_short")
        model = build_bow(pairs, ratios, n, num_words=num_words, maxlen=maxlen, name=bow_name)
        model.compile(
            loss=classes.loss(data.num_classes),  # binary for two labels; sparse categorical
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
            metrics=["accuracy"],
        )
        history = model.fit(
            x_fit,
            y_fit,
            validation_data=validation,  # the last reviews, as validation_split takes them
            epochs=args.epochs,
            batch_size=args.batch_size,
            # Keep the epoch of lowest validation loss: short texts overfit by the second.
            callbacks=[training.callback, *best_epoch(validation is not None)],
            verbose=training.verbose,
        )
        if args.short_texts:
            # Then freeze it and fit a regression for short texts on the same reviews cut
            # into windows of 10 to 50 words: whole reviews keep their answers.
            model, short_history = short_texts.fit_short_text_regression(
                model, x_fit, y_fit, seed, name=name, validation_data=validation,
                epochs=args.epochs, batch_size=args.batch_size,
                callbacks=[training.callback], verbose=training.verbose,
            )  # fmt: skip
            history = {  # each part, named by what it fitted (the plot's panels)
                "the bag of n-grams, on whole texts": history,
                "its regression for short texts, on whole texts and windows": short_history,
            }

        # The test set is evaluated once, after training.
        test_loss, test_accuracy = model.evaluate(
            data.x_test, data.y_test, batch_size=args.batch_size, verbose=0
        )
        training.record(model, history, test_loss, test_accuracy)

    training.model.summary()
    # Save the first seed's model, its export, the plot and the metrics; print the accuracy.
    return training.finish(data)


if __name__ == "__main__":
    common.run(main)
