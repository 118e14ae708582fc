"""The bag-of-n-grams baseline and the CNN, averaged: the most accurate model trained from scratch.

train_bow.py's logistic regression on words and word pairs beats every neural network
here; train_cnn.py's CNN is weaker but makes different mistakes, because it reads
phrases in their order and shares what it learns between similar words through its
embedding. Averaging their probabilities, 0.7 and 0.3, corrects some of each one's
errors. Both parts are trained as their own scripts train them, on the same reviews,
then joined into one Keras model that takes token ids like every other model, so it
is saved, predicted with and compared like them. Seed 7: 91.36% (over seeds 7 to 11,
91.48% ± 0.09, above the baseline on every seed). The weights were chosen on the
validation reviews; the variants tried are in docs/what-works.md. Only train_minilm.py,
which starts from a pre-trained encoder, scores higher.

    python train_ensemble.py --data aclImdb_v1.tar.gz
"""

import common  # before keras: it hides the lines TensorFlow prints as it loads

import keras
import numpy as np
from keras import layers

from models.bag_of_ngrams import LEARNING_RATE, best_epoch, build_bow, fit_features

MODEL_NAME = "ensemble"
NUM_WORDS = 5000  # the vocabulary: the 5,000 most frequent words
MAXLEN = 500  # every review padded or cut to 500 words
EMBEDDING_DIM = 32  # the CNN's: each word becomes a vector of 32 learned numbers
# The regression is far more confident than the CNN (its probabilities sit near 0 and
# 1): with equal weights it decides almost alone; 0.3 lets the CNN tip the close calls.
WEIGHTS = (0.7, 0.3)  # bag of n-grams, CNN: chosen on the validation reviews
EPOCHS = 2  # each part trains for as many epochs as its own script does
BATCH_SIZE = 128


def build_cnn(num_words: int, maxlen: int, num_classes: int) -> keras.Model:
    """train_cnn.py's network, here in Keras's functional form: Embedding -> Conv1D ->
    MaxPooling1D -> Dense(250) -> P(review is positive), or one probability per label."""
    tokens = keras.Input(shape=(maxlen,), dtype="int32")
    x = layers.Embedding(num_words, EMBEDDING_DIM)(tokens)
    x = layers.Conv1D(32, 3, padding="same", activation="relu")(x)  # 3-word phrases
    x = layers.MaxPooling1D(2)(x)  # the stronger of each two neighbouring responses
    x = layers.Dense(250, activation="relu")(layers.Flatten()(x))
    if num_classes == 2:
        return keras.Model(tokens, layers.Dense(1, activation="sigmoid")(x), name="cnn")
    return keras.Model(tokens, layers.Dense(num_classes, activation="softmax")(x), name="cnn")


def build_ensemble(bow: keras.Model, cnn: keras.Model) -> keras.Model:
    """One model: 0.7 x P(positive) of the bag of n-grams + 0.3 x that of the CNN (with
    more than two labels: of each label)."""
    tokens = keras.Input(shape=cnn.input_shape[1:], dtype="int32")  # both take the same ids
    both = layers.Concatenate()([bow(tokens), cnn(tokens)])
    # A weighted average is a Dense layer with fixed weights and no bias: each output
    # is 0.7 x the bag of n-grams' probability + 0.3 x the CNN's of the same label.
    units = cnn.output_shape[-1]
    kernel = np.concatenate([WEIGHTS[0] * np.eye(units), WEIGHTS[1] * np.eye(units)])
    average = layers.Dense(
        units, use_bias=False, trainable=False, name="weighted_average",
        kernel_initializer=keras.initializers.Constant(kernel.tolist()),
    )  # fmt: skip
    return keras.Model(tokens, average(both), name=MODEL_NAME)


def main(argv: list[str] | None = None) -> keras.Model:
    args = common.training_parser(
        __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, num_words=NUM_WORDS, maxlen=MAXLEN
    ).parse_args(argv)
    record = common.RunRecord(MODEL_NAME, args)  # checks the output folder, times the run

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0
    # (or your own texts, --data FILE, with any labels: docs/your-own-data.md).
    (x_train, y_train), (x_test, y_test), labels = record.load_data()
    # The bag of n-grams counts its features on the reviews it is fitted on only: the
    # first 90%, as fit's validation_split takes them.
    n = int(len(x_train) * (1.0 - args.validation_split))
    keras.utils.set_random_seed(args.seed)  # the same seed, the same model, on one machine

    # Binary cross-entropy for two labels; for more, the labels stay ids 0, 1, 2, ...
    k = len(labels)
    loss = "binary_crossentropy" if k == 2 else "sparse_categorical_crossentropy"
    pairs, ratios = fit_features(x_train[:n], y_train[:n], args.num_words, num_classes=k)
    bow = build_bow(pairs, ratios, n, num_words=args.num_words, maxlen=args.maxlen)
    bow.compile(loss=loss, optimizer=keras.optimizers.Adam(LEARNING_RATE), metrics=["accuracy"])
    cnn = build_cnn(args.num_words, args.maxlen, k)
    cnn.compile(loss=loss, optimizer="adam", metrics=["accuracy"])

    # Each part learns on its own, exactly as in its script, and is validated on the
    # same held-out training reviews.
    history = {}
    for part in (bow, cnn):
        print(f"Training the {part.name} part:")
        history[part.name] = part.fit(
            x_train,
            y_train,
            validation_split=args.validation_split,
            epochs=args.epochs,
            batch_size=args.batch_size,
            # The regression keeps its epoch of lowest validation loss, as in train_bow.py;
            # the run's record times each epoch, stops cleanly on SIGTERM (a copy drops it).
            callbacks=(best_epoch(args.validation_split > 0) if part is bow else [])
            + record.callbacks,
            verbose=record.verbose,
        )

    model = build_ensemble(bow, cnn)
    model.compile(loss=loss, metrics=["accuracy"])
    # Nothing more is trained, but Keras saves an optimizer's state with a compiled
    # model: build it, so that loading the saved model finds the state it expects.
    model.optimizer.build(model.trainable_variables)
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
