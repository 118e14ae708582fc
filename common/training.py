"""What every training script does once its models are trained: save, report, print."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from common.cli import UserError
from common.data import Imdb, fit_size, load_imdb
from common.export import export_path, export_text_model
from common.report import TrainingRun, accuracy_summary, save_training_report
from common.saving import save_model
from common.timing import PhaseClock

if TYPE_CHECKING:  # Keras loads when a model is first built or loaded, not before
    import keras

DRY_RUN_REVIEWS = 512  # --dry-run trains and tests on this many reviews, for 1 epoch


def load_training_data(args: argparse.Namespace, *, num_words: int, maxlen: int) -> Imdb:
    """The reviews a training script learns from, as its flags ask; prints where they came from.

    --dry-run keeps the first 512 training and test reviews and 1 epoch. A validation
    split that would leave no review to learn from (or none to validate on) is refused.
    """
    data = load_imdb(args.data, num_words=num_words, maxlen=maxlen)
    if args.dry_run:  # a quick check that everything runs, not a result
        data, args.epochs = data.head(DRY_RUN_REVIEWS), 1
    fitted = fit_size(len(data.x_train), args.validation_split)
    if fitted < 1 or (args.validation_split > 0 and fitted == len(data.x_train)):
        raise UserError(
            f"--validation-split {args.validation_split} of {len(data.x_train):,} training "
            f"reviews leaves {fitted:,} to learn from and {len(data.x_train) - fitted:,} to "
            "validate on; both need at least one."
        )
    print(f"Training data {data.x_train.shape}, test data {data.x_test.shape}, from {data.source}")
    return data


def finish_training(
    name: str,
    trained: list[tuple[keras.Model, TrainingRun]],
    data: Imdb,
    args: argparse.Namespace,
    clock: PhaseClock,
    output_dir: Path,
) -> keras.Model:
    """Save the first seed's model, its export, the plot and the metrics; print the accuracy last.

    The model is saved with the word index and settings that predict.py needs to encode
    new text exactly as the training reviews were encoded, and exported as a SavedModel
    that takes raw text (common/export.py). Returns that model.
    """
    model = trained[0][0]
    runs = [run for _, run in trained]
    try:
        encoding = save_model(
            model,
            output_dir / f"{name}.keras",
            data.word_index,
            num_words=data.num_words,
            maxlen=data.maxlen,
            data_source=data.source,
        )
        # The same model with the tokenizer inside, for programs without this repository.
        export = export_path(output_dir / f"{name}.keras")
        export_text_model(model, encoding, export)
        print(f"Exported {export}/ (takes raw text; needs only TensorFlow: see the README)")
        save_training_report(
            output_dir,
            name,
            runs,
            # What training learns: a bag of n-grams also holds fixed ratios and a vocabulary.
            parameters=sum(int(np.prod(w.shape)) for w in model.trainable_weights),
            settings=vars(args),
            data_source=data.source,
            clock=clock,
        )
    except OSError as err:  # a full disk, a quota, a file size limit
        print(accuracy_summary(runs), file=sys.stderr)  # the result, at least, is not lost
        raise UserError(
            f"cannot write the results to {str(output_dir)!r} ({err.strerror or err}); "
            "the accuracy is above, the files are not: free some space and train again."
        ) from None
    print(accuracy_summary(runs))  # the last line: Accuracy: NN.NN%
    return model
