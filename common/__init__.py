"""Sentiment analysis with Keras: the plumbing of the scripts, and a saved model to use.

    import common
    classifier = common.Classifier.load("cnn")   # the newest outputs/cnn/N/, or a folder
    classifier.predict(["A wonderful film."])    # predict.py's records, in memory

The modules, each named for its job: the IMDB reviews and their encoding (data.py),
your own labeled texts (labeled.py), texts to score and a corpus's files (texts.py),
flags and one-sentence errors (cli.py), a training run (training.py, with timing.py and
report.py), saved versions (saving.py, files.py), their portable files
(export.py) and card (model_card.py, behaviour.py), a pre-trained checkpoint
(pretrained.py), scoring (scoring.py), the page (page.py), the web server (serving.py).
Each loads when it is first used (`common.cli`, `common.Classifier`), so that a script
reads its flags before TensorFlow's seconds of loading; TensorFlow then loads without
its start-up lines (startup.py): import common before Keras.
"""

import importlib

from common import startup  # noqa: F401 (first: TensorFlow, once imported, loads quietly)

MODULES = ("behaviour", "cli", "data", "export", "files", "labeled", "model_card", "page",
           "pretrained", "report", "saving", "scoring", "serving", "texts", "timing",
           "training")  # fmt: skip
_FROM = {"Classifier": "scoring", "RunRecord": "training", "UserError": "cli",
         "find_model": "saving", "load_model": "saving", "run": "cli",
         "training_parser": "cli"}  # fmt: skip

__all__ = ["Classifier", "RunRecord", "UserError", "find_model", "load_model", "run",
           "training_parser"]  # fmt: skip


def __getattr__(name: str) -> object:
    """`common.cli` or `common.Classifier`: the module, or the name, loaded at first use."""
    if name in MODULES:
        return importlib.import_module(f"common.{name}")
    if name in _FROM:
        return getattr(importlib.import_module(f"common.{_FROM[name]}"), name)
    raise AttributeError(f"module 'common' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *MODULES, *__all__})
