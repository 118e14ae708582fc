"""Time train_cnn.py against a plain Keras 3 transcription of the tutorial, side by side.

Both train the same CNN on the same reviews with their defaults; each runs in a fresh
Python process, with the data cache warm. Prints, per phase (import, data, build, fit
per epoch, evaluate) and in total, the seconds and peak memory of each, and the test
accuracy each printed. Differences to expect: the tutorial validates on all 25,000
test reviews after every epoch, train_cnn.py on 2,500 held-out training reviews.

    python benchmarks/benchmark.py --data ../shared/data/aclImdb_labeled.tar.gz
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


def run(command: list[str]) -> tuple[str, float, float]:
    """Run a command; return its output, wall seconds and peak resident memory in MiB."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
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


def project(data: str, output_dir: Path) -> dict:
    command = [
        sys.executable,
        str(ROOT / "train_cnn.py"),
        "--data",
        data,
        "--output-dir",
        str(output_dir),
    ]
    _, total, peak = run(command)
    figures = json.loads((output_dir / "cnn_metrics.json").read_text())
    return {**figures, "total": total, "peak": peak}


def print_table(results: dict[str, dict]) -> None:
    names = list(results)
    header = f"{'phase':<16}" + "".join(f"{name:>26}" for name in names)
    print(header)
    print(f"{'':<16}" + "".join(f"{'seconds':>14}{'peak MiB':>12}" for _ in names))
    print("-" * len(header))

    def row(label: str, cells: list[tuple[float | None, float | None]]) -> None:
        text = "".join(
            f"{'' if s is None else f'{s:.2f}':>14}{'' if m is None else f'{m:,.0f}':>12}"
            for s, m in cells
        )
        print(f"{label:<16}{text}")

    for phase in ("import", "data", "build"):
        row(
            phase,
            [(r["seconds"].get(phase), r["peak_memory_mb"].get(phase)) for r in results.values()],
        )
    epochs = max(len(r["seconds_per_epoch"]) for r in results.values())
    for epoch in range(epochs):
        row(
            f"  fit epoch {epoch + 1}",
            [(r["seconds_per_epoch"][epoch], None) for r in results.values()],
        )
    for phase in ("fit", "evaluate"):
        row(phase, [(r["seconds"][phase], r["peak_memory_mb"][phase]) for r in results.values()])
    print("-" * len(header))
    row("total (wall)", [(r["total"], r["peak"]) for r in results.values()])
    print(
        f"{'test accuracy':<16}" + "".join(f"{r['test_accuracy']:>26.2%}" for r in results.values())
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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        # Warm the cache, and give the tutorial the same reviews as arrays, as keras.datasets would.
        data = common.load_imdb(args.data, num_words=common.NUM_WORDS, maxlen=None)
        arrays = Path(tmp) / "imdb.npz"
        np.savez(
            arrays,
            x_train=data.x_train,
            y_train=data.y_train,
            x_test=data.x_test,
            y_test=data.y_test,
        )

        results = {
            "tutorial (Keras 3)": tutorial(arrays),
            "train_cnn.py": project(args.data, Path(tmp) / "outputs"),
        }
    print(f"\nCNN, default settings, data cache warm; {machine()}", end="")
    print(f", Python {platform.python_version()}\n")
    print_table(results)


if __name__ == "__main__":
    common.run(lambda argv: main())
