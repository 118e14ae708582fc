"""The most accurate model here: the bag-of-n-grams baseline and the CNN, averaged.

train_bow.py's logistic regression on words and word pairs beats every neural
network in this project; train_cnn.py's CNN is weaker but makes different mistakes,
because it reads phrases in their order and shares what it learns between similar
words through its embedding. Averaging their probabilities corrects some of each
one's errors. Both are trained as their own scripts train them, on the same reviews,
then joined into one Keras model that takes token ids like every other model, so it
is saved, predicted with and compared like them.

What was tried, on the validation reviews (the last 2,500 training reviews), seed 7;
the test set played no part:

    bag of words and pairs alone (train_bow.py)             91.40%
    + the CNN (train_cnn.py), weights 0.5 / 0.5             90.96%
    + the CNN, weights 0.8 / 0.2                            91.88%
    + the CNN, weights 0.7 / 0.3                            91.96%  <- chosen
    + the CNN, weights 0.6 / 0.4                            91.76%
    + the deep CNN (train_deep_cnn.py), best weights 0.8/0.2 91.80%, and slower
    the CNN alone, trained after the regression as here     88.64%

In an earlier draft, a fastText-style average of word-pair embeddings (Joulin et al.,
2016) learned slowly (82% after 2 epochs) and added nothing to the regression.

The regression is far more confident than the CNN (its probabilities sit near 0 and
1), so with equal weights it decides almost alone; giving the CNN 0.3 lets it tip
the close calls. 2,500 validation reviews put about 0.5 points of noise on each
figure: the weights are a reasonable choice, not a precise optimum.

    python train_ensemble.py --data ../shared/data/aclImdb_labeled.tar.gz
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import common
import train_bow
import train_cnn
from common.lazy import keras, layers  # loaded when first used: --help needs no TensorFlow

MODEL_NAME = "ensemble"
MAXLEN = common.MAXLEN  # every review padded or cut to 500 words
WEIGHTS = (0.7, 0.3)  # bag of n-grams, CNN: chosen on the validation reviews (see above)
EPOCHS = 2  # each part trains for as many epochs as its own script does
BATCH_SIZE = 128


def build_ensemble(bow: keras.Model, cnn: keras.Model) -> keras.Model:
    """One model: 0.7 x P(positive) of the bag of n-grams + 0.3 x that of the CNN."""
    tokens = keras.Input(shape=(MAXLEN,), dtype="int32")
    both = layers.Concatenate()([bow(tokens), cnn(tokens)])
    # A weighted average is a Dense layer with fixed weights and no bias.
    average = layers.Dense(
        1, use_bias=False, trainable=False, name="weighted_average",
        kernel_initializer=keras.initializers.Constant([[WEIGHTS[0]], [WEIGHTS[1]]]),
    )  # fmt: skip
    return keras.Model(tokens, average(both), name=MODEL_NAME)


def train(
    args: argparse.Namespace, data: common.Imdb, seed: int, clock: common.PhaseClock
) -> tuple[keras.Model, common.TrainingRun]:
    """Train both parts from `seed`, join them, and test the ensemble once."""
    common.set_seed(seed)
    n = common.fit_size(len(data.x_train), args.validation_split)
    pairs, ratios = train_bow.fit_features(data.x_train[:n], data.y_train[:n], ngrams=2)
    bow = train_bow.build_model(pairs, ratios, n)
    bow.compile(
        loss="binary_crossentropy",
        optimizer=keras.optimizers.Adam(train_bow.LEARNING_RATE),
        metrics=["accuracy"],
    )
    cnn = train_cnn.build_model()
    cnn.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    clock.lap("build")

    # Each part learns on its own, exactly as in its script, and is validated on the
    # same held-out training reviews.
    history, seconds_per_epoch = {}, []
    for part in (bow, cnn):
        print(f"Training the {part.name} part:")
        epoch_timer = common.EpochTimer()
        part_history = part.fit(
            data.x_train,
            data.y_train,
            validation_split=args.validation_split,
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=[epoch_timer],
            verbose=common.progress_verbosity(),
        )
        history |= {f"{part.name}_{key}": values for key, values in part_history.history.items()}
        seconds_per_epoch += epoch_timer.seconds
    clock.lap("fit")

    model = build_ensemble(bow, cnn)
    model.compile(loss="binary_crossentropy", metrics=["accuracy"])
    # Nothing more is trained, but Keras saves an optimizer's state with a compiled
    # model: build it, so that loading the saved model finds the state it expects.
    model.optimizer.build(model.trainable_variables)
    # The test set is evaluated once, after training.
    test_loss, test_accuracy = model.evaluate(
        data.x_test, data.y_test, batch_size=args.batch_size, verbose=0
    )
    clock.lap("evaluate")
    return model, common.TrainingRun(seed, test_accuracy, test_loss, history, seconds_per_epoch)


def main(argv: Sequence[str] | None = None) -> keras.Model:
    parser = common.training_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE)
    args = parser.parse_args(argv)
    output_dir = common.prepare_output_dir(args.output_dir)  # fail now, not after training
    clock = common.PhaseClock()

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0.
    data = common.load_training_data(args, num_words=train_bow.NUM_WORDS, maxlen=MAXLEN)
    clock.lap("data")

    # One model per seed: one seed, unless --seeds asks to see how much results move.
    trained = [train(args, data, seed, clock) for seed in common.seeds(args)]
    trained[0][0].summary()

    # Save the first seed's model with what predict.py needs to encode new text, the
    # plot and the metrics; print the test accuracy (mean ± std with several seeds).
    return common.finish_training(MODEL_NAME, trained, data, args, clock, output_dir)


if __name__ == "__main__":
    common.run(main)
