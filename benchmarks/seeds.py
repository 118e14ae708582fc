"""How much a model's test accuracy moves with its seed: one training per seed, then the spread.

A training script trains one model from one seed (--seed, 7 by default). One figure
can mislead: the deep CNN's seed 7 gives 89.00%, its five seeds 87.98% on average. This
runs the script once per seed, each in a process of its own with its flags, and prints
each seed's test accuracy, then their mean and sample standard deviation: the figures
of the README's results table. The same command on the same machine prints the same
figures, to the last digit.

    python benchmarks/seeds.py train_cnn.py --data aclImdb_v1.tar.gz
    python benchmarks/seeds.py train_cnn.py --global-pool --seeds 7,8,9
    python benchmarks/seeds.py train_bow.py --output-dir seeds/   # keep the models

Flags this script does not know go to the training script. The models go to a
temporary folder, removed at the end, unless --output-dir keeps them: a version per
seed, of which the model's folder keeps the newest three, as always.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEEDS = "7,8,9,10,11"  # the tutorial's seed and the next four


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # --seed is the training script's flag, not short for --seeds
    )
    parser.add_argument("script", help="a training script: train_cnn.py, train_bow.py, ...")
    parser.add_argument(
        "--seeds", default=SEEDS, metavar="LIST",
        help=f"the seeds, separated by commas (default: {SEEDS})",
    )  # fmt: skip
    parser.add_argument(
        "--output-dir", metavar="DIR",
        help="keep the models there (default: a temporary folder, removed at the end)",
    )  # fmt: skip
    args, script_flags = parser.parse_known_args(argv)
    try:
        args.seeds = [int(seed) for seed in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds takes whole numbers separated by commas, got {args.seeds!r}")
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"each seed once, please: got {args.seeds}")
    scripts = sorted(path.name for path in ROOT.glob("train_*.py"))
    if Path(args.script).name not in scripts:
        parser.error(f"{args.script!r} is not a training script: one of {', '.join(scripts)}")
    if any(flag.split("=")[0] in ("--seed", "--output-dir") for flag in script_flags):
        parser.error("the seeds and the output folder are this script's to set")
    return args, script_flags


def train(script: Path, seed: int, flags: list[str], output_dir: Path) -> dict:
    """Train once with `seed`; return the metrics the script saved (metrics.json)."""
    command = [sys.executable, str(script), *flags, "--seed", str(seed)]
    result = subprocess.run(
        [*command, "--output-dir", str(output_dir)], capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit(f"error: {script.name} with seed {seed} failed (exit {result.returncode})")
    if "\nSaved " not in result.stdout:
        raise SystemExit(f"error: {script.name} with seed {seed} saved no model")
    saved = result.stdout.rsplit("\nSaved ", 1)[1].split("/: ", 1)[0]  # its version folder
    return json.loads((Path(saved) / "metrics.json").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> None:
    args, flags = parse_args(argv)
    script = ROOT / Path(args.script).name
    print(f"{script.name} {' '.join(flags)}".rstrip() + f", seeds {args.seeds}", flush=True)
    accuracies = []
    with tempfile.TemporaryDirectory() as temporary:
        output_dir = Path(args.output_dir or temporary)
        for seed in args.seeds:
            start = time.perf_counter()
            metrics = train(script, seed, flags, output_dir)
            accuracies.append(metrics["test_accuracy"])
            seconds = time.perf_counter() - start
            print(f"Seed {seed}: accuracy {accuracies[-1]:.2%} ({seconds:.0f} s)", flush=True)
    values = np.asarray(accuracies, dtype=float)
    mean, std = values.mean(), values.std(ddof=1) if len(values) > 1 else 0.0
    print(f"Accuracy: {mean * 100:.2f}% ± {std * 100:.2f} (mean ± standard deviation over "
          f"{len(values)} seed{'s' if len(values) > 1 else ''})")  # fmt: skip


if __name__ == "__main__":
    main()
