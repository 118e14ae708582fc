"""Fixtures and helpers: tiny datasets, models and encoders that the tests write themselves."""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import functools
import gzip
import json
import os
import re
import runpy
import shutil
import signal
import string
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
# The training scripts that are lessons: a Keras middle of their own. train_auto.py runs
# two of them and keeps the better; it has none.
LESSONS = sorted(path for path in ROOT.glob("train_*.py") if path.name != "train_auto.py")
sys.path.insert(0, str(ROOT))  # the scripts, common/ and models/ live at the top of the repository

# The tests run in two processes (xdist), one per core, and tiny models gain nothing
# from threads: one thread per script leaves each core to one test (unit tests only).
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}
if not os.environ.get("IMDB_DATA"):  # the test processes too, set before TensorFlow loads
    for name, value in ONE_THREAD.items():
        os.environ.setdefault(name, value)

import common  # noqa: E402


def write_dataset(root: Path, reviews: dict[str, list[str]]) -> Path:
    """Write an aclImdb/ folder under `root`: {"train/pos": [text, ...], ...}."""
    folder = root / "aclImdb"
    for part in ("train/pos", "train/neg", "test/pos", "test/neg"):
        (folder / part).mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(reviews.get(part, [])):
            (folder / part / f"{i}_{8 if 'pos' in part else 2}.txt").write_text(text, "utf-8")
    return folder


def write_archive(folder: Path, path: Path) -> Path:
    """Pack an aclImdb/ folder into a .tar.gz archive, as the Stanford download is."""
    with tarfile.open(path, "w:gz") as archive:
        archive.add(folder, arcname="aclImdb")
    return path


def learnable_reviews(per_folder: int = 40, seed: int = 0) -> dict[str, list[str]]:
    """Reviews a small model can learn from: positive ones use more praise words."""
    rng = np.random.RandomState(seed)
    neutral = "the film plot actor scene story music camera ending script".split()
    praise = "great wonderful loved superb brilliant".split()
    blame = "awful boring hated terrible worst".split()
    reviews = {}
    for part in ("train/pos", "train/neg", "test/pos", "test/neg"):
        signal = praise if part.endswith("pos") else blame
        reviews[part] = [
            " ".join(rng.choice(neutral + signal * 2, size=rng.randint(20, 60)))
            for _ in range(per_folder)
        ]
    return reviews


LABEL_WORDS = {  # each label's telling words; every text also holds some of the shared ones
    "negative": "awful boring hated terrible worst".split(),
    "neutral": "okay average plain usual middling".split(),
    "positive": "great wonderful loved superb brilliant".split(),
}
SHARED_WORDS = "the film plot actor scene story".split()


def labeled_texts(per_label: int = 30, labels=tuple(LABEL_WORDS), seed: int = 0) -> list[tuple]:
    """(text, label) pairs of your own data that a small model can learn from, interleaved."""
    rng = np.random.RandomState(seed)
    rows = []
    for i in range(per_label):
        for label in labels:
            words = (
                rng.choice(LABEL_WORDS[label], 3).tolist() + rng.choice(SHARED_WORDS, 5).tolist()
            )
            rng.shuffle(words)
            rows.append((" ".join(words) + f" {i}", label))
    return rows


def write_csv(path: Path, rows: list[tuple], header=("text", "label"), **kwargs) -> Path:
    """A CSV (a TSV if its name says so; gzipped if it ends in .gz) of `rows`."""
    opener = gzip.open if path.suffix == ".gz" else open
    delimiter = "\t" if ".tsv" in path.name else ","
    with opener(path, "wt", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, delimiter=delimiter, **kwargs)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def three_labels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV of three labels (negative, neutral, positive), 30 texts each."""
    return write_csv(tmp_path_factory.mktemp("three") / "three.csv", labeled_texts())


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An extracted aclImdb/ folder with 40 learnable reviews in each of the 4 folders."""
    return write_dataset(tmp_path_factory.mktemp("tiny"), learnable_reviews())


@pytest.fixture(scope="session")
def tiny_archive(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_archive(tiny_folder, tmp_path_factory.mktemp("archive") / "tiny.tar.gz")


@pytest.fixture(scope="session")
def keras_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Keras cache folder of the test session's own, shared by the scripts it runs."""
    return tmp_path_factory.mktemp("keras_home")


@pytest.fixture(scope="session")
def run_script(keras_home: Path):
    """Run one of the scripts as a user would, in a fresh Python process."""

    def run(
        script: str, *args: str | os.PathLike[str], stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KERAS_HOME": str(keras_home)}
        if not os.environ.get("IMDB_DATA"):  # real-data runs keep TensorFlow's defaults,
            env.update(ONE_THREAD)  # so that they print the figures of docs/
        env.pop("IMDB_DATA", None)  # each test says where its data is
        return subprocess.run(
            [sys.executable, str(ROOT / script), *map(str, args)],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=900,
        )

    return run


ACCURACY_LINE = re.compile(r"^Accuracy: (\d{1,3}\.\d\d)%$")


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


OUR_ERROR = re.compile(r"^(\w+\.py: )?error: ")


@pytest.fixture
def run_here(keras_home: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run a script's main block in this process, as `python SCRIPT ARGS` would, and return
    what a fresh run would (exit code, stdout, stderr): for the runs that stop at bad input,
    which then cost no TensorFlow start-up. The runs that train, pipe, signal or limit a
    process use `run_script`."""

    def run(script: str, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        monkeypatch.setenv("KERAS_HOME", str(keras_home))
        monkeypatch.delenv("IMDB_DATA", raising=False)  # each test says where its data is
        monkeypatch.setattr(sys, "argv", [str(ROOT / script), *map(str, args)])
        monkeypatch.chdir(ROOT)
        handler = signal.getsignal(signal.SIGTERM)  # common.run installs its own
        try:
            runpy.run_path(str(ROOT / script), run_name="__main__")
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
        finally:
            signal.signal(signal.SIGTERM, handler)
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(sys.argv, code, captured.out, captured.err)

    return run


def skip_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training in this process saves no SavedModel, ONNX or LiteRT file (seconds a run):
    for the tests of something else. The exports are tested in test_export.py, and on
    every model trained end to end (`check_model_set`, `check_portable_files`)."""
    monkeypatch.setattr("common.training.export_text_model", lambda *args: None)
    monkeypatch.setattr("common.training.export_portable", lambda *args: [])


@pytest.fixture
def without_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    """`skip_exports` for one test."""
    skip_exports(monkeypatch)


# Characters where a tokenizer can go wrong: the edges of every range, apostrophes (plain,
# typographic, doubled), the pieces of <br />, whitespace of every kind, capitals, and
# characters TensorFlow's and Python's Unicode tables disagree on (U+2C2F, U+10570).
RANGES = (*common.data.WORD_CHARACTERS[1], *common.data.WORD_CHARACTERS[2], *common.data.UPPERCASE)
EDGES = sorted(
    {chr(c) for first, last in RANGES for c in (first - 1, first, last, last + 1)}
    | set("'\u2019\u2018`<>/bBrR \t\n\r\x0b\x0c\x00\x85\xa0\u2028\u3000_-.,!?")
    | set("\u0130\u0131\u017f\u212a\u2c2f\U00010570\u00df\u1e9e\u03a3\u00b5\ufb01\U0001f600")
)
ANY_TEXT = st.text(st.sampled_from(EDGES), max_size=40) | st.text(max_size=40)


CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


@contextlib.contextmanager
def chromium_page(**options: object) -> Iterator:
    """A page of Debian's headless Chromium, driven by Playwright (its own browser download
    cannot reach the internet here), with the flags that keep it from calling out."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        try:
            yield browser.new_page(**options)
        finally:
            browser.close()


def files_in(folder: Path) -> list[str]:
    """Every file under `folder`, hidden temporary files included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# What a training run saves: one version folder, its export's files beside the model's.
SAVED = ["assets", "calibration.png", "encoding.json", "fingerprint.pb", "history.png",
         "metrics.json", "model.keras", "model.onnx", "model.tflite", "model_card.md",
         "saved_model.pb", "tokenizer.json", "variables"]  # fmt: skip


# The models whose LiteRT file would need TensorFlow's own operations (the Flex delegate):
# they are saved without model.tflite, and training says why.
NO_LITERT = ("lstm", "minilm")

# Scores word ids with a version's model.onnx (onnxruntime) and model.tflite (LiteRT), in a
# process that never imports TensorFlow: argv: the version folder, the ids (.npy), the output.
PORTABLE_RUNTIMES = """
import os
import sys
import numpy as np
import onnxruntime
from ai_edge_litert.interpreter import Interpreter

folder, ids, output = sys.argv[1:]
ids = np.load(ids)
# 1,000 texts at a time: a runtime allocates every layer's output for its whole input,
# which for 25,000 reviews of the deep CNN is gigabytes.
chunks = [ids[i : i + 1000] for i in range(0, len(ids), 1000)]
session = onnxruntime.InferenceSession(folder + "/model.onnx")
name = session.get_inputs()[0].name
outputs = [np.concatenate([session.run(None, {name: chunk})[0] for chunk in chunks])]
if os.path.exists(folder + "/model.tflite"):
    litert = Interpreter(model_path=folder + "/model.tflite")
    given = litert.get_input_details()[0]
    scored = []
    for chunk in chunks:
        litert.resize_tensor_input(given["index"], chunk.shape)
        litert.allocate_tensors()
        litert.set_tensor(given["index"], chunk)
        litert.invoke()
        scored.append(litert.get_tensor(litert.get_output_details()[0]["index"]))
    outputs.append(np.concatenate(scored))
np.save(output, np.stack(outputs))
assert "tensorflow" not in sys.modules and "keras" not in sys.modules
"""


def check_portable_files(version: Path, model, ids: np.ndarray) -> None:
    """model.onnx and model.tflite give `model`'s outputs for `ids`, to 1e-5, without TensorFlow."""
    ids = np.asarray(ids, np.int32)
    np.save(version.parent / "ids.npy", ids)
    output = version.parent / "portable.npy"
    result = subprocess.run([sys.executable, "-c", PORTABLE_RUNTIMES, str(version),
                             str(version.parent / "ids.npy"), str(output)],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    expected = model.predict(ids, verbose=0)
    for outputs in np.load(output):
        np.testing.assert_allclose(outputs, expected, atol=1e-5)


def saved_files(out: Path, name: str) -> list[str]:
    """What a training run with --output-dir `out` left: the names in `name`'s one version."""
    assert sorted(p.name for p in out.iterdir()) == [name]
    assert [p.name for p in (out / name).iterdir()] == ["1"]
    return sorted(p.name for p in (out / name / "1").iterdir())


def assert_one_sentence_error(result, expected: str) -> None:
    """Exit code 2, no traceback, and one error line that says what went wrong."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # Ours start with "error:", argparse's with "<script>: error:"; TensorFlow's own
    # start-up lines (which may contain "error") do not.
    errors = [line for line in result.stderr.splitlines() if OUR_ERROR.match(line)]
    assert len(errors) == 1, result.stderr
    assert expected in errors[0]


def printed_accuracy(stdout: str) -> float:
    """The figure of the last line, which must read exactly like `Accuracy: 87.79%`."""
    match = ACCURACY_LINE.match(stdout.rstrip("\n").splitlines()[-1])
    assert match, f"the last line is not 'Accuracy: NN.NN%':\n{stdout[-500:]}"
    return float(match.group(1))


@pytest.fixture(scope="session")
def imdb_data() -> Path:
    if not os.environ.get("IMDB_DATA"):
        pytest.skip("set IMDB_DATA to the Stanford IMDB archive to train on the real reviews")
    path = Path(os.environ["IMDB_DATA"]).resolve()
    if not path.exists():
        pytest.fail(f"IMDB_DATA={path} does not exist")
    return path


def copy_model(trained: Path, folder: Path) -> Path:
    """A copy of the tiny CNN's model and encoding files (the `trained` fixture's) in `folder`;
    returns the copied model.keras."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("model.keras", "encoding.json"):
        shutil.copy(trained / name, folder / name)
    return folder / "model.keras"


@pytest.fixture(scope="session")
def trained(keras_home: Path, tmp_path_factory: pytest.TempPathFactory, tiny_folder: Path) -> Path:
    """A CNN trained by train_cnn.py on the tiny reviews; trained once for both test
    processes (xdist), in the folder they share. Its version folder (trained_cnn/cnn/1:
    model.keras, encoding.json, the export, ...); tests copy what they change."""
    # One per test session: with xdist, the folder above each worker's is the session's;
    # without it, the session's own (the one above it outlives the session).
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "trained_cnn"
    with open(shared / "trained_cnn.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other process waits until it is trained
        if not (out / "cnn" / "1").exists():
            import train_cnn

            home = os.environ.get("KERAS_HOME")
            os.environ["KERAS_HOME"] = str(keras_home)  # the data cache: not the user's
            try:  # in this process: a fresh one would spend seconds importing TensorFlow
                # The tiny reviews have at most 60 words: 64 tokens keep them whole, and
                # 1,000 ids every word, at a fraction of the cost of 500 and 5,000.
                train_cnn.main(["--data", str(tiny_folder), "--output-dir", str(out), "--epochs",
                                "3", "--maxlen", "64", "--num-words", "1000"])  # fmt: skip
            finally:
                if home is None:
                    del os.environ["KERAS_HOME"]
                else:
                    os.environ["KERAS_HOME"] = home
    return out / "cnn" / "1"


def write_metrics(folder: Path, model: str, accuracies: list[float], epoch_seconds: float,
                  parameters: int, epochs: int = 2,
                  learned_from: str = "IMDB") -> None:  # fmt: skip
    """A metrics file as the training scripts write it (`folder`/MODEL/1/metrics.json),
    with only the fields compared."""
    n = len(accuracies)
    mean = sum(accuracies) / n
    std = (sum((a - mean) ** 2 for a in accuracies) / (n - 1)) ** 0.5 if n > 1 else 0.0
    runs = [
        {"seed": 7 + i, "test_accuracy": a, "seconds_per_epoch": [epoch_seconds] * epochs}
        for i, a in enumerate(accuracies)
    ]
    metrics = {
        "model": model, "learned_from": learned_from, "parameters": parameters, "epochs": epochs,
        "test_accuracy": mean, "test_accuracy_std": std, "test_accuracies": accuracies,
        "seconds": {"fit": epoch_seconds * epochs * n}, "runs": runs,
    }  # fmt: skip
    (folder / model / "1").mkdir(parents=True)
    (folder / model / "1" / "metrics.json").write_text(json.dumps(metrics))


TINY_WORDS = {"the": 1, "film": 2, "great": 3, "awful": 4}  # ids 4 to 7 (rank + 3)


def tiny_training(out: Path, seed: int) -> Callable[[], None]:
    """The save of a run of a 40-weight model on 16 made-up reviews of 6 ids, fitted and
    evaluated: the whole of saving, in a second, without a training script. The model of
    a seed is fitted once per test process; each run saves a copy of it."""
    import keras

    args = argparse.Namespace(output_dir=str(out), dry_run=False, seed=seed, validation_split=0)
    record = common.RunRecord("tiny", args)
    fitted, history, test_loss, test_accuracy = _tiny_model(seed)
    model = keras.models.clone_model(fitted)
    model.set_weights(fitted.get_weights())
    x, y = _tiny_reviews(seed)
    record.data = common.data.Dataset(
        x, y, x, y, TINY_WORDS, source="made up", num_words=8, maxlen=6
    )
    return functools.partial(record.save, model, history, test_loss, test_accuracy)


def _tiny_reviews(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    x = rng.randint(1, 8, size=(16, 6)).astype("int32")
    return x, (x == 6).sum(axis=1) > (x == 7).sum(axis=1)  # more "great" than "awful"


@functools.cache
def _tiny_model(seed: int) -> tuple:
    import keras

    keras.utils.set_random_seed(seed)
    x, y = _tiny_reviews(seed)
    model = keras.Sequential([keras.Input((6,), dtype="int32"), keras.layers.Embedding(8, 4),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1, activation="sigmoid")])  # fmt: skip
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    return (model, history, *model.evaluate(x, y, verbose=0))


def check_model_set(folder: Path) -> str:
    """That the version folder `folder` is one model's: the export scores texts as predict.py
    does, and the metrics name the model file beside them. Returns the model's sha256."""
    import tensorflow as tf

    model, encoding = common.load_model(folder)
    texts = ["the great film", "awful awful film", "the the"]
    expected = model.predict(encoding.encode_texts(texts), verbose=0)[:, 0]
    exported = tf.saved_model.load(str(folder))  # kept: its functions need its variables
    np.testing.assert_allclose(exported.serve(tf.constant(texts)).numpy(), expected, atol=1e-6)
    digest = common.files.file_sha256(folder / "model.keras")
    assert json.loads((folder / "metrics.json").read_text())["model_sha256"] == digest
    assert (folder / "history.png").read_bytes().startswith(PNG_MAGIC)
    return digest


PIECES = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "'", *string.ascii_lowercase,
          *(f"##{c}" for c in string.ascii_lowercase)]  # fmt: skip


def write_tiny_encoder(folder: Path) -> Path:
    """A one-layer BERT with random weights and a letter-piece tokenizer, as keras-hub saves."""
    import keras_hub
    import tokenizers
    from tokenizers import models, normalizers, pre_tokenizers

    tokenizer = tokenizers.Tokenizer(
        models.WordPiece({piece: i for i, piece in enumerate(PIECES)}, unk_token="[UNK]")
    )
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)  # strips accents too
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.add_special_tokens(PIECES[:5])  # "[UNK]" in a text is [UNK], as in BERT's
    keras_hub.models.BertBackbone(
        vocabulary_size=len(PIECES), num_layers=1, num_heads=2, hidden_dim=8,
        intermediate_dim=16, max_sequence_length=64,
    ).save_to_preset(str(folder))  # fmt: skip
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_encoder(tmp_path_factory.mktemp("encoder"))


def limit_file_size() -> None:
    """For subprocess's preexec_fn: a file-size limit that acts like a full disk."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))  # like a full disk


def check_trained_model(
    run: Callable, tmp_path: Path, tiny_folder: Path, script: str, flags: list[str], name: str
) -> None:
    """Train `name` on the tiny reviews with `run` (run_here, run_script): its files, its
    metrics, and its export agreeing with it."""
    import tensorflow as tf

    saved = common.training.saved_name(name, str(tiny_folder))  # three_deep_cnn for three.csv
    out = tmp_path / "out"
    result = run(script, "--data", tiny_folder, "--output-dir", out, *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    if name == "bow_short":
        assert accuracy >= 90.0  # praise and blame words tell the tiny reviews apart
        assert "has not learned" not in result.stdout
    # Calibrated on the validation texts; without any (--validation-split 0), saved as trained.
    calibrated = (
        "--validation-split" not in flags or float(flags[flags.index("--validation-split") + 1]) > 0
    )
    files = SAVED if calibrated else [name for name in SAVED if name != "calibration.png"]
    if name in NO_LITERT:
        files = [file for file in files if file != "model.tflite"]
        assert "No model.tflite: LiteRT alone cannot run this model" in result.stdout
    assert saved_files(out, saved) == files
    version = out / saved / "1"
    assert (version / "history.png").read_bytes().startswith(PNG_MAGIC)
    metrics = json.loads((version / "metrics.json").read_text())
    assert metrics["model"] == saved
    assert metrics["model_sha256"] == common.files.file_sha256(version / "model.keras")
    assert f"{metrics['test_accuracy'] * 100:.2f}" == f"{accuracy:.2f}"
    if calibrated:  # a temperature or a curve, the same labels, a diagram
        fitted = metrics["calibration"]
        assert fitted["temperature"] > 0 if "temperature" in fitted else min(
            fitted["curve"]["slopes"]) > 0  # fmt: skip
        if fitted["held_out_log_loss"]:  # chosen because it did better on held-out folds
            losses = fitted["held_out_log_loss"]
            chosen = "curve" if "curve" in fitted else "temperature"
            assert losses[chosen] <= min(losses.values())
        assert metrics["calibration"]["labels_changed"] == 0
        assert (version / "calibration.png").read_bytes().startswith(PNG_MAGIC)
    else:
        assert metrics["calibration"] is None and "Not calibrated" in result.stdout
    # How much it answers from each threshold of predict.py --min-confidence, and how well.
    assert [row["min_confidence"] for row in metrics["abstaining"]] == [0.8, 0.9, 0.95]
    answered = [row["answered"] for row in metrics["abstaining"]]
    assert answered == sorted(answered, reverse=True) and "answers" in result.stdout

    # The export takes raw text and scores it as the saved model does, n-gram layer and all.
    model, encoding = common.load_model(common.find_model(saved, out))
    for flag, value in (("--maxlen", encoding.maxlen), ("--num-words", encoding.num_words)):
        if flag in flags:  # the encoding, the model and its export follow the flag
            assert value == int(flags[flags.index(flag) + 1]) == metrics[flag[2:].replace("-", "_")]
    texts = ["great film", "an awful, boring plot", "the actor's scene"]
    expected = model.predict(encoding.encode_texts(texts), verbose=0)
    expected = expected[:, 0] if len(encoding.labels) == 2 else expected  # as the export gives
    exported = tf.saved_model.load(str(version))
    np.testing.assert_allclose(exported.serve(tf.constant(texts)).numpy(), expected, atol=1e-6)
    check_portable_files(version, model, encoding.encode_texts(texts))  # ONNX and LiteRT
    # The labels travel with the model, its metrics and its export.
    assert [label.decode() for label in exported.labels().numpy()] == encoding.labels
    assert metrics["per_label"]["labels"] == encoding.labels

    if name != "ensemble":
        return  # the ensemble holds a bag of n-grams and a CNN: one check covers all three
    # The saved model scores text through predict.py like every other model.
    scored = run("predict.py", "--models-dir", out, "--model", saved, "great film")
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert scored.stdout.split()[1] in encoding.labels


# The slowest test modules, slowest first, in the order xdist hands them out
# (pyproject.toml: --no-loadscope-reorder, so not by number of tests). Each of the two
# processes runs whole modules; this order gives each process about half. Measured
# without IMDB_DATA (the quick run) and with it (the full run, where the training
# scripts' modules also train on the real reviews, minutes each).
QUICK_ORDER = [
    "test_model_versions",
    "test_predict",
    "test_own_data",
    "test_training",
    "test_serve",
    "test_startup",
    "test_page",
    "test_training_scripts",
    "test_train_cnn",
    "test_train_mlp",
    "test_train_deep_cnn",
    "test_cli",
    "test_label_issues",
    "test_export",
    "test_analyze_model",
]
FULL_ORDER = [
    "test_serve",
    "test_model_versions",
    "test_own_data",
    "test_predict",
    "test_training",
    "test_train_minilm",
    "test_train_lstm",
    "test_train_ensemble",
    "test_analyze_model",
    "test_train_cnn",
    "test_train_bow",
    "test_explore_dataset",
    "test_compare_models",
    "test_cli",
    "test_train_deep_cnn",
    "test_train_mlp",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The quick run (no IMDB_DATA) leaves the slowest tiny-data runs to the full one, as
    # CI runs it: what they cover is also covered there, and in the quick run by tests
    # of the same pieces that train less or nothing (docs/tests.md lists them).
    if not os.environ.get("IMDB_DATA"):
        later = pytest.mark.skip(reason="one of the slowest runs on tiny data: it runs with "
                                 "IMDB_DATA set, in the full run (as CI does)")  # fmt: skip
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(later)

    order = FULL_ORDER if os.environ.get("IMDB_DATA") else QUICK_ORDER

    def rank(item: pytest.Item) -> int:
        module = item.path.stem
        return order.index(module) if module in order else len(order)

    items.sort(key=rank)  # stable: the tests of a module keep their order
