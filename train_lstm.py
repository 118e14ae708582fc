"""A bidirectional LSTM: the recurrent network the CNN articles compare with.

The second article says CNNs "train 50% to 60% faster than LSTMs on this problem" and
reach similar accuracy. This script trains the usual recurrent model on the same
input, so both claims can be measured: an embedding of 32 numbers per word (as in the
tutorial's models), then two bidirectional LSTM layers of 64 units, each reading the
review forwards and backwards word by word, then the probability. Seed 7: 87.09%,
no better than the CNN, and 23 times slower per batch (docs/speed.md).

An LSTM cannot look at 500 positions at once as a convolution does: it steps through
them in order, so each epoch is much slower. On 2 CPU cores an epoch takes about 3
minutes, the whole run about 7.5; a progress bar shows how far it has got.

    python train_lstm.py --data aclImdb_v1.tar.gz
"""

import common  # before keras: it hides the lines TensorFlow prints as it loads

import keras
from keras import layers

NUM_WORDS = 5000  # the vocabulary: the 5,000 most frequent words
MAXLEN = 500  # every review padded or cut to 500 words
EMBEDDING_DIM = 32  # each word becomes a vector of 32 learned numbers
UNITS = 64  # the memory of each LSTM, in each direction
EPOCHS = 2
BATCH_SIZE = 128


def build_model(num_words: int, maxlen: int, num_classes: int) -> keras.Model:
    """Embedding -> Bidirectional(LSTM) -> Bidirectional(LSTM) -> P(review is positive)."""
    return keras.Sequential(
        [
            keras.Input(shape=(maxlen,), dtype="int32"),
            # mask_zero: the LSTMs skip the padding in front of short reviews instead of
            # reading hundreds of zeros, which would blur the backward pass's memory.
            layers.Embedding(num_words, EMBEDDING_DIM, mask_zero=True),
            # The first layer passes its output at every word to the second...
            layers.Bidirectional(layers.LSTM(UNITS, return_sequences=True)),
            # ... which keeps only its final memory of each direction: 2 x 64 numbers.
            layers.Bidirectional(layers.LSTM(UNITS)),
            # Two labels: one sigmoid unit, P(positive); more: a softmax, one per label.
            layers.Dense(1, activation="sigmoid")
            if num_classes == 2
            else layers.Dense(num_classes, activation="softmax"),
        ],
        name="lstm",
    )


def main(argv: list[str] | None = None) -> keras.Model:
    args = common.training_parser(
        __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, num_words=NUM_WORDS, maxlen=MAXLEN
    ).parse_args(argv)
    record = common.RunRecord("lstm", args)  # checks the output folder, times the run

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
    # Each epoch steps through 22,500 reviews of 500 words, one word at a time.
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

    # Save the model, its export, the plot and the metrics; print the test accuracy.
    record.save(model, history, test_loss, test_accuracy)
    return model


if __name__ == "__main__":
    common.run(main)
