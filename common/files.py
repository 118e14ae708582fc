"""Writing files so that a crash or a full disk never leaves half a file behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds, rename it to `path`.

    A rename within one folder is atomic: readers see the old file or the new one,
    never half of one. The temporary name keeps the suffix (.keras, .npz, .png) so
    that libraries which check it accept it.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, _default_file_mode())  # mkstemp creates files private (0600)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _default_file_mode() -> int:
    """The permissions a plain `open(path, "w")` would give, given the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
