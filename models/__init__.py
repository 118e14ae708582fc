"""Pieces of models, each module named for what it is.

bag_of_ngrams.py (the baseline's `NgramIds` layer and naive-Bayes weighting: train_bow.py,
train_ensemble.py, train_minilm.py), short_texts.py (the regression for short texts,
its `LengthGate`, the short texts cut from the reviews), minilm.py (a pre-trained
encoder reading our word ids through the `WordPieces` layer), outputs.py (the end of
every model: one probability for two labels, one per label for more), calibration.py
(the temperature or curve every saved model ends in, and the measures of calibration),
label_issues.py (confident learning: which given labels are likely wrong, from any
model's out-of-fold probabilities), word_ids.py (the ids every model reads). The
tutorial's networks are in their own scripts.

Imports nothing of common/, so a copy of this folder works in a project of your own.
Each module loads at first use (`models.outputs`), so that `models.word_ids` costs no
Keras. A module that defines a layer registers it as it loads: import bag_of_ngrams,
calibration, minilm and short_texts before `keras.models.load_model` rebuilds a saved
model of this project, as common/saving.py does.
"""

import importlib

__all__ = [
    "bag_of_ngrams",
    "calibration",
    "label_issues",
    "minilm",
    "outputs",
    "short_texts",
    "word_ids",
]


def __getattr__(name: str) -> object:
    """`models.outputs`: the module, loaded at first use."""
    if name in __all__:
        return importlib.import_module(f"models.{name}")
    raise AttributeError(f"module 'models' has no attribute {name!r}")
