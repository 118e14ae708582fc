"""Your own labeled texts: the project's models beside scikit-learn's linear peer, side by side.

For your labeled texts (a file or a folder of class folders, split as training splits
it: its test/ folder, else a stratified hold-out of --test-split of each label, seed 113)
or a pair (--test-data), each system learns from the same
training texts and is tested once on the same test texts:

* scikit-learn: `TfidfVectorizer(ngram_range=(1, 2))` and `LogisticRegression(C=4)` on
  the raw texts, its probabilities as they are (the peer to beat);
* each training script given with --script, with its flags (default: `train_bow.py`,
  the bag of n-grams; `train_minilm.py` takes minutes on 2 cores), each with its
  calibration, scored here from its saved version: one row per lever to compare.

Per system: wall seconds and peak memory of the training process, accuracy, macro-F1,
ECE (15 bins of the top probability) and its floor: the mean ECE that a perfectly
calibrated model with the same probabilities would show on this many test texts (labels
drawn from its own probabilities, 200 times). An ECE near its floor is as low as these
texts can tell apart from noise.

scikit-learn is a benchmark-only dependency: pip install -r requirements-bench.txt

    python benchmarks/short_texts.py --data tweets.csv
    python benchmarks/short_texts.py --data train.csv --test-data test.csv \
        --script train_bow.py --script train_minilm.py --script "train_minilm.py --epochs 2"
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402

from models.calibration import expected_calibration_error  # noqa: E402
from models.outputs import probabilities  # noqa: E402

FLOOR_DRAWS = 200  # label draws from a model's own probabilities, for the ECE's floor
FLOOR_SEED = 7
PEER_C = 4.0  # train_bow.py's regularisation, as benchmarks/sklearn_baselines.py uses
TRAINING_SCRIPTS = sorted(path.name for path in ROOT.glob("train_*.py"))


def split_texts(data: Path, test_data: Path | None, test_split: float | None) -> dict:
    """The training and test texts and their class ids, exactly as training splits them
    (common/labeled.py): every row with a text and a label, in file order; a folder's
    train/ and test/ folders, if it has both."""
    labeled = common.labeled
    train_path, test_path = labeled.split_folders(data) if data.is_dir() else (data, None)
    test_path, flag = (test_data, "--test-data") if test_data else (test_path, "--data")
    train = list(labeled.reader(train_path, labeled.Columns()))
    labels = labeled.label_order({row.label for row in train}, None)
    y = labeled.class_ids(labels, [row.label for row in train])
    if test_path is None:
        share = labeled.TEST_SPLIT if test_split is None else test_split
        fit_rows, test_rows = labeled.stratified_split(y, share, labels)
        test_texts, y_test = [train[i].text for i in test_rows], y[test_rows]
        train_texts, y_train = [train[i].text for i in fit_rows], y[fit_rows]
    else:
        test = list(labeled.reader(test_path, labeled.Columns(), flag))
        test_texts, y_test = [row.text for row in test], labeled.test_class_ids(
            labels, [row.label for row in test])  # fmt: skip
        train_texts, y_train = [row.text for row in train], y
    return {"labels": labels, "train": (train_texts, y_train), "test": (test_texts, y_test)}


def peer(split: dict, out: Path) -> None:
    """scikit-learn's TF-IDF logistic regression: its test probabilities, saved to `out`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(C=PEER_C, max_iter=1000)
    )
    pipeline.fit(*split["train"])
    np.save(out, pipeline.predict_proba(split["test"][0]))


def timed(command: list[str]) -> tuple[float, float]:
    """Run `command`; its wall seconds and peak resident memory in MiB (exit on failure)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    error = process.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: {' '.join(command)} failed:\n{error[-2000:]}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def figures(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1, ECE and the ECE's floor of test probabilities `p` (n x labels)."""
    k = p.shape[1]
    outputs = p[:, 1:] if k == 2 else p  # as the models give them: P(class 1) for two labels
    guess = p.argmax(axis=1)
    confusion = np.bincount(y * k + guess, minlength=k * k).reshape(k, k)
    both = confusion.sum(axis=0) + confusion.sum(axis=1)
    f1 = np.divide(2 * np.diag(confusion), both, out=np.zeros(k), where=both > 0)
    rng = np.random.default_rng(FLOOR_SEED)
    cumulative = np.cumsum(p, axis=1)
    floor = [
        expected_calibration_error(
            outputs, np.minimum((rng.random((len(p), 1)) > cumulative).sum(axis=1), k - 1)
        )
        for _ in range(FLOOR_DRAWS)
    ]
    return {
        "accuracy": float(np.mean(guess == y)),
        "macro_f1": float(np.mean(f1)),
        "ece": expected_calibration_error(outputs, y),
        "floor": float(np.mean(floor)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="your labeled texts")
    parser.add_argument("--test-data", type=Path, help="a test file of the same form")
    parser.add_argument("--test-split", type=common.cli.probability,
                        help="without a test part, the share of each label held out, as "
                        "training's --test-split (default: 0.2)")  # fmt: skip
    parser.add_argument("--script", action="append", metavar="COMMAND",
                        help="a training script and its flags, one row each; repeat it "
                        "(default: train_bow.py)")  # fmt: skip
    parser.add_argument("--peer-output", type=Path, help=argparse.SUPPRESS)  # the peer's run
    args = parser.parse_args()
    if importlib.util.find_spec("sklearn") is None:
        raise common.UserError(
            "this benchmark needs scikit-learn: pip install -r requirements-bench.txt"
        )
    commands = {}
    for name in args.script or ["train_bow.py"]:  # checked before anything is trained
        try:
            command = commands[name] = shlex.split(name)
        except ValueError as err:  # an unclosed quote
            raise common.UserError(f"--script {name!r}: {err}.") from None
        if not command or command[0] not in TRAINING_SCRIPTS:
            raise common.UserError(
                f"--script {name!r}: expected one of {', '.join(TRAINING_SCRIPTS)}, then its flags."
            )
    split = split_texts(args.data, args.test_data, args.test_split)
    if args.peer_output:  # this script, run again to time the peer in a process of its own
        peer(split, args.peer_output)
        return
    data_flags = ["--data", str(args.data)]
    data_flags += ["--test-data", str(args.test_data)] if args.test_data else []
    data_flags += ["--test-split", str(args.test_split)] if args.test_split is not None else []
    test_texts, y_test = split["test"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peer.npy"
        seconds, peak = timed([sys.executable, __file__, *data_flags, "--peer-output", str(out)])
        rows.append(("scikit-learn TF-IDF 1-2 grams LR", seconds, peak, np.load(out)))
        for i, (name, command) in enumerate(commands.items()):
            models = Path(tmp) / f"script{i}"
            seconds, peak = timed([sys.executable, str(ROOT / command[0]), *command[1:],
                                   *data_flags, "--output-dir", str(models)])  # fmt: skip
            (folder,) = [path for path in models.iterdir() if path.is_dir()]
            model, encoding = common.load_model(folder)
            outputs = common.scoring.score_texts(model, encoding, test_texts)
            rows.append((name, seconds, peak, probabilities(outputs)))

    print(f"\n{len(split['train'][1]):,} training texts, {len(y_test):,} test texts, labels "
          f"{', '.join(split['labels'])}; {machine()}\n")  # fmt: skip
    print(f"{'system':<34}{'seconds':>9}{'peak MiB':>10}{'accuracy':>10}{'macro-F1':>10}"
          f"{'ECE':>8}{'floor':>8}")  # fmt: skip
    for name, seconds, peak, p in rows:
        f = figures(p, y_test)
        print(f"{name:<34}{seconds:>9.1f}{peak:>10,.0f}{f['accuracy']:>10.2%}"
              f"{f['macro_f1']:>10.2%}{f['ece']:>8.4f}{f['floor']:>8.4f}")  # fmt: skip


def machine() -> str:
    """The CPU model and the cores this process may use."""
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if "model name" in line), "?")
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores"


if __name__ == "__main__":
    common.run(lambda argv: main())
