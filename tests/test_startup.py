"""common/startup.py: TensorFlow's start-up lines are left out, and nothing else is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import common.startup

import pytest
from conftest import LESSONS, ROOT

# What TensorFlow 2.21 printed as it started, on a machine without a GPU.
PRINTED = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796213599.972755    6381 port.cc:153] oneDNN custom operations are on.
I0000 00:00:1796213599.973054    6381 cudart_stub.cc:31] Could not find cuda drivers on your machine.
I0000 00:00:1796210864.101799    7041 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
E0000 00:00:1796210132.220932    4696 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error
"""  # noqa: E501


def test_only_the_start_up_lines_are_left_out() -> None:
    others = ["E0000 00:00:1796210132.2 4696 loader.cc:7] could not load libfoo.so",
              "Traceback (most recent call last):", "DeprecationWarning: numpy.core"]  # fmt: skip
    lines = PRINTED.splitlines() + others
    assert [line for line in lines if not common.startup.START_UP_LINES.match(line)] == others


def fresh(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**environment, **env}, timeout=120)  # fmt: skip


def test_a_script_starts_without_tensorflows_lines() -> None:
    """`import common` loads no TensorFlow, even with its modules used; then keras and a
    tensor: nothing on standard error; its children (given TF_CPP_MIN_LOG_LEVEL=2) start
    as quietly."""
    quiet = fresh("import sys, common; common.cli, common.texts, common.labeled; "
                  "print('tensorflow' in sys.modules); import keras; "
                  "print('tensorflow' in sys.modules, keras.ops.ones(2).shape)")  # fmt: skip
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "False\nTrue (2,)\n", "")
    child = fresh("import common, keras", TF_CPP_MIN_LOG_LEVEL="2")
    assert child.returncode == 0 and child.stderr == "", child.stderr


def test_tf_cpp_min_log_level_0_shows_them_again() -> None:
    shown = fresh("import common, keras", TF_CPP_MIN_LOG_LEVEL="0")
    assert shown.returncode == 0
    # What TensorFlow says depends on the machine; that it says something, here, does not.
    assert "I0000" in shown.stderr or "WARNING: All log messages" in shown.stderr, shown.stderr


def test_a_script_runs_with_its_standard_streams_closed() -> None:
    """`predict.py --help 2>&-`: the help, exit 0; `>&-`: nothing to see, exit 0;
    `predict.py <&-`: one sentence, exit 2."""
    for closed, args, code, shown in ((2, "'--help'", 0, "usage:"), (1, "'--help'", 0, ""),
                                      (0, "", 2, "")):  # fmt: skip
        script = (f"import os, subprocess, sys; os.close({closed}); "
                  f"sys.exit(subprocess.call([sys.executable, 'predict.py', {args}]))")  # fmt: skip
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                cwd=ROOT, timeout=120)  # fmt: skip
        assert result.returncode == code, result
        assert result.stdout.startswith(shown), result
        if closed == 0:
            assert (
                result.stderr == "error: standard input is closed: give texts as arguments, "
                "with --file, or on stdin.\n"
            )
        else:
            assert result.stderr == "", result


TRAINING_SCRIPTS = [path.name for path in LESSONS]
# The others read their flags before they load TensorFlow.
OTHER_SCRIPTS = sorted({path.name for path in ROOT.glob("*.py")} - {*TRAINING_SCRIPTS})


@pytest.mark.parametrize("script", OTHER_SCRIPTS)
@pytest.mark.parametrize("flag", ["--help", "--no-such-flag"])
def test_help_and_a_bad_flag_answer_before_tensorflow_loads(script: str, flag: str) -> None:
    """All but the training scripts (whose `import keras` is at the top, as keras-io's
    are): their flags are read before anything loads TensorFlow."""
    result = fresh(f"import runpy, sys; sys.argv = [{script!r}, {flag!r}]\n"
                   f"try:\n    runpy.run_path({script!r}, run_name='__main__')\n"
                   "except SystemExit as e:\n"
                   "    print('exit', e.code, 'tensorflow' in sys.modules)")  # fmt: skip
    assert result.stdout.splitlines()[-1] == f"exit {0 if flag == '--help' else 2} False", result


@pytest.mark.parametrize(
    "signum, command",
    [(signal.SIGINT, ["train_cnn.py", "--help"]), (signal.SIGTERM, ["train_cnn.py", "--help"]),
     (signal.SIGINT, ["predict.py", "--models-dir", "none", "great"]),
     (signal.SIGTERM, ["predict.py", "--models-dir", "none", "great"])],
)  # fmt: skip
def test_stopped_while_tensorflow_loads_a_script_says_interrupted(
    signum: int, command: list[str]
) -> None:
    """Once TensorFlow's library is mapped (its loading has seconds to go), Ctrl-C and
    SIGTERM give one word and exit 130: before the script runs (a training script's
    `import keras`) and once it runs (predict.py loads it after its flags)."""
    script = subprocess.Popen([sys.executable, *command], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    maps = Path(f"/proc/{script.pid}/maps")
    while script.poll() is None and "libtensorflow" not in maps.read_text():
        time.sleep(0.005)
    script.send_signal(signum)
    stdout, stderr = script.communicate(timeout=120)
    assert (script.returncode, stdout, stderr) == (130, "", "interrupted\n")
