"""Time the scripts: training against the tutorial's plain script, and prediction.

Training: train_cnn.py against a plain Keras 3 transcription of the tutorial, which
trains the same CNN on the same reviews, and every other model; each with its defaults,
in a fresh Python process, with the data cache warm. Prints, per phase (import, data,
build, fit per epoch, evaluate, and train_cnn.py's calibrate and its saving phases, which
the tutorial has not) and in total, the seconds and peak memory of each,
and the test accuracy each printed. Expect the tutorial to be slower: it validates on
all 25,000 test reviews after every epoch, train_cnn.py on 2,500 training reviews.

The LSTM is not trained whole (minutes per epoch on 2 cores): its time per epoch is
compared with the CNN's by timing training batches of each in turn (--batches of 128
reviews, after one batch each to warm up, --repeat rounds; medians).

The linear peers: scikit-learn's logistic regressions on the same arrays
(benchmarks/sklearn_baselines.py), with accuracy and seconds beside the Keras models.

Prediction: predict.py on a file of 1,000 test reviews with each saved model, timed
whole and without the imports (a process that only imports predict.py and Keras is
timed too); and the same file scored by the model's export (saved_model.pb in its
version folder), from a program that imports only TensorFlow.

Timings move from run to run on a machine doing other work: every measurement is
repeated (--repeat, default 3), the scripts take turns, and the tables show medians.

    python benchmarks/benchmark.py --data aclImdb_v1.tar.gz
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402


def run(command: list[str], cwd: Path | None = None) -> tuple[str, float, float]:
    """Run a command; return its output, wall seconds and peak resident memory in MiB."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # the child's own peak memory, not the sum
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"error: {' '.join(command)} exited with {process.returncode}:\n{output[-2000:]}")
    return output, seconds, usage.ru_maxrss / 1024


def tutorial(arrays: Path) -> dict:
    output, total, peak = run(
        [sys.executable, str(ROOT / "benchmarks" / "tutorial_cnn.py"), str(arrays)]
    )
    figures = json.loads(output.strip().splitlines()[-1])
    return {**figures, "total": total, "peak": peak}


def project(name: str, data: str, output_dir: Path) -> dict:
    """Train one of the project's models with its defaults; its figures and the run's."""
    script, *flags = common.cli.MODELS[name]
    command = [sys.executable, str(ROOT / script), *flags, "--data", data]
    _, total, peak = run([*command, "--output-dir", str(output_dir)])
    figures = json.loads(
        common.find_model(name, output_dir).folder.joinpath("metrics.json").read_text()
    )
    return {**figures, **figures["runs"][0], "total": total, "peak": peak}


# The phases after evaluate, which the tutorial's script has not: the temperature, then the
# version folder's files (model.keras and its encoding; the SavedModel; ONNX, LiteRT and
# tokenizer.json; the model card with its behavioural checks).
SAVING = ("calibrate", "save", "export", "portable", "card")

# What predict.py imports before it scores anything: itself, and Keras (which it loads lazily).
IMPORTS = "import predict, keras; keras.Model"
# A program that uses an export without this repository: TensorFlow, the folder, the texts.
EXPORTED = """import sys, tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
texts = open(sys.argv[2], encoding="utf-8").read().split("\\n")[:-1]
for i in range(0, len(texts), 256):
    print(*model.serve(tf.constant(texts[i : i + 256])).numpy(), sep="\\n")
"""


def prediction(models_dir: Path, models: list[str], reviews: Path, count: int, repeat: int) -> None:
    """predict.py on `reviews` with each saved model, with and without the imports."""
    imports, totals, peaks = [], {m: [] for m in models}, {m: [] for m in models}
    exported = {m: [] for m in models}  # the same texts through the export, TF only
    for _ in range(repeat):  # interleaved, so that a slow moment hits every figure alike
        imports.append(run([sys.executable, "-c", IMPORTS], cwd=ROOT)[1])
        for model in models:
            command = [sys.executable, str(ROOT / "predict.py"), "--file", str(reviews),
                       "--model", model, "--models-dir", str(models_dir)]  # fmt: skip
            output, total, peak = run(command)
            assert len(output.splitlines()) == count, "predict.py should print a line per review"
            totals[model].append(total)
            peaks[model].append(peak)
            folder = common.find_model(model, models_dir).folder  # its export's saved_model.pb
            output, total, _ = run([sys.executable, "-c", EXPORTED, str(folder), str(reviews)])
            assert len(output.splitlines()) == count, "the export should score every review"
            exported[model].append(total)
    print(f"\npredict.py --file FILE with {count:,} test reviews (the words of each, decoded);")
    print(f"medians of {repeat} runs; imports: a process that only imports predict.py and Keras;")
    print("export: a program with only TensorFlow scoring the same file with its export\n")
    print(f"{'model':<16}{'total s':>10}{'imports s':>11}{'the rest s':>12}{'peak MiB':>10}"
          f"{'export s':>10}")  # fmt: skip
    imported = float(np.median(imports))
    for model in models:
        total, peak = float(np.median(totals[model])), float(np.median(peaks[model]))
        print(f"{model:<16}{total:>10.2f}{imported:>11.2f}{total - imported:>12.2f}{peak:>10,.0f}"
              f"{float(np.median(exported[model])):>10.2f}")  # fmt: skip


def batch_seconds(
    data: common.data.Dataset, batches: int, repeat: int, data_flag: list[str], folder: Path
) -> dict[str, float]:
    """Median seconds per training batch of 128 reviews, the CNN's and the LSTM's in turn.

    Each model is the one its script builds: a --dry-run of train_cnn.py and of
    train_lstm.py saves it in `folder`, and it is loaded from there with a fresh optimizer.
    """
    models = {}
    for name in ("cnn", "lstm"):
        run([sys.executable, str(ROOT / f"train_{name}.py"), "--dry-run", *data_flag,
             "--output-dir", str(folder)])  # fmt: skip
        saved = common.find_model(name, folder / common.cli.DRY_RUN_DIR)
        models[name] = keras.models.load_model(saved.model)
    keras.utils.set_random_seed(common.cli.DEFAULT_SEED)
    tf.config.experimental.enable_op_determinism()
    times: dict[str, list[float]] = {name: [] for name in models}
    x, y = data.x_train[: 128 * (batches + 1)], data.y_train[: 128 * (batches + 1)]
    for model in models.values():
        model.compile(loss="binary_crossentropy", optimizer="adam")
        model.train_on_batch(x[:128], y[:128])  # builds the graph: not timed
    for _ in range(repeat):
        for name, model in models.items():  # in turn, so that a slow moment hits both
            start = time.perf_counter()
            for i in range(1, batches + 1):
                model.train_on_batch(x[128 * i : 128 * (i + 1)], y[128 * i : 128 * (i + 1)])
            times[name].append((time.perf_counter() - start) / batches)
    return {name: float(np.median(values)) for name, values in times.items()}


def print_batch_seconds(seconds: dict[str, float], batches: int, repeat: int) -> None:
    steps = 176  # batches of 128 in an epoch of 22,500 reviews
    print(f"\nTraining time per batch of 128 reviews: {batches} batches of each model in turn,")
    print(f"medians of {repeat} rounds; an epoch is {steps} batches (without validation)\n")
    print(f"{'model':<8}{'s/batch':>10}{'s/epoch':>10}{'x the CNN':>11}")
    for name, value in seconds.items():
        print(f"{name:<8}{value:>10.3f}{value * steps:>10.1f}{value / seconds['cnn']:>11.1f}")


def median_run(rounds: list[dict]) -> dict:
    """Each figure's median over the rounds; the test accuracy must not move at all."""
    accuracies = {r["test_accuracy"] for r in rounds}
    if len(accuracies) != 1:
        sys.exit(f"error: the same command gave different accuracies: {sorted(accuracies)}")

    def median(values: list) -> float | None:
        values = [v for v in values if v is not None]
        return float(np.median(values)) if values else None

    return {
        "test_accuracy": rounds[0]["test_accuracy"],
        "total": median([r["total"] for r in rounds]),
        "peak": median([r["peak"] for r in rounds]),
        "seconds": {k: median([r["seconds"].get(k) for r in rounds]) for k in rounds[0]["seconds"]},
        "peak_memory_mb": {
            k: median([r["peak_memory_mb"].get(k) for r in rounds])
            for k in rounds[0]["peak_memory_mb"]
        },
        "seconds_per_epoch": [
            median(list(epoch))
            for epoch in zip(*(r["seconds_per_epoch"] for r in rounds), strict=True)
        ],
    }


def print_table(results: dict[str, dict]) -> None:
    width = 17  # per script: seconds (9) and peak MiB (8)
    header = f"{'phase':<14}" + "".join(f"{name:>{width}}" for name in results)
    print(header)
    print(f"{'':<14}" + "".join(f"{'seconds':>9}{'MiB':>8}" for _ in results))
    print("-" * len(header))

    def row(label: str, cells: list[tuple[float | None, float | None]]) -> None:
        text = "".join(
            f"{'' if s is None else f'{s:.2f}':>9}{'' if m is None else f'{m:,.0f}':>8}"
            for s, m in cells
        )
        print(f"{label:<14}{text}".rstrip())

    for phase in ("import", "data", "build"):
        row(
            phase,
            [(r["seconds"].get(phase), r["peak_memory_mb"].get(phase)) for r in results.values()],
        )
    epochs = max(len(r["seconds_per_epoch"]) for r in results.values())
    for epoch in range(epochs):
        row(
            f"  fit epoch {epoch + 1}",
            [(r["seconds_per_epoch"][epoch] if epoch < len(r["seconds_per_epoch"]) else None, None)
             for r in results.values()],
        )  # fmt: skip
    for phase in ("fit", "evaluate", *SAVING):
        row(phase, [(r["seconds"].get(phase), r["peak_memory_mb"].get(phase))
                    for r in results.values()])  # fmt: skip
    # The rest of the wall time, which no phase holds: mostly the process exiting.
    row("other", [(r["total"] - sum(r["seconds"].values()), None) for r in results.values()])
    print("-" * len(header))
    row("total (wall)", [(r["total"], r["peak"]) for r in results.values()])
    print(
        f"{'test accuracy':<14}"
        + "".join(f"{r['test_accuracy']:>{width}.2%}" for r in results.values())
    )


def machine() -> str:
    """The CPU model and the cores this process may use."""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or platform.machine()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {cores} cores"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data",
        default=os.environ.get("IMDB_DATA"),
        required=not os.environ.get("IMDB_DATA"),
        help="the Stanford IMDB archive or folder (default: $IMDB_DATA)",
    )
    parser.add_argument(
        "--models",
        type=lambda text: [m for m in text.split(",") if m],
        default=[m for m in common.cli.MODELS if m not in ("lstm", "minilm")],
        metavar="LIST",
        help="the models to train whole (default: every model but the LSTM, which is "
        "timed per batch instead, and minilm, about 22 minutes a run)",
    )
    parser.add_argument(
        "--batches",
        type=common.cli.positive_int,
        default=10,
        help="training batches per round when timing the CNN against the LSTM (default: 10)",
    )
    parser.add_argument(
        "--repeat",
        type=common.cli.positive_int,
        default=3,
        help="rounds of every measurement; the tables show medians (default: 3)",
    )
    args = parser.parse_args()
    unknown = [m for m in args.models if m not in common.cli.MODELS]
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {', '.join(common.cli.MODELS)}")

    with tempfile.TemporaryDirectory() as tmp:
        # Warm the cache, and give the tutorial the same reviews as arrays, as keras.datasets would.
        data = common.data.load_imdb(args.data, num_words=None, maxlen=None)
        clipped = {  # the 5,000 most frequent words, as keras.datasets.imdb.load_data gives them
            split: np.array(
                [common.data.clip_vocabulary(s, common.data.NUM_WORDS) for s in x], dtype=object
            )
            for split, x in (("x_train", data.x_train), ("x_test", data.x_test))
        }
        arrays = Path(tmp) / "imdb.npz"
        np.savez(arrays, **clipped, y_train=data.y_train, y_test=data.y_test)
        reviews = Path(tmp) / "reviews.txt"
        count = 1000
        texts = common.data.decode_many(data.x_test[:count], data.word_index)
        reviews.write_text("\n".join(texts) + "\n", encoding="utf-8")

        outputs = Path(tmp) / "outputs"
        rounds: dict[str, list[dict]] = {"tutorial CNN": [], **{name: [] for name in args.models}}
        for _ in range(args.repeat):  # interleaved, so that a slow moment hits every script alike
            rounds["tutorial CNN"].append(tutorial(arrays))
            for name in args.models:
                rounds[name].append(project(name, args.data, outputs))
        print(f"\nTraining with default settings, data cache warm; {machine()}", end="")
        print(f", Python {platform.python_version()}; medians of {args.repeat} runs\n")
        print_table({name: median_run(runs) for name, runs in rounds.items()})
        # Before anything heavy runs in this process: a child's peak memory starts at
        # this process's size when it is started.
        prediction(outputs, args.models, reviews, count, args.repeat)

        encoded = common.data.load_imdb(args.data)
        data_flag = ["--data", args.data] if args.data else []
        seconds = batch_seconds(encoded, args.batches, args.repeat, data_flag, Path(tmp) / "lstm")
        print_batch_seconds(seconds, args.batches, args.repeat)
        # The scikit-learn peers, by their own script (it says so if scikit-learn is missing).
        peers = [sys.executable, str(ROOT / "benchmarks" / "sklearn_baselines.py"), *data_flag]
        result = subprocess.run(peers, capture_output=True, text=True)
        said = result.stdout.strip() or "\n".join(result.stderr.strip().splitlines()[-1:])
        print("\n" + said)  # the table, or the one sentence that says why there is none


if __name__ == "__main__":
    common.run(lambda argv: main())
