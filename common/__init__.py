"""Plumbing shared by every script: the IMDB data, flags, seeds, plots, metrics, saved models.

Nothing a reader needs in order to understand a model lives here: each model, its
`compile`, `fit` and `evaluate` stay in its own script.

`import common` is instant: each name below is imported from its module the first time
it is used, so a script answers --help, or stops at a bad flag, before TensorFlow and
Matplotlib load. Only common/cli.py (argparse, seeds, errors) is imported at once.
"""

from __future__ import annotations

import importlib

from common import cli, lazy  # noqa: F401 (lazy: quiets TensorFlow before it ever loads)

# Each public name and the module of common/ it lives in.
_EXPORTS = {
    # common/cli.py
    "MODELS": "cli",
    "UserError": "cli",
    "data_parser": "cli",
    "prepare_output_dir": "cli",
    "progress_verbosity": "cli",
    "run": "cli",
    "seeds": "cli",
    "set_seed": "cli",
    "training_parser": "cli",
    # common/data.py
    "INDEX_FROM": "data",
    "Imdb": "data",
    "MAXLEN": "data",
    "NUM_WORDS": "data",
    "OOV": "data",
    "START": "data",
    "decode": "data",
    "decode_many": "data",
    "encode": "data",
    "fit_size": "data",
    "load_imdb": "data",
    "tokenize": "data",
    # common/ngrams.py
    "LengthGate": "ngrams",
    "NgramIds": "ngrams",
    # common/report.py
    "TrainingRun": "report",
    "accuracy_summary": "report",
    "mean_and_std": "report",
    "save_figure": "report",
    "save_history_plot": "report",
    "save_training_report": "report",
    "write_json": "report",
    # common/saving.py
    "TextEncoding": "saving",
    "encoding_path": "saving",
    "load_model": "saving",
    "resolve_model_path": "saving",
    "save_model": "saving",
    # common/timing.py
    "EpochTimer": "timing",
    "PhaseClock": "timing",
    # common/training.py
    "finish_training": "training",
    "load_training_data": "training",
}
_MODULES = {"cli", "data", "files", "lazy", "ngrams", "report", "saving", "timing", "training"}
_MODULES |= {"wordpieces"}  # train_minilm.py's encoder input

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    """Import a name, or a module of common/, the first time it is asked for."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"common.{_EXPORTS[name]}"), name)
    elif name in _MODULES:
        value = importlib.import_module(f"common.{name}")
    else:
        raise AttributeError(f"module 'common' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | _MODULES)
