"""Check your labels: which rows of your data are likely labeled wrong?

A model learns what its labels say, the wrong ones too, and a test set with wrong labels
scores a model against mistakes. Reading every row to find them takes days; this script
points at the rows to read first. It fits the bag of n-grams of train_bow.py k times,
each time on every row but one fold, and scores that fold: each row gets probabilities
from a model that never saw it. Confident learning (Northcutt, Jiang and Chuang, 2021;
models/label_issues.py) then estimates how many rows of each label really belong to
another, and flags that many: those where the model most prefers another label.

    python find_label_issues.py --data reviews.csv
    python find_label_issues.py --data tweets.tsv --text-column tweet --maxlen 50 \\
        --output issues.csv

Any other model by a flag: --script train_cnn.py (or any training script) trains that
script in each fold instead, as you would run it, and scores the held-out fold with the
model it saved: slower (k trainings), and as good as that model is on your texts.

    python find_label_issues.py --data tweets.csv --maxlen 50 --script train_minilm.py

It prints the most suspicious rows, with their lines in the file, the label given and
the label the model suggests; --output writes every flagged row, most suspicious first,
as a CSV file with the columns line (file, for a folder of class folders), given,
suggested, score (the out-of-fold probability of the given label) and text. Read
docs/trust.md before correcting anything: a flagged row is a row to read, not a mistake.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import common

import numpy as np

import models  # each piece loads at first use (models.outputs), after the flags
from models.label_issues import find_label_issues

FOLDS = 5  # each row is scored by a model fitted on the other 80%
NUM_WORDS = 5000
MAXLEN = 500  # short texts need fewer: --maxlen 50 for tweets is faster
NGRAMS = 2
EPOCHS = 2
BATCH_SIZE = 128
VALIDATION_SPLIT = 0.1  # of each fold's training rows: when to stop (train_bow.py's)
SHOWN = 20  # suspects printed
TEXT_WIDTH = 70
ROOT = Path(__file__).resolve().parent
SCRIPTS = sorted({command[0] for command in common.cli.MODELS.values()})  # train_bow.py, ...


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = common.cli.data_parser(__doc__, writes=False, every_row=True)
    parser.add_argument(
        "--folds", type=common.cli.whole_number(2, 100), default=FOLDS,
        help=f"k: each row is scored by a model fitted on the other k - 1 folds (default: {FOLDS})",
    )  # fmt: skip
    parser.add_argument(
        "--ngrams", type=int, choices=(1, 2), default=NGRAMS,
        help="1: the bag of words; 2: words and adjacent word pairs (default)",
    )  # fmt: skip
    parser.add_argument(
        "--script", metavar="SCRIPT", choices=SCRIPTS,
        help=f"train this script's model in each fold instead ({', '.join(SCRIPTS)})",
    )  # fmt: skip
    parser.add_argument("--epochs", type=common.cli.positive_int,
                        help=f"passes over each fold's rows (default: {EPOCHS}; with --script, "
                        "the script's)")  # fmt: skip
    parser.add_argument("--batch-size", type=common.cli.whole_number(1, 2**20),
                        help=f"(default: {BATCH_SIZE}; with --script, the script's)")  # fmt: skip
    common.cli.add_encoding_flags(parser, num_words=NUM_WORDS, maxlen=MAXLEN)
    parser.add_argument(
        "--seed", type=common.cli.seed_int, default=common.cli.DEFAULT_SEED,
        help=f"draws the folds and seeds the models (default: {common.cli.DEFAULT_SEED})",
    )  # fmt: skip
    parser.add_argument(
        "--top", type=common.cli.whole_number(0), default=SHOWN, metavar="N",
        help=f"how many of the most suspicious rows to print (default: {SHOWN})",
    )  # fmt: skip
    parser.add_argument("--output", metavar="FILE", type=Path,
                        help="write every flagged row to this CSV file")  # fmt: skip
    args = parser.parse_args(argv)
    if args.script and args.ngrams != NGRAMS:
        parser.error("--ngrams is the bag of n-grams'; with --script, the script's flags apply")
    output = args.output
    if output is not None:  # refused now, not after hours of fitting
        if _same_file(output, Path(args.data)):
            parser.error("--output is the --data file: give another name, or the data is lost")
        if not output.resolve().parent.is_dir():
            parser.error(f"--output {str(output)!r}: its folder does not exist")
        if output.is_dir():
            parser.error(f"--output {str(output)!r} is a folder: give a file's name")
        try:  # a read-only disk or a folder not ours: said now, not after the fitting
            with tempfile.TemporaryFile(dir=output.resolve().parent):
                pass
        except OSError as err:
            parser.error(f"--output {str(output)!r}: cannot write in its folder ({err.strerror})")
    return args


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Each row's fold, 0 to folds - 1: every label spread evenly over the folds."""
    rng = np.random.RandomState(seed)
    fold = np.empty(len(y), np.int64)
    start = 0  # each label's rows continue the rotation where the previous label's ended
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        fold[rows] = (start + np.arange(len(rows))) % folds
        start += len(rows)
    return fold


def out_of_fold(
    x: np.ndarray, y: np.ndarray, fold: np.ndarray, args: argparse.Namespace, num_labels: int
) -> np.ndarray:
    """Every row's probabilities, (rows, labels), from a bag of n-grams fitted on the
    other folds."""
    import keras  # not at the top: --help and a bad flag answer before TensorFlow loads
    import tensorflow as tf

    from models.bag_of_ngrams import LEARNING_RATE, best_epoch, build_bow, fit_features

    # Each fold's model is new, and TensorFlow traces its functions anew: by the fifth it
    # warns of "retracing", which here is expected.
    tf.get_logger().addFilter(lambda record: "retracing" not in record.getMessage())
    probabilities = np.zeros((len(y), num_labels), np.float32)
    for k in range(args.folds):
        held = np.flatnonzero(fold == k)
        # The fold's training rows, shuffled so that the validation part holds every label.
        rest = np.random.RandomState(args.seed + k).permutation(np.flatnonzero(fold != k))
        n = max(1, int(len(rest) * (1.0 - VALIDATION_SPLIT)))
        x_fit, y_fit = x[rest[:n]], y[rest[:n]]
        validation = (x[rest[n:]], y[rest[n:]]) if n < len(rest) else None

        # train_bow.py's model, fitted as train_bow.py fits it; a fresh session for each
        # fold frees the last fold's model.
        keras.backend.clear_session()
        keras.utils.set_random_seed(args.seed)
        pairs, ratios = fit_features(x_fit, y_fit, args.num_words, args.ngrams, num_labels)
        model = build_bow(pairs, ratios, n, num_words=args.num_words, maxlen=args.maxlen)
        model.compile(
            loss="binary_crossentropy" if num_labels == 2 else "sparse_categorical_crossentropy",
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
        )
        model.fit(
            x_fit, y_fit, validation_data=validation, epochs=args.epochs or EPOCHS,
            batch_size=args.batch_size or BATCH_SIZE, callbacks=best_epoch(validation is not None),
            verbose=0,
        )  # fmt: skip
        probabilities[held] = models.outputs.probabilities(
            model.predict(x[held], batch_size=1024, verbose=0)
        )
        right = (probabilities[held].argmax(axis=1) == y[held]).mean()
        print(f"Fold {k + 1} of {args.folds}: fitted on {len(rest):,} rows, "
              f"{right:.2%} of its {len(held):,} held-out rows get their given label")  # fmt: skip
    return probabilities


def out_of_fold_by_script(
    args: argparse.Namespace, fold: np.ndarray, labels: list[str]
) -> np.ndarray:
    """Every row's probabilities from the model that --script saves, trained on the other
    folds' rows (written as JSON Lines) and tested on this fold's, in a process of its own."""
    probabilities = np.zeros((len(fold), len(labels)), np.float32)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for k in range(args.folds):
            train, held = folder / f"train{k}.jsonl", folder / f"held{k}.jsonl"
            texts = []
            with open(train, "w", encoding="utf-8") as fit_file, \
                    open(held, "w", encoding="utf-8") as held_file:  # fmt: skip
                for i, row in enumerate(rows_of(args)):
                    line = json.dumps({"text": row.text, "label": row.label}) + "\n"
                    if fold[i] == k:
                        held_file.write(line)
                        texts.append(row.text)
                    else:
                        fit_file.write(line)
            flags = ["--data", train, "--test-data", held, "--output-dir", folder / f"out{k}",
                     "--seed", args.seed, "--num-words", args.num_words,
                     "--maxlen", args.maxlen]  # fmt: skip
            flags += ["--epochs", args.epochs] if args.epochs else []
            flags += ["--batch-size", args.batch_size] if args.batch_size else []
            result = subprocess.run([sys.executable, str(ROOT / args.script), *map(str, flags)],
                                    capture_output=True, text=True)  # fmt: skip
            out = folder / f"out{k}"  # the one model folder the run saved: its version 1
            saved = [p for p in out.iterdir() if p.is_dir()] if out.is_dir() else []
            if result.returncode != 0 or len(saved) != 1:
                reason = (result.stderr.strip().splitlines() or ["no reason given"])[-1]
                raise common.UserError(f"{args.script} failed on fold {k + 1}: {reason}")
            files = common.find_model(str(saved[0]), out)
            model, encoding = common.load_model(files)
            p = models.outputs.probabilities(common.scoring.score_texts(model, encoding, texts))
            columns = [encoding.labels.index(label) for label in labels if label in encoding.labels]
            known = [label in encoding.labels for label in labels]
            probabilities[np.flatnonzero(fold == k)[:, None], np.flatnonzero(known)] = p[:, columns]
            metrics = common.files.read_json(files.folder / common.saving.METRICS_FILE, 2**24)
            print(f"Fold {k + 1} of {args.folds}: {args.script} on {len(fold) - len(texts):,} "
                  f"rows, {metrics['test_accuracy']:.2%} of its {len(texts):,} held-out rows get "
                  "their given label")  # fmt: skip
    return probabilities


def rows_of(args: argparse.Namespace):
    """The rows of --data, read again, in file order."""
    options = common.labeled.options(args)
    return iter(common.labeled.reader(Path(args.data), options.columns,
                                      escape_char=args.escape_char))  # fmt: skip


def texts_of(args: argparse.Namespace, rows: set[int]) -> dict[int, str]:
    """The texts of `rows` (indices in file order), read again from the file: only
    their word ids were kept."""
    return {i: row.text for i, row in enumerate(rows_of(args)) if i in rows}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    x, y, labels, where = common.labeled.load_every_row(
        Path(args.data), common.labeled.options(args), num_words=args.num_words, maxlen=args.maxlen
    )
    if len(y) < args.folds:
        raise common.UserError(f"--data has {len(y):,} rows, fewer than --folds {args.folds}.")

    # Out of fold: a row is never scored by a model that learned its label.
    fold = stratified_folds(y, args.folds, args.seed)
    if args.script is None:
        probabilities = out_of_fold(x, y, fold, args, len(labels))
    else:
        probabilities = out_of_fold_by_script(args, fold, labels)

    suspects = find_label_issues(probabilities, y)
    given_p = probabilities[suspects, y[suspects]]
    suggested = probabilities[suspects].argmax(axis=1)
    then = "; most suspicious first:" if len(suspects) else "."
    print(f"Flagged {len(suspects):,} of {len(y):,} rows ({len(suspects) / len(y):.1%}) as "
          f"likely labeled wrong{then}")  # fmt: skip

    shown = suspects[: args.top]
    texts = texts_of(args, set(suspects.tolist()) if args.output else set(shown.tolist()))
    place = "file" if Path(args.data).is_dir() else "line"
    printable = common.cli.printable
    for i, p, s in zip(shown, given_p, suggested, strict=False):
        text = printable(" ".join(texts[i].split()))
        text = text if len(text) <= TEXT_WIDTH else text[: TEXT_WIDTH - 4] + " ..."
        print(f"  {place} {where[i]}: given {printable(labels[y[i]])!r} (p {p:.3f}), "
              f"suggested {printable(labels[s])!r}: {text}")  # fmt: skip

    if args.output is not None:
        try:  # whole or not at all: a full disk leaves the file as it was
            with common.files.atomic_path(args.output) as temporary:
                with open(temporary, "w", encoding="utf-8", newline="") as file:
                    out = csv.writer(file)
                    out.writerow([place, "given", "suggested", "score", "text"])
                    for i, p, s in zip(suspects, given_p, suggested, strict=True):
                        out.writerow([where[i], labels[y[i]], labels[s], f"{p:.6f}", texts[i]])
        except OSError as err:
            raise common.UserError(
                f"cannot write --output {str(args.output)!r}: {err.strerror or err} (the "
                f"{len(shown):,} most suspicious rows are printed above)."
            ) from None
        print(f"Wrote {args.output} ({len(suspects):,} rows)")


if __name__ == "__main__":
    common.run(main)
