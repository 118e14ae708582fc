"""TensorFlow without its start-up lines, and only when it is needed: the first thing
`import common` does, so that the scripts import common before keras (pyproject.toml's
isort sections keep them so).

TensorFlow's C++ core prints about eight lines on standard error as it loads (oneDNN,
the CUDA drivers it did not find, the CPU instructions it could use, and, on a machine
without a GPU, an error from cuInit), before every script's output. They say nothing
wrong, and Python's logging cannot reach them: they are written to the file descriptor
itself. So `import common` puts a finder on `sys.meta_path` (Python's import hook): the
first import of TensorFlow, whoever makes it, runs with standard error caught in a file,
and what it printed is passed on, but for those lines. TF_CPP_MIN_LOG_LEVEL=2 then hides
its later notices, not its errors. Until then nothing is loaded: `predict.py --help` or a
bad flag answers before TensorFlow's seconds of loading.

TF_CPP_MIN_LOG_LEVEL=0 (or 1) shows them all again: nothing is hidden then.

Two more things must hold before TensorFlow takes its seconds to load: a script started
with a standard stream closed (`2>&-`) still runs, its output to that stream dropped;
and a script stopped meanwhile (Ctrl-C, SIGTERM) says "interrupted" and exits 130, as
`cli.run` does once it has started.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import re
import signal
import sys
import tempfile
from pathlib import Path

# What TensorFlow prints as it starts, every line of it harmless.
START_UP_LINES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"  # absl's preface
    r"|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\] "  # its notices: oneDNN, CUDA, CPU
    r"|E\d{4} [\d:.]+ +\d+ \S+:\d+\] failed call to cuInit"  # there is no GPU here
    r"|To enable the following instructions: .*rebuild TensorFlow)"  # the CPU notice's end
)


def open_closed_streams() -> None:
    """Give a closed standard input, output or error /dev/null, so that no file the script
    opens takes its number, and a print to a closed output goes nowhere, not failing."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
    # sys.stdin stays None: predict.py says in one sentence that there is nothing to read.
    for name, fd in (("stdout", 1), ("stderr", 2)):
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "w", closefd=False))  # noqa: SIM115 (for the process)


_error_fd = 2  # where "interrupted" goes: the real standard error while it is caught
_loading_handlers: dict[int, object] = {}


def _interrupted_while_loading(signum: int, frame: object) -> None:
    os.write(_error_fd, b"interrupted\n")
    os._exit(130)  # nothing is written yet: there is nothing to clean up


def stop_cleanly_while_loading() -> None:
    """Until `restore_signals`, Ctrl-C and SIGTERM end a script at once with "interrupted"
    and exit 130. Only in a script of this project run as a program: in a notebook or a
    test run, Ctrl-C stays Python's."""
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if not main or Path(main).resolve().parent != Path(__file__).resolve().parent.parent:
        return
    for signum, default in ((signal.SIGINT, signal.default_int_handler),
                            (signal.SIGTERM, signal.SIG_DFL)):  # fmt: skip
        if signal.getsignal(signum) is default:  # not one ignored (nohup) or set by a caller
            _loading_handlers[signum] = default
            signal.signal(signum, _interrupted_while_loading)


def restore_signals() -> None:
    """Give back the handlers `stop_cleanly_while_loading` replaced (`cli.run` sets its own)."""
    while _loading_handlers:
        signum, handler = _loading_handlers.popitem()
        signal.signal(signum, handler)


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run with standard error caught."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> object:
        return self.loader.create_module(spec)

    def exec_module(self, module: object) -> None:
        module.__spec__.loader = module.__loader__ = self.loader  # TensorFlow's, once loaded
        with _start_up_lines_left_out():
            self.loader.exec_module(module)
            module.config.list_physical_devices()  # the cuInit line comes when devices are found


class _TensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds TensorFlow the first time it is imported, and gives it a `_QuietLoader`."""

    def find_spec(self, name: str, path: object, target: object = None) -> object:
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: the finders after this one find it
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _start_up_lines_left_out:  # noqa: N801 (used as a `with` statement)
    """Standard error caught in a file, and passed on but for START_UP_LINES; nothing is
    caught where there is no standard error to catch (a daemon, a test's stream)."""

    def __enter__(self) -> None:
        global _error_fd
        try:
            sys.stderr.flush()
            self.kept = os.dup(2)
        except (OSError, ValueError):
            self.kept = None
            return
        self.caught = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        _error_fd = self.kept
        os.dup2(self.caught.fileno(), 2)

    def __exit__(self, *exc: object) -> None:
        global _error_fd
        if self.kept is None:
            return
        os.dup2(self.kept, 2)  # anything else TensorFlow said is passed on, also if it failed
        _error_fd = 2
        os.close(self.kept)
        with self.caught:
            self.caught.seek(0)
            printed = self.caught.read().decode("utf-8", errors="replace").splitlines()
        others = [line for line in printed if not START_UP_LINES.match(line)]
        if others:
            print("\n".join(others), file=sys.stderr)


def quiet_tensorflow() -> None:
    """Load TensorFlow, when something first imports it, with its start-up lines left out."""
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # passed on to child processes
    if "tensorflow" in sys.modules or level in ("0", "1"):
        return  # too late to catch, or asked to be shown
    if not any(isinstance(finder, _TensorFlowFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TensorFlowFinder())


open_closed_streams()
stop_cleanly_while_loading()
quiet_tensorflow()
