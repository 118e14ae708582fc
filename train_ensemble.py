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

from models import classes
from models.bag_of_ngrams import LEARNING_RATE, best_epoch, build_bow, fit_features
from models.cnn import build_cnn

MODEL_NAME = "ensemble"
NUM_WORDS = 5000  # the vocabulary: the 5,000 most frequent words
MAXLEN = 500  # every review padded or cut to 500 words
# The regression is far more confident than the CNN (its probabilities sit near 0 and
# 1): with equal weights it decides almost alone; 0.3 lets the CNN tip the close calls.
WEIGHTS = (0.7, 0.3)  # bag of n-grams, CNN: chosen on the validation reviews
EPOCHS = 2  # each part trains for as many epochs as its own script does
BATCH_SIZE = 128


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
    training = common.Training(MODEL_NAME, args)  # times the run, saves and reports it
    num_words, maxlen = args.num_words, args.maxlen  # the vocabulary and length, as asked

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0
    # (or your own texts, --data FILE, with any labels: docs/your-own-data.md).
    data = training.load_data(num_words=num_words, maxlen=maxlen)
    # The bag of n-grams counts its features on the reviews it is fitted on only.
    n = common.fit_size(len(data.x_train), args.validation_split)

    # One model per seed: one seed, unless --seeds asks to see how much results move.
    for _ in training.seeds():  # each seed is set before the model is built
        k = data.num_classes  # binary cross-entropy for two labels; sparse categorical for more
        pairs, ratios = fit_features(data.x_train[:n], data.y_train[:n], num_words, num_classes=k)
        bow = build_bow(pairs, ratios, n, num_words=num_words, maxlen=maxlen)
        bow.compile(
            loss=classes.loss(k), optimizer=keras.optimizers.Adam(LEARNING_RATE),
            metrics=["accuracy"],
        )  # fmt: skip
        cnn = build_cnn(num_words, maxlen, num_classes=k)
        cnn.compile(loss=classes.loss(k), optimizer="adam", metrics=["accuracy"])

        # Each part learns on its own, exactly as in its script, and is validated on the
        # same held-out training reviews.
        history = {}
        for part in (bow, cnn):
            print(f"Training the {part.name} part:")
            # The regression keeps its epoch of lowest validation loss, as in train_bow.py.
            best = best_epoch(args.validation_split > 0) if part is bow else []
            history[part.name] = part.fit(
                data.x_train,
                data.y_train,
                validation_split=args.validation_split,
                epochs=args.epochs,
                batch_size=args.batch_size,
                callbacks=[training.callback, *best],
                verbose=training.verbose,
            )

        model = build_ensemble(bow, cnn)
        model.compile(loss=classes.loss(k), metrics=["accuracy"])
        # Nothing more is trained, but Keras saves an optimizer's state with a compiled
        # model: build it, so that loading the saved model finds the state it expects.
        model.optimizer.build(model.trainable_variables)
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
