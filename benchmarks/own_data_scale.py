"""Your own data at scale: a CSV of 1,000,000 short texts, read, encoded and learned from.

Writes the CSV first (no download): three labels; texts of 5 to 25 words drawn from
50,000 made-up words with Zipf frequencies, each label with 40 telling words of its
own; every tenth text quoted, with a comma inside. Then, for each number of rows
(--rows), it runs `python train_bow.py --data FILE --maxlen 50 --epochs 1` in a fresh
process, as a reader would, and prints from the metrics file it saves the seconds
and peak memory (resident, since the process started) of each phase:

* data: reading the CSV as a stream, tokenizing, counting the vocabulary on the
  training part, encoding and padding (common/labeled.py);
* build: the pair vocabulary and naive-Bayes ratios, and the model;
* fit: one epoch of the bag of n-grams; evaluate: the test part, once.

The last lines fit peak memory after reading to the number of rows: its slope, in MiB
per 100,000 rows, says how memory grows.

    python benchmarks/own_data_scale.py
    python benchmarks/own_data_scale.py --rows 100000 --keep texts.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("negative", "neutral", "positive")
VOCABULARY = 50_000  # made-up words, Zipf-distributed
TELLING = 40  # each label's own words
LENGTHS = (5, 25)  # words per text
SEED = 7


def made_up_words(count: int, rng: np.random.RandomState) -> list[str]:
    """`count` distinct lowercase words of 2 to 4 syllables."""
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
    words: set[str] = set()
    while len(words) < count:
        parts = rng.randint(0, len(syllables), size=(count, 4))
        sizes = rng.randint(2, 5, size=count)
        pairs = zip(parts, sizes, strict=True)
        words.update("".join(syllables[p] for p in row[:n]) for row, n in pairs)
    return sorted(words)[:count]


def write_csv(path: Path, rows: int, seed: int = SEED) -> None:
    """The benchmark's CSV: text,label; see the module's docstring."""
    rng = np.random.RandomState(seed)
    words = np.array(made_up_words(VOCABULARY + TELLING * len(LABELS), rng))
    common_words, telling = words[:VOCABULARY], words[VOCABULARY:].reshape(len(LABELS), TELLING)
    frequency = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.1
    frequency /= frequency.sum()
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        for start in range(0, rows, 100_000):  # in blocks: the generator's memory stays small
            n = min(100_000, rows - start)
            labels = rng.randint(0, len(LABELS), size=n)
            lengths = rng.randint(LENGTHS[0], LENGTHS[1] + 1, size=n)
            drawn = rng.choice(VOCABULARY, size=lengths.sum(), p=frequency)
            ends = np.cumsum(lengths)
            for i, (label, end, length) in enumerate(zip(labels, ends, lengths, strict=True)):
                text = list(common_words[drawn[end - length : end]])
                text[rng.randint(length)] = telling[label, rng.randint(TELLING)]
                if i % 10 == 0:
                    text[0] += ","  # a quoted field with a comma inside
                writer.writerow([" ".join(text), LABELS[label]])


def run_training(path: Path, output_dir: Path, maxlen: int) -> dict:
    """train_bow.py on `path` in a fresh process: its metrics file's seconds and memory."""
    command = [sys.executable, str(ROOT / "train_bow.py"), "--data", str(path), "--maxlen",
               str(maxlen), "--epochs", "1", "--output-dir", str(output_dir)]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode:
        sys.exit(f"train_bow.py failed:\n{result.stderr[-3000:]}")
    newest = max((output_dir / "bow").iterdir(), key=lambda p: int(p.name))
    metrics = json.loads((newest / "metrics.json").read_text())
    metrics["wall"] = time.perf_counter() - started
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", default="250000,500000,1000000",
        help="numbers of rows, comma-separated (default: 250000,500000,1000000)",
    )  # fmt: skip
    parser.add_argument("--maxlen", type=int, default=50, help="tokens per text (default: 50)")
    parser.add_argument("--keep", metavar="FILE", help="also keep the largest CSV as FILE")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.rows.split(","))
    print(f"train_bow.py --maxlen {args.maxlen} --epochs 1 on CSVs of short texts; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    phases = " | ".join(f"{name + ' s':>7} {'MiB':>7}" for name in ("data", "build", "fit", "test"))
    header = f"{'rows':>10} {'MB':>6} {'write s':>8} | {phases}"
    print(header)
    print("-" * len(header))
    peaks = []
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            path = Path(folder) / f"texts_{rows}.csv"
            started = time.perf_counter()
            write_csv(path, rows)
            written = time.perf_counter() - started
            metrics = run_training(path, Path(folder) / "out", args.maxlen)
            seconds, memory = metrics["seconds"], metrics["peak_memory_mb"]
            peaks.append(memory["data"])
            print(f"{rows:>10,} {path.stat().st_size / 1e6:>6.0f} {written:>8.1f} | "
                  + " | ".join(f"{seconds[phase]:>7.1f} {memory[phase]:>7,.0f}"
                               for phase in ("data", "build", "fit", "evaluate")),
                  flush=True)  # fmt: skip
            if rows == sizes[-1] and args.keep:
                shutil.move(path, args.keep)
            path.unlink(missing_ok=True)
    if len(sizes) > 1:
        slope, intercept = np.polyfit(np.array(sizes) / 1e5, peaks, 1)
        fitted = np.polyval([slope, intercept], np.array(sizes) / 1e5)
        worst = float(np.max(np.abs(fitted - peaks)))
        print(f"\nPeak memory after reading: {intercept:,.0f} MiB + {slope:,.1f} MiB per "
              f"100,000 rows (the line is off by {worst:,.0f} MiB at most)")  # fmt: skip


if __name__ == "__main__":
    main()
