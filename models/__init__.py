"""Pieces of models, each module named for what it is.

bag_of_ngrams.py (the baseline's `NgramIds` layer and naive-Bayes weighting: train_bow.py,
train_ensemble.py, train_minilm.py), short_texts.py (the regression for short texts,
its `LengthGate`, the short texts cut from the reviews), minilm.py (a pre-trained
encoder reading our word ids through the `WordPieces` layer), outputs.py (the end of
every model: one probability for two labels, one per label for more), calibration.py
(the temperature every saved model ends in, and the measures of calibration),
label_issues.py (confident learning: which given labels are likely wrong, from any
model's out-of-fold probabilities), word_ids.py (the ids every model reads). The
tutorial's networks are in their own scripts.

Imports nothing of common/, so a copy of this folder works in a project of your own.
Importing it registers the custom layers, so that `keras.models.load_model` can rebuild
any saved model of this project.
"""

from models import (
    bag_of_ngrams,
    calibration,
    label_issues,
    minilm,
    outputs,
    short_texts,
    word_ids,
)

__all__ = [
    "bag_of_ngrams",
    "calibration",
    "label_issues",
    "minilm",
    "outputs",
    "short_texts",
    "word_ids",
]
