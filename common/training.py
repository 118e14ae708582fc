"""What a training script does around its lesson, in one object: `RunRecord`.

A training script builds, compiles, fits and evaluates its model itself, in plain
Keras. The project meets it in five statements of its `main()`:

    args = common.training_parser(__doc__, epochs=2, ...).parse_args(argv)   # the flags
    record = common.RunRecord("cnn", args)     # checks the output folder, starts the clock
    (x_train, y_train), (x_test, y_test), labels = record.load_data()   # the data
    ...                                         # plain Keras: build, compile, fit, evaluate
    model = record.calibrate(model)             # honest probabilities (the same labels)
    record.save(model, history, test_loss, test_accuracy)   # the model, its export, report

Each `fit` passes `callbacks=record.callbacks, verbose=record.verbose`: they time the
epochs, stop cleanly on SIGTERM, and print one line per epoch where the output is a file,
not a terminal (a copy of the middle drops the two arguments).

`calibrate` is the one step that changes the model: a temperature, or a curve where it
does better on held-out folds, fitted on the validation texts (models/calibration.py).
The save only saves, and records seconds and peak memory per phase (data; build, fit
and evaluate; calibrate; then the save's own: save, export, portable, card), seconds per
epoch, and the test figures and history.
"""

from __future__ import annotations

import argparse
import errno
import re
import sys
from pathlib import Path

from common import cli, model_card
from common.cli import DRY_RUN_DIR, UserError
from common.data import Dataset, fit_size, is_imdb
from common.export import export_portable, export_text_model
from common.files import write_version
from common.labeled import load_data, options, table_kind
from common.report import (
    TrainingRun,
    class_figures,
    class_table,
    save_training_report,
)
from common.saving import MODEL_FILE, save_model
from common.scoring import predict_outputs
from common.timing import EpochTimer, PhaseClock

import keras
import numpy as np
import tensorflow as tf

from models.calibration import (
    ABSTAIN_AT,
    brier_score,
    calibrator,
    chosen_because,
    expected_calibration_error,
    fit_calibration,
    log_loss,
    lowest_threshold,
    reliability,
    selective,
    with_calibration,
)
from models.outputs import predicted

DRY_RUN_REVIEWS = 512  # --dry-run trains and tests on this many reviews

Arrays = tuple[np.ndarray, np.ndarray]


class FitWatcher(EpochTimer):
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


class RunRecord:
    """The record of one training run: its output folder, clock, data and result; it
    saves the model with all of them. It trains nothing: the script does."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        """`name` is what the model is (cnn); `args` the training flags, as parsed. It is
        saved as `saved_name(name, args.data)`."""
        self.name, self.args = saved_name(name, getattr(args, "data", None)), args
        # The script that trains it, for the card: cli.MODELS's (train_cnn.py), or the
        # program's own name for a model of a script of one's own.
        self.script = cli.MODELS.get(name, [Path(sys.argv[0]).name])[0]
        folder = Path(args.output_dir)
        # Fail now, not after training; a dry run never replaces real results.
        self.output_dir = cli.prepare_output_dir(folder / DRY_RUN_DIR if args.dry_run else folder)
        self.model_dir = cli.prepare_output_dir(self.output_dir / self.name)  # 1/, 2/, ...
        if getattr(args, "target_accuracy", None) is not None and args.validation_split == 0:
            raise UserError("--target-accuracy chooses its threshold on the validation texts: "
                            "--validation-split must be above 0.")  # fmt: skip
        self.clock = PhaseClock()
        self.watcher = FitWatcher(self.clock)
        # What the script's `fit` calls pass: the watcher, and a line per epoch where the
        # output is a file (Keras' live bar would write a line every 50 ms there).
        self.callbacks: list[keras.callbacks.Callback] = [self.watcher]
        self.verbose: int | str = "auto" if sys.stdout.isatty() else 2
        self.data: Dataset | None = None  # padded to --maxlen, as the model reads it
        self._calibrated: tuple | None = None  # what `calibrate` gave: model, test outputs, ...

    def load_data(self) -> tuple[Arrays, Arrays, list[str]]:
        """The texts to learn from and test on, as --data asks (the IMDB reviews, or your
        own: common/labeled.py), each padded or cut to --maxlen word ids of the --num-words
        most frequent words: `(x_train, y_train), (x_test, y_test), labels`, where y holds
        each text's label as its place in `labels`. Prints where they came from.
        """
        data = self._load(self.args.maxlen)
        self.data = data
        return (data.x_train, data.y_train), (data.x_test, data.y_test), list(data.labels)

    def load_words(self) -> tuple[Arrays, Arrays, list[str], dict[str, int]]:
        """`load_data`, but every word of each text, not padded nor cut (a model that
        cuts texts itself needs them), and the vocabulary: each word's frequency rank,
        its id less 3 (models/word_ids.py)."""
        data = self._load(None)
        self.data = data.padded(self.args.maxlen)
        xy = (data.x_train, data.y_train), (data.x_test, data.y_test)
        return (*xy, list(data.labels), dict(data.word_index))

    def _load(self, maxlen: int | None) -> Dataset:
        """--dry-run keeps the first 512 training and test texts. A validation split that
        would leave no text to learn from (or none to validate on) is refused. Operations
        are made deterministic: the same seed gives the same weights, on one machine."""
        args = self.args
        data = load_data(args.data, args.num_words, maxlen, options(args))
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
        # Without this, some TensorFlow kernels add floating-point sums in a varying order.
        tf.config.experimental.enable_op_determinism()
        self.clock.lap("data")
        return data

    def calibrate(self, model: keras.Model) -> keras.Model:
        """The trained model with honest probabilities: a temperature (or a curve, where
        held-out folds of the validation texts show it does better) fitted on the
        validation texts becomes its last layer (models/calibration.py; the labels stay
        the same, but for ties within rounding), and --target-accuracy's threshold is
        chosen on the validation texts too. Prints both; `save` records them (the test
        set's figures before and after, calibration.png, the card). The model is
        returned as it is without validation texts."""
        self.clock.lap("evaluate")
        data = self.data
        outputs = predict_outputs(model, data.x_test)
        x_val, y_val = self._validation()
        val_outputs = predict_outputs(model, x_val)
        calibration = self._calibrate(val_outputs, y_val, outputs)
        if calibration is not None:  # the same model, its probabilities scaled
            model = with_calibration(model, calibration)
            labels = predicted(outputs)
            outputs = _through_calibration(model, outputs)
            val_outputs = _through_calibration(model, val_outputs)
            calibration["after"] = _calibration_figures(outputs, data.y_test)
            calibration["labels_changed"] = int(np.sum(predicted(outputs) != labels))
            # The calibrated model on the validation texts: what train_auto.py compares.
            calibration["validation"] = {
                "accuracy": float(np.mean(predicted(val_outputs) == y_val)),
                "macro_f1": class_figures(y_val, predicted(val_outputs), data.labels)["macro_f1"],
                "log_loss": log_loss(val_outputs, y_val),
            }
            print(_calibration_line(calibration))
        wanted = getattr(self.args, "target_accuracy", None)
        threshold = self._threshold(val_outputs, y_val, outputs) if wanted is not None else None
        self._calibrated = (model, outputs, calibration, threshold)
        self.clock.lap("calibrate")
        return model

    def save(
        self,
        model: keras.Model,
        history: keras.callbacks.History | dict[str, keras.callbacks.History],
        test_loss: float,
        test_accuracy: float,
    ) -> None:
        """Save the model, its export, the plot and the metrics; print the accuracy. It
        changes nothing of the model: what `calibrate` gave is what is saved.

        `history` is fit's, or {part name: fit's} for a model trained in parts, which the
        plot then draws part by part. All of them go into one new version of the model's
        folder (outputs/cnn/3/), which appears only once every file is complete
        (common/saving.py): the model with the word index and settings that predict.py
        needs to encode new text exactly as the training texts were, its export as a
        SavedModel that takes raw text (common/export.py), and the metrics and plot of
        this run. The accuracy is the last line printed on standard output; when the
        files cannot be written, it is printed on standard error instead, before the error.
        """
        if isinstance(history, dict):
            curves = {f"{part}_{key}": values for part, fitted in history.items()
                      for key, values in fitted.history.items()}  # fmt: skip
        else:
            curves = history.history
        run = TrainingRun(self.args.seed, test_accuracy, test_loss, curves, self.watcher.seconds)
        data = self.data
        if self._calibrated is not None and self._calibrated[0] is model:
            _, outputs, calibration, threshold = self._calibrated
        else:  # a model `calibrate` did not give: saved as it is
            self.clock.lap("evaluate")
            outputs, calibration, threshold = predict_outputs(model, data.x_test), None, None
        abstaining = _abstaining(outputs, data.y_test)
        # Each label's figures on the test set.
        per_label = class_figures(data.y_test, predicted(outputs), data.labels)
        print("\nOn the test set, per label:")
        print(class_table(per_label))
        self._say_if_not_learned(run)
        accuracy = f"Accuracy: {test_accuracy * 100:.2f}%"

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
                min_confidence=threshold,
            )
            self.clock.lap("save")
            # The same model with the tokenizer inside, for programs without this repository.
            export_text_model(model, encoding, folder)
            self.clock.lap("export")
            # tokenizer.json, model.onnx and model.tflite
            for line in export_portable(model, encoding, folder):
                print(line)
            self.clock.lap("portable")
            card = model_card.gather(
                model, encoding, data, outputs, name=self.name, model_sha256=model_sha256,
                script=self.script, flags={k: v for k, v in vars(self.args).items()
                                           if k != "output_dir"},
                data_path=getattr(self.args, "data", None), calibration=calibration,
            )  # fmt: skip
            print("\nBehavioural checks (model_card.md):")
            for check in card.checks:
                print(f"  {check['check']}: {check['passed']} of {check['pairs']} pairs pass")
            self.clock.lap("card")
            save_training_report(
                folder,
                self.name,
                run,
                # What training learns: a bag of n-grams also holds fixed ratios and a vocabulary.
                parameters=sum(int(np.prod(w.shape)) for w in model.trainable_weights),
                settings={**vars(self.args), "output_dir": str(self.output_dir)},
                data_source=data.source,
                clock=self.clock,
                model_sha256=model_sha256,
                per_label=per_label,
                learned_from=encoding.learned_from,
                calibration=calibration,
                abstaining=abstaining,
                behaviour=card.checks,
                script=self.script,
            )
            model_card.write(folder, card)

        try:
            version = write_version(self.model_dir, write)
        except (OSError, tf.errors.OpError) as err:  # a full disk, a quota, permissions, ...
            print(accuracy, file=sys.stderr)  # the result, at least, is not lost
            raise UserError(
                f"cannot save the model in {str(self.model_dir)!r} "
                f"({_reason(err)}); the accuracy is above, and the previous version, if any, "
                f"is as it was{_advice(err)}."
            ) from None
        print(f"Saved {version}/: {MODEL_FILE}, its encoding, export, metrics and history plot")
        print(accuracy)  # the last line: Accuracy: NN.NN%

    def _threshold(
        self, val_outputs: np.ndarray, y_val: np.ndarray, test_outputs: np.ndarray
    ) -> float | None:
        """The lowest top probability from which the model is right on --target-accuracy
        of the validation texts it answers (the most it can answer so); None if no
        threshold reaches it. Prints what it gives on the test texts."""
        data, target = self.data, self.args.target_accuracy
        overall = float(np.mean(predicted(val_outputs) == y_val))
        if overall >= target:  # answering every text reaches it: a threshold would only cost
            print(f"\nThe model is right on {overall:.2%} of all the validation texts, which "
                  f"reaches --target-accuracy {target:g}: it answers every text, saved without "
                  "a threshold.")  # fmt: skip
            return None
        threshold = lowest_threshold(val_outputs, y_val, target)
        if threshold is None:
            print(f"\nNo threshold makes the model right on {target:.2%} of the validation "
                  "texts it answers: saved without one.")  # fmt: skip
            return None
        answered, right = selective(test_outputs, data.y_test, threshold)
        shown = "none" if right is None else f"{right:.2%} of them right"
        print(f"\nUnsure below {threshold:.4f}: the lowest top probability at which it is right "
              f"on {target:.2%} of the validation texts it answers; on the test set it answers "
              f"{answered:.2%} of the texts, {shown}. predict.py and serve.py use it.")  # fmt: skip
        return threshold

    def _calibrate(
        self, val_outputs: np.ndarray, y_val: np.ndarray, test_outputs: np.ndarray
    ) -> dict | None:
        """The temperature or curve that makes the model's probabilities honest on the
        validation texts (models/calibration.py), with the test set's figures before it;
        None without validation texts."""
        if not len(y_val):
            print("\nNot calibrated: with --validation-split 0 no text is left to fit it on.")
            return None
        fitted = fit_calibration(val_outputs, y_val)
        return {
            "method": (
                "a curve on the log-probabilities" if "curve" in fitted else "temperature scaling"
            )
            + ", fitted on the validation texts",
            **fitted,
            "validation_texts": len(y_val),
            "before": _calibration_figures(test_outputs, self.data.y_test),
        }

    def _validation(self) -> Arrays:
        """The validation texts and labels: the last --validation-split of the training
        texts, as `fit(validation_split=...)` held them out."""
        data = self.data
        n = fit_size(len(data.x_train), self.args.validation_split)
        return data.x_train[n:], data.y_train[n:]

    def _say_if_not_learned(self, run: TrainingRun) -> None:
        """One line when the model's validation accuracy, at its last epoch, is no better
        than always answering the most common label of the validation texts."""
        data = self.data
        accuracies = run.history.get("val_accuracy")
        if not accuracies:  # no validation, or a model trained in parts
            return
        held = np.asarray(self._validation()[1])
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


def _through_calibration(model: keras.Model, outputs: np.ndarray) -> np.ndarray:
    """What `model` (ending in its calibration) gives for the texts whose outputs before
    it are `outputs`: its last layer alone, on the same steps, gives the same bits as the
    whole model (tests/test_calibration.py checks it) in a fraction of the time."""
    tail = keras.Sequential([keras.Input(shape=outputs.shape[1:]), model.layers[-1]])
    return predict_outputs(tail, outputs)


def _calibration_figures(outputs: np.ndarray, y: np.ndarray) -> dict:
    """ECE, Brier score and the reliability diagram's bins of `outputs` against `y`."""
    return {
        "ece": expected_calibration_error(outputs, y),
        "brier": brier_score(outputs, y),
        "bins": reliability(outputs, y),
    }


def _abstaining(outputs: np.ndarray, y: np.ndarray) -> list[dict]:
    """How many test texts the saved model answers, and how many of those right, if it
    answers only from each probability of ABSTAIN_AT (predict.py --min-confidence);
    printed as a table."""
    rows = []
    print("\nAnswering only where the top probability reaches P, on the test set:")
    for p in ABSTAIN_AT:
        answered, right = selective(outputs, y, p)
        rows.append({"min_confidence": p, "answered": answered, "accuracy": right})
        shown = "none answered" if right is None else f"{right:.2%} of them right"
        print(f"  P = {p:.2f}: answers {answered:.2%} of the texts, {shown}")
    return rows


def _calibration_line(calibration: dict) -> str:
    before, after = calibration["before"], calibration["after"]
    return (
        f"\nCalibrated: {calibrator(calibration)}, fitted on the "
        f"{calibration['validation_texts']:,} validation texts{chosen_because(calibration)}. "
        f"On the test set, expected calibration error {before['ece']:.4f} -> "
        f"{after['ece']:.4f}, Brier score {before['brier']:.4f} -> {after['brier']:.4f}; "
        + (f"{changed:,} test label{'s' if changed > 1 else ''} changed (a probability within "
           "rounding of 0.5)." if (changed := calibration["labels_changed"]) else
           "every test label is the one it was.")
    )  # fmt: skip


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
