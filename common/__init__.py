"""Sentiment analysis with Keras: the plumbing of the scripts, and a saved model to use.

    import common
    classifier = common.Classifier.load("cnn")   # the newest outputs/cnn/N/, or a folder
    classifier.predict(["A wonderful film."])    # predict.py's records, in memory

The modules, each named for its job: the IMDB reviews and their encoding (data.py),
your own labeled texts (labeled.py), texts to score and a corpus's files (texts.py),
flags and one-sentence errors (cli.py), a training run (training.py, with timing.py and
report.py), saved versions (saving.py, files.py), their portable files
(export.py) and card (model_card.py, behaviour.py), a pre-trained checkpoint
(pretrained.py), scoring (scoring.py), the page (page.py). serving.py, which loads a web
server, is imported where it is used. `import common` loads TensorFlow and Keras without
their start-up lines (startup.py): import it before Keras.
"""

from common import startup  # noqa: F401 (first: TensorFlow loads without its start-up lines)

# isort: split
from common import (  # noqa: F401 (the modules, as common.cli, common.data, ...)
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
from common.cli import UserError, run, training_parser
from common.saving import find_model, load_model
from common.scoring import Classifier
from common.training import RunRecord

__all__ = ["Classifier", "RunRecord", "UserError", "find_model", "load_model", "run",
           "training_parser"]  # fmt: skip
