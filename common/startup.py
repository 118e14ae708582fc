"""TensorFlow without its start-up lines: the first thing `import common` does, so that the
scripts import common before keras (pyproject.toml's isort sections keep them so).

TensorFlow's C++ core prints about eight lines on standard error as it loads (oneDNN,
the CUDA drivers it did not find, the CPU instructions it could use, and, on a machine
without a GPU, an error from cuInit), before every script's output, `--help` included.
They say nothing wrong, and Python's logging cannot reach them: they are written to the
file descriptor itself. So TensorFlow is imported here with standard error caught in a
file, and what it printed is passed on, but for those lines. TF_CPP_MIN_LOG_LEVEL=2 then
hides its later notices, not its errors.

TF_CPP_MIN_LOG_LEVEL=0 (or 1) shows them all again: nothing is hidden then.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

# What TensorFlow prints as it starts, every line of it harmless.
START_UP_LINES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"  # absl's preface
    r"|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\] "  # its notices: oneDNN, CUDA, CPU
    r"|E\d{4} [\d:.]+ +\d+ \S+:\d+\] failed call to cuInit"  # there is no GPU here
    r"|To enable the following instructions: .*rebuild TensorFlow)"  # the CPU notice's end
)


def quiet_tensorflow() -> None:
    """Import TensorFlow and find its devices, with its start-up lines left out."""
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # passed on to child processes
    if "tensorflow" in sys.modules or level in ("0", "1"):
        return  # too late to catch, or asked to be shown
    try:
        sys.stderr.flush()
        kept = os.dup(2)
    except (OSError, ValueError):  # no standard error to catch (a daemon, a test's stream)
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the cuInit line comes when devices are found
        finally:  # anything else TensorFlow said is passed on, also if it failed to load
            os.dup2(kept, 2)
            os.close(kept)
            caught.seek(0)
            printed = caught.read().decode("utf-8", errors="replace").splitlines()
            others = [line for line in printed if not START_UP_LINES.match(line)]
            if others:
                print("\n".join(others), file=sys.stderr)


quiet_tensorflow()
