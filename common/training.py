"""Everything a training script does around its lesson, in one object: `Training`.

A training script builds, compiles, fits and evaluates its model itself, in plain
Keras. The rest enters it in one line each:

    training = common.Training("cnn", args)         # checks the output folder, starts the clock
    data = training.load_data(num_words=5000, maxlen=500)
    for seed in training.seeds():                  # sets each seed in turn
        ...                                        # build, compile
        history = model.fit(..., callbacks=[training.callback], verbose=training.verbose)
        test_loss, test_accuracy = model.evaluate(...)
        training.record(model, history, test_loss, test_accuracy)
    training.finish(data)  # saves the model, its export, the plot, the metrics; prints the accuracy

What it records: seconds and peak memory per phase (data; build, fit and evaluate,
summed over the seeds), seconds per epoch, and each seed's test figures and history.
"""

from __future__ import annotations

import argparse
import errno
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from common import cli
from common.cli import DRY_RUN_DIR, UserError
from common.data import Dataset, fit_size, is_imdb, load_data
from common.export import export_text_model
from common.files import write_version
from common.labeled import table_kind
from common.report import (
    TrainingRun,
    accuracy_summary,
    class_figures,
    class_table,
    save_training_report,
)  # fmt: skip
from common.saving import MODEL_FILE, save_model
from common.scoring import predict_outputs
from common.timing import EpochTimer, PhaseClock

import keras
import numpy as np
import tensorflow as tf

from models.classes import predicted

DRY_RUN_REVIEWS = 512  # --dry-run trains and tests on this many reviews


class TrainingCallback(EpochTimer):
    """Times each epoch and the phases around `fit`; stops cleanly on SIGTERM."""

    def __init__(self, clock: PhaseClock) -> None:
        super().__init__()
        self.clock = clock

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.clock.lap("build")  # everything since the last phase: building, compiling

    def on_train_end(self, logs: dict | None = None) -> None:
        self.clock.lap("fit")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        # A SIGTERM whose KeyboardInterrupt Python had to drop (see cli.terminating).
        if cli.terminating():
            raise KeyboardInterrupt


class Training:
    """One training run of a model: its output folder, clock, seeds, results and files."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        """`name` is what the model is (cnn); `args` the training flags, as parsed. It is
        saved as `saved_name(name, args.data)`."""
        self.name, self.args = saved_name(name, getattr(args, "data", None)), args
        folder = Path(args.output_dir)
        # Fail now, not after training; a dry run never replaces real results.
        self.output_dir = cli.prepare_output_dir(folder / DRY_RUN_DIR if args.dry_run else folder)
        self.model_dir = cli.prepare_output_dir(self.output_dir / self.name)  # 1/, 2/, ...
        self.clock = PhaseClock()
        self.callback = TrainingCallback(self.clock)
        self.verbose = cli.progress_verbosity()  # a live bar in a terminal, a line per epoch else
        self.runs: list[TrainingRun] = []
        self.model: keras.Model | None = None  # the first seed's: the one saved
        self.seed: int | None = None

    def load_data(self, *, num_words: int, maxlen: int | None) -> Dataset:
        """The texts to learn from and test on, as the flags ask (the IMDB reviews, or your own
        data: common/labeled.py); prints where they came from.

        --dry-run keeps the first 512 training and test reviews. A validation split that
        would leave no review to learn from (or none to validate on) is refused.
        """
        args = self.args
        data = load_data(args.data, num_words, maxlen, cli.data_options(args))
        if args.dry_run:  # a quick check that everything runs, not a result
            data = data.head(DRY_RUN_REVIEWS)
        fitted = fit_size(len(data.x_train), args.validation_split)
        if fitted < 1 or (args.validation_split > 0 and fitted == len(data.x_train)):
            raise UserError(
                f"--validation-split {args.validation_split} of {len(data.x_train):,} training "
                f"reviews leaves {fitted:,} to learn from and {len(data.x_train) - fitted:,} to "
                "validate on; both need at least one."
            )
        shapes = f"Training data {data.x_train.shape}, test data {data.x_test.shape}"
        print(f"{shapes}, from {data.source}")
        self.clock.lap("data")
        return data

    def seeds(self) -> Iterator[int]:
        """Each seed of --seed or --seeds, set before it is yielded (and announced, if several)."""
        seeds = self.args.seeds
        for i, seed in enumerate(seeds, start=1):
            if len(seeds) > 1:
                print(f"\n=== Seed {seed} ({i} of {len(seeds)})", flush=True)
            cli.set_seed(seed)
            self.seed = seed
            yield seed

    def record(
        self,
        model: keras.Model,
        history: keras.callbacks.History | dict[str, keras.callbacks.History],
        test_loss: float,
        test_accuracy: float,
    ) -> None:
        """Keep one seed's result. `history` is fit's, or {part name: fit's} for a model
        trained in parts, which the plot then draws part by part."""
        if isinstance(history, dict):
            curves = {f"{part}_{key}": values for part, fitted in history.items()
                      for key, values in fitted.history.items()}  # fmt: skip
        else:
            curves = history.history
        seconds = self.callback.seconds
        self.callback.seconds = []
        self.runs.append(TrainingRun(self.seed, test_accuracy, test_loss, curves, seconds))
        if self.model is None:
            self.model = model
        self.clock.lap("evaluate")

    def finish(self, data: Dataset) -> keras.Model:
        """Save the first seed's model, its export, the plot and the metrics; print the accuracy.

        All of them go into one new version of the model's folder (outputs/cnn/3/), which
        appears only once every file is complete (common/saving.py): the model with the
        word index and settings that predict.py needs to encode new text exactly as the
        training reviews were, its export as a SavedModel that takes raw text
        (common/export.py), and the metrics and plot of this run. The accuracy is the last
        line printed, also when the files cannot be written. Returns the model.
        """
        model, runs = self.model, self.runs
        # Each label's figures on the test set, from the model that is saved.
        outputs = predict_outputs(model, data.x_test)  # for the per-label figures
        per_label = class_figures(data.y_test, predicted(outputs), data.labels)
        print(f"\nOn the test set{', the first seed' if len(runs) > 1 else ''}, per label:")
        print(class_table(per_label))
        self._say_if_not_learned(data)

        def write(folder: Path) -> None:
            encoding, model_sha256 = save_model(
                model,
                folder,
                data.word_index,
                num_words=data.num_words,
                maxlen=data.maxlen,
                data_source=data.source,
                labels=data.labels,
                origin=data.origin,
            )
            # The same model with the tokenizer inside, for programs without this repository.
            export_text_model(model, encoding, folder)
            save_training_report(
                folder,
                self.name,
                runs,
                # What training learns: a bag of n-grams also holds fixed ratios and a vocabulary.
                parameters=sum(int(np.prod(w.shape)) for w in model.trainable_weights),
                settings={**vars(self.args), "output_dir": str(self.output_dir)},
                data_source=data.source,
                clock=self.clock,
                model_sha256=model_sha256,
                per_label=per_label,
                learned_from=encoding.learned_from,
            )

        try:
            version = write_version(self.model_dir, write)
        except (OSError, tf.errors.OpError) as err:  # a full disk, a quota, permissions, ...
            print(accuracy_summary(runs), file=sys.stderr)  # the result, at least, is not lost
            raise UserError(
                f"cannot save the model in {str(self.model_dir)!r} "
                f"({_reason(err)}); the accuracy is above, and the previous version, if any, "
                f"is as it was{_advice(err)}."
            ) from None
        print(f"Saved {version}/: {MODEL_FILE}, its encoding, export, metrics and history plot")
        print(accuracy_summary(runs))  # the last line: Accuracy: NN.NN%
        return model

    def _say_if_not_learned(self, data: Dataset) -> None:
        """One line when the saved model's validation accuracy, at its last epoch, is no
        better than always answering the most common label of the validation texts."""
        accuracies = self.runs[0].history.get("val_accuracy")
        if not accuracies:  # no validation, or a model trained in parts
            return
        held = np.asarray(data.y_train[fit_size(len(data.y_train), self.args.validation_split) :])
        if not len(held):
            return
        counts = np.bincount(held, minlength=len(data.labels))
        most, share = int(counts.argmax()), counts.max() / len(held)
        if round(accuracies[-1] * len(held)) <= counts.max():  # texts right: no more
            print(
                f"\nNote: the validation accuracy, {accuracies[-1]:.2%}, is no better than "
                f"always answering {cli.printable(data.labels[most])!r} ({share:.2%}): the "
                "model has not learned to tell the labels apart. More epochs (--epochs), more "
                "texts, or the bag of n-grams (train_bow.py), which learns from few, may help."
            )


def saved_name(name: str, data: str | None) -> str:
    """The name a model is saved under: its own for the IMDB reviews (cnn), and your own
    data's name before it otherwise (hotel_cnn, for --data hotel.csv): a model of other
    data never takes the place of the IMDB model that predict.py and serve.py use."""
    if data is None or is_imdb(Path(data)):
        return name
    stem = Path(data).resolve().name.lower().removesuffix(".gz")
    stem = stem.removesuffix(table_kind(stem) or "")
    stem = re.sub(r"[^a-z0-9_-]+", "_", stem).strip("_") or "data"
    return f"{stem[:60]}_{name}"


def _reason(err: Exception) -> str:
    """What went wrong writing, in a few words: the system's, or TensorFlow's first line."""
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    return cli.printable(message.splitlines()[0].rsplit("; ", 1)[-1][:200])  # without the path


def _advice(err: Exception) -> str:
    """What to do about it, where the cause is known."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return ": free some space and train again"
    if "space left" in str(err) or "ResourceExhausted" in type(err).__name__:
        return ": free some space and train again"
    if isinstance(err, OSError) and err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ": check who may write there"
    return ""
