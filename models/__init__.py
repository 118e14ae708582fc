"""The pieces of models that more than one script builds on, each module named for its model.

cnn.py (the tutorial's CNN, reused by the ensemble), bag_of_ngrams.py (the baseline
and its `NgramIds` layer), short_texts.py (the `LengthGate` and the short texts cut
from the reviews), minilm.py (a pre-trained encoder reading our word ids through the
`WordPieces` layer). Importing this package registers the custom layers, so that
`keras.models.load_model` can rebuild any saved model of this project.
"""

from models import bag_of_ngrams, cnn, minilm, short_texts

__all__ = ["bag_of_ngrams", "cnn", "minilm", "short_texts"]
