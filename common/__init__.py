"""Plumbing shared by every script: the IMDB data, flags, seeds, plots, metrics, saved models.

Nothing a reader needs in order to understand a model lives here: each model, its
`compile`, `fit` and `evaluate` stay in its own script.
"""

from common.cli import (
    MODELS,
    UserError,
    data_parser,
    prepare_output_dir,
    progress_verbosity,
    run,
    set_seed,
    training_parser,
)
from common.data import (
    INDEX_FROM,
    MAXLEN,
    NUM_WORDS,
    OOV,
    START,
    Imdb,
    decode,
    decode_many,
    encode,
    fit_size,
    load_imdb,
    tokenize,
)
from common.ngrams import NgramIds
from common.report import (
    TrainingRun,
    accuracy_summary,
    mean_and_std,
    save_figure,
    save_history_plot,
    save_training_report,
    write_json,
)
from common.saving import (
    TextEncoding,
    encoding_path,
    load_model,
    resolve_model_path,
    save_model,
)
from common.timing import EpochTimer, PhaseClock
from common.training import finish_training

__all__ = [
    "INDEX_FROM",
    "MAXLEN",
    "MODELS",
    "NUM_WORDS",
    "OOV",
    "START",
    "EpochTimer",
    "Imdb",
    "NgramIds",
    "PhaseClock",
    "TextEncoding",
    "TrainingRun",
    "UserError",
    "accuracy_summary",
    "data_parser",
    "decode",
    "decode_many",
    "encode",
    "encoding_path",
    "finish_training",
    "fit_size",
    "load_imdb",
    "load_model",
    "mean_and_std",
    "prepare_output_dir",
    "progress_verbosity",
    "resolve_model_path",
    "run",
    "save_figure",
    "save_history_plot",
    "save_model",
    "save_training_report",
    "set_seed",
    "tokenize",
    "training_parser",
    "write_json",
]
