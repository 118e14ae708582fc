"""Writing files so that a crash or a full disk never leaves half a file behind."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# .cnn.keras.tmp1234-k3j4h5.keras: hidden, the final name, the writing process's id.
_TEMPORARY = re.compile(r"^\..+\.tmp(\d+)-[^.]+(\.[^.]+)?$")


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds, rename it to `path`.

    A rename within one folder is atomic: readers see the old file or the new one,
    never half of one. The temporary name keeps the suffix (.keras, .npz, .png) so
    that libraries which check it accept it, and carries this process's id, so that
    `remove_stale_temporaries` can tell a killed run's leftovers from a live run's.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.tmp{os.getpid()}-", suffix=path.suffix
    )
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, _default_file_mode())  # mkstemp creates files private (0600)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_json(path: str | os.PathLike[str], limit: int) -> object:
    """The JSON in a file that came from elsewhere, read with bounds: ValueError if it is not
    a regular file (a FIFO or /dev/zero would be read forever), holds more than `limit`
    bytes, is not UTF-8 JSON, or nests so deeply that parsing it would exhaust the stack.
    OSError (FileNotFoundError among them) if it cannot be read."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError("it is not a regular file")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"it is larger than {limit // 2**20} MiB")
    try:
        return json.loads(data.decode("utf-8"))  # UnicodeDecodeError, JSONDecodeError: ValueError
    except RecursionError:
        raise ValueError("it is nested too deeply") from None


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, read a MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files (and folders) of processes that are gone (SIGKILL, power cut)."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match and not _process_alive(int(match.group(1))):
            try:
                if entry.is_dir(follow_symlinks=False):  # an unfinished SavedModel export
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, but belongs to someone else
        return True
    return True


def default_folder_mode() -> int:
    """The permissions a plain `os.mkdir` would give, given the umask."""
    return 0o777 & ~_umask()


def _default_file_mode() -> int:
    """The permissions a plain `open(path, "w")` would give, given the umask."""
    return 0o666 & ~_umask()


def _umask() -> int:
    """This process's umask: setting it is the only way to read it."""
    umask = os.umask(0)
    os.umask(umask)
    return umask
