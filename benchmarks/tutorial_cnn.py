"""The tutorial's CNN script, transcribed plainly to Keras 3: the benchmark's baseline.

As in the article: load the arrays, pad them, build, fit with the test set as
validation data, evaluate. The only changes: the arrays come from an .npz file
(the benchmark writes the same reviews the project trains on, so that no download is
needed), `input_length` is gone from Keras 3, and a clock records
each phase. It prints one JSON line with the clock's figures, after the accuracy.

    python benchmarks/tutorial_cnn.py ARRAYS.npz
"""

import importlib.util
import json
import sys
from pathlib import Path

# Load the phase clock alone: importing common/ would bring in Matplotlib, which the
# tutorial's script does not import, and so slow the baseline down unfairly.
_spec = importlib.util.spec_from_file_location(
    "timing", Path(__file__).resolve().parent.parent / "common" / "timing.py"
)
timing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(timing)

import numpy  # noqa: E402
from keras.layers import Conv1D, Dense, Embedding, Flatten, MaxPooling1D  # noqa: E402
from keras.models import Sequential  # noqa: E402
from keras.utils import pad_sequences, set_random_seed  # noqa: E402

# Started after the imports, as the training scripts start theirs: TensorFlow's import
# counts as "import" in both.
clock = timing.PhaseClock()

# fix random seed for reproducibility
seed = 7
set_random_seed(seed)
# load the dataset but only keep the top n words, zero the rest
top_words = 5000
arrays = numpy.load(sys.argv[1], allow_pickle=True)
X_train, y_train, X_test, y_test = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
# pad dataset to a maximum review length in words
max_words = 500
X_train = pad_sequences(X_train, maxlen=max_words)
X_test = pad_sequences(X_test, maxlen=max_words)
clock.lap("data")
# create the model
model = Sequential()
model.add(Embedding(top_words, 32))
model.add(Conv1D(filters=32, kernel_size=3, padding="same", activation="relu"))
model.add(MaxPooling1D(pool_size=2))
model.add(Flatten())
model.add(Dense(250, activation="relu"))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
model.build((None, max_words))
model.summary()
clock.lap("build")
# Fit the model
epoch_timer = timing.EpochTimer()
model.fit(
    X_train,
    y_train,
    validation_data=(X_test, y_test),
    epochs=2,
    batch_size=128,
    verbose=2,
    callbacks=[epoch_timer],
)
clock.lap("fit")
# Final evaluation of the model
scores = model.evaluate(X_test, y_test, verbose=0)
clock.lap("evaluate")
print("Accuracy: %.2f%%" % (scores[1] * 100))
print(
    json.dumps(
        {
            "test_accuracy": scores[1],
            "seconds": clock.seconds,
            "seconds_per_epoch": epoch_timer.seconds,
            "peak_memory_mb": clock.peak_memory_mb,
        }
    )
)
