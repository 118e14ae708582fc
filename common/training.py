"""What every training script does once its models are trained: save, report, print."""

from __future__ import annotations

import argparse
from pathlib import Path

import keras
import numpy as np

from common.data import Imdb
from common.report import TrainingRun, accuracy_summary, save_training_report
from common.saving import save_model
from common.timing import PhaseClock


def finish_training(
    name: str,
    trained: list[tuple[keras.Model, TrainingRun]],
    data: Imdb,
    args: argparse.Namespace,
    clock: PhaseClock,
    output_dir: Path,
) -> keras.Model:
    """Save the first seed's model, the plot and the metrics; print the accuracy last.

    The model is saved with the word index and settings that predict.py needs to encode
    new text exactly as the training reviews were encoded. Returns that model.
    """
    model = trained[0][0]
    save_model(
        model,
        output_dir / f"{name}.keras",
        data.word_index,
        num_words=data.num_words,
        maxlen=data.maxlen,
        data_source=data.source,
    )
    runs = [run for _, run in trained]
    save_training_report(
        output_dir,
        name,
        runs,
        # What training learns: a bag of n-grams also holds its fixed ratios and vocabulary.
        parameters=sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        settings=vars(args),
        data_source=data.source,
        clock=clock,
    )
    print(accuracy_summary(runs))  # the last line: Accuracy: NN.NN%
    return model
