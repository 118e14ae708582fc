"""How long each script takes to answer `--help` and to refuse a flag it does not know.

Every script reads its flags before it loads TensorFlow (seconds, on a small machine),
but for the training scripts, whose `import keras` is at the top as in keras-io's
examples. This runs each script's `--help` and `--no-such-flag` in a fresh process,
`--repeat` times, and prints the median wall-clock seconds of each, with whether the
answer loaded TensorFlow. The seconds move with the machine and what else it runs.

    python benchmarks/startup.py
    python benchmarks/startup.py --repeat 5 predict.py serve.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as the script itself would be, then say whether TensorFlow was loaded on the way.
PROBE = """import runpy, sys
sys.argv = [sys.argv[1], sys.argv[2]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    print("tensorflow" in sys.modules, file=sys.stderr)
"""


def timed(script: str, flag: str) -> tuple[float, bool]:
    """Seconds for `python script flag` to answer, and whether it loaded TensorFlow."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PROBE, script, flag], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    seconds = time.perf_counter() - start
    return seconds, result.stderr.strip().splitlines()[-1:] == ["True"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scripts", nargs="*", help="the scripts to time (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default: 3)")
    args = parser.parse_args(argv)
    scripts = args.scripts or sorted(path.name for path in ROOT.glob("*.py"))
    missing = [script for script in scripts if not (ROOT / script).is_file()]
    if missing or args.repeat < 1:
        parser.error(f"no such script: {', '.join(missing)}" if missing else "--repeat: at least 1")

    print(f"{'script':<22} {'--help (s)':>10} {'bad flag (s)':>12}  loads TensorFlow")
    for script in scripts:
        row, loads = [], set()
        for flag in ("--help", "--no-such-flag"):
            runs = [timed(script, flag) for _ in range(args.repeat)]
            row.append(statistics.median(seconds for seconds, _ in runs))
            loads |= {loaded for _, loaded in runs}
        print(f"{script:<22} {row[0]:>10.2f} {row[1]:>12.2f}  {'yes' if True in loads else 'no'}")


if __name__ == "__main__":
    main()
