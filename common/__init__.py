"""Plumbing shared by every script: the data, flags and errors, saved models, reports.

No model lives here: the models are in the training scripts and in models/, which
imports nothing of this package. What is here is what a script does around its
lesson: load and encode the IMDB reviews (data.py) or your own labeled texts
(labeled.py), read its flags and report bad input in one sentence (cli.py), time its
phases (timing.py) and record, save and report a training run (training.py,
report.py), save and load a model with its encoding (saving.py) and its export
(export.py) and its card (model_card.py, with the behavioural checks of behaviour.py),
check a pre-trained checkpoint (pretrained.py), read the texts to score
(texts.py; a corpus's files, for score_corpus.py: corpus.py) and score them
(scoring.py), write files whole or not at all and read lines with bounds (files.py),
fill in the page where a person tries a model (page.py).
One is imported by name where it is used, since it loads a web server: serving.py,
which checks, reads and batches the requests of serve.py.

`import common` loads TensorFlow and Keras, without their start-up lines (startup.py):
import it before Keras.
"""

from common import startup  # first: TensorFlow loads without its start-up lines

# isort: split
from common import (
    behaviour,
    cli,
    data,
    export,
    files,
    labeled,
    model_card,
    page,
    pretrained,
    report,
    saving,
    scoring,
    texts,
    timing,
    training,
)
from common.cli import MODELS, UserError, data_parser, prepare_output_dir, run, training_parser
from common.data import (
    MAXLEN,
    NUM_WORDS,
    Dataset,
    decode,
    decode_many,
    encode,
    fit_size,
    load_imdb,
    tokenize,
)
from common.labeled import load_data
from common.report import save_figure, write_json
from common.saving import ModelFiles, TextEncoding, find_model, load_model
from common.training import RunRecord

__all__ = [
    "MAXLEN",
    "MODELS",
    "NUM_WORDS",
    "Dataset",
    "ModelFiles",
    "RunRecord",
    "TextEncoding",
    "UserError",
    "behaviour",
    "cli",
    "data",
    "data_parser",
    "decode",
    "decode_many",
    "encode",
    "fit_size",
    "export",
    "files",
    "find_model",
    "labeled",
    "load_data",
    "load_imdb",
    "load_model",
    "model_card",
    "page",
    "prepare_output_dir",
    "pretrained",
    "report",
    "run",
    "save_figure",
    "saving",
    "scoring",
    "startup",
    "texts",
    "timing",
    "tokenize",
    "training",
    "training_parser",
    "write_json",
]
