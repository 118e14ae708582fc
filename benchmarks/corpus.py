"""Scoring one large file: score_corpus.py's pipeline against predict.py on a stream.

Writes --lines made-up texts of 10 to 40 words (a tweet or a short review: what a model
costs does not depend on which words they are, as every text is padded or cut to the
model's length) into one file, then scores it, each in a fresh process:

* predict.py, reading the file on standard input as a stream, JSON out to a file;
* score_corpus.py on Beam's in-process runner (--workers 1), and with 2 worker processes.

For each: the wall time from start to exit (start-up, model loading and writing
included), lines per second, and the peak memory of the process with all of its
children (the sum of their resident sizes, sampled every 0.1 s). Every run scores with
batches of 256 texts (common.texts.BATCH_SIZE, score_corpus.py's --batch-size).

    python train_cnn.py --data aclImdb_v1.tar.gz    # first: the model to score with
    python benchmarks/corpus.py --model cnn         # a million lines; --lines for fewer
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "good bad great awful boring wonderful plot acting film movie story cast not very really "
    "never loved hated slow funny dull brilliant ending script the a of and"
).split()
SEED = 7


def write_lines(path: Path, count: int) -> None:
    """`count` made-up texts of 10 to 40 words, one per line, written a block at a time."""
    rng = np.random.default_rng(SEED)
    with open(path, "w", encoding="utf-8") as file:
        for start in range(0, count, 10_000):
            block = min(10_000, count - start)
            file.writelines(" ".join(rng.choice(WORDS, size=rng.integers(10, 41))) + "\n"
                            for _ in range(block))  # fmt: skip


def tree_rss(pid: int) -> int:
    """The resident bytes of a process and all of its descendants, from /proc."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += 1024 * int(next(line.split()[1] for line in status.splitlines()
                                     if line.startswith("VmRSS:")))  # fmt: skip
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):  # it ended meanwhile
            continue
    return total


def measured(command: list[str], stdin: Path | None, stdout: Path) -> tuple[float, int]:
    """Run `command`; its wall seconds and the peak resident bytes of its process tree."""
    peak, done = 0, threading.Event()
    started = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source, open(stdout, "wb") as sink:
        process = subprocess.Popen(command, stdin=source, stdout=sink, stderr=subprocess.PIPE,
                                   cwd=ROOT)  # fmt: skip

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(process.pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, errors = process.communicate()
        done.set()
        sampler.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(command[1:3])} failed:\n{errors.decode()[-2000:]}")
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cnn", help="as predict.py takes it (default: cnn)")
    parser.add_argument("--models-dir", default="outputs", metavar="DIR")
    parser.add_argument("--lines", type=int, default=1_000_000, help="default: 1,000,000")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus.txt"
        write_lines(corpus, args.lines)
        model = ["--model", args.model, "--models-dir", args.models_dir]
        runs = {
            "predict.py, a stream": (
                [sys.executable, "predict.py", *model, "--format", "json"], corpus),
        }  # fmt: skip
        for workers in (1, 2):
            output = str(Path(folder) / f"scored{workers}" / "part")
            runs[f"score_corpus.py, {workers} worker{'s' * (workers > 1)}"] = (
                [sys.executable, "score_corpus.py", *model, "--input", str(corpus),
                 "--output", output, "--workers", str(workers)], None)  # fmt: skip
        print(f"{args.lines:,} lines of 10 to 40 words, model {args.model}, batches of 256\n")
        print("| run | seconds | lines/s | peak memory, MB |\n|---|---|---|---|")
        for name, (command, stdin) in runs.items():
            seconds, peak = measured(command, stdin, Path(folder) / "stdout")
            rate, megabytes = args.lines / seconds, peak / 2**20
            print(f"| {name} | {seconds:,.1f} | {rate:,.0f} | {megabytes:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
