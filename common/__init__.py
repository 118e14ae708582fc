"""Plumbing shared by every script: the data, flags and errors, saved models, reports.

No model lives here: the models are in the training scripts and in models/. What is
here is what a script does around its lesson: load and encode the IMDB reviews
(data.py) or your own labeled texts (labeled.py), read its flags and report bad input
in one sentence (cli.py), time its phases (timing.py) and save and report a training
run (training.py, report.py), save and load a model with its encoding (saving.py) and
its export (export.py), read the texts to score (texts.py), write files whole or not
at all (files.py). Imported by name where they are used, since they load Keras or a
web server: score texts with a model (scoring.py), and read and batch the requests
of serve.py (serving.py).
"""

from common import startup  # first: TensorFlow loads without its start-up lines

# isort: split
from common import cli, data, export, files, labeled, report, saving, texts, timing, training
from common.cli import MODELS, UserError, data_parser, prepare_output_dir, run, training_parser
from common.data import (
    INDEX_FROM,
    MAXLEN,
    NUM_WORDS,
    OOV,
    START,
    Dataset,
    decode,
    decode_many,
    encode,
    fit_size,
    load_data,
    load_imdb,
    tokenize,
)
from common.report import save_figure, write_json
from common.saving import ModelFiles, TextEncoding, find_model, load_model
from common.training import Training

__all__ = [
    "INDEX_FROM",
    "MAXLEN",
    "MODELS",
    "NUM_WORDS",
    "OOV",
    "START",
    "Dataset",
    "TextEncoding",
    "Training",
    "UserError",
    "cli",
    "data",
    "data_parser",
    "decode",
    "decode_many",
    "encode",
    "export",
    "files",
    "labeled",
    "fit_size",
    "load_data",
    "load_imdb",
    "load_model",
    "prepare_output_dir",
    "report",
    "find_model",
    "ModelFiles",
    "run",
    "save_figure",
    "saving",
    "startup",
    "texts",
    "timing",
    "tokenize",
    "training",
    "training_parser",
    "write_json",
]
