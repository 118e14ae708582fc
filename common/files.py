"""Writing files so that a crash or a full disk never leaves half a file behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomically(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Call `write(f)` on a temporary file beside `path`, then rename it to `path`.

    A rename within one folder is atomic: readers see the old file or the new one.
    """
    path = Path(path)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        try:
            write(f)
        except BaseException:
            f.close()
            os.unlink(f.name)
            raise
    try:
        os.chmod(f.name, _default_file_mode())  # temporary files are created private (0600)
        os.replace(f.name, path)
    except BaseException:
        Path(f.name).unlink(missing_ok=True)
        raise


def _default_file_mode() -> int:
    """The permissions a plain `open(path, "w")` would give, given the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
