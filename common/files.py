"""Writing files so that a crash or a full disk never leaves half a file behind.

Three units: one file (`atomic_path`); a versioned folder (`write_version`): a model
folder holds versions 1/, 2/, ..., each written in full under a hidden name and
then renamed into place, so that a reader sees a version whole or not at all; and one
folder written whole, replacing the one before (`write_folder`: make_page.py's page).
Temporaries are named so that cleaning up (`remove_stale_temporaries`) can prove them
ours. Reading what came from elsewhere with bounds is here too: `read_json`, and lines
of UTF-8 (`utf8_lines`, `decoded_line`, `ChunkLines`); and `file_sha256`.
"""

from __future__ import annotations

import bz2
import errno
import fcntl
import hashlib
import json
import lzma
import os
import re
import secrets
import shutil
import stat
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

# A temporary file or folder of this project: hidden, the final name, the phase, a random
# token, a check and the suffix (.cnn.keras.tmp-3f9c0e1a2b4d5e6f7a8b.keras). The check is a
# digest of the final name, token and suffix: no name a person gives proves it, so that
# cleaning up never takes a user's `.venv.new-py312` or `.notes.tmp-draft.txt` for ours.
# Its writer holds a lock on it for as long as it lives, which the kernel releases when
# the writer dies, however it dies and in whatever container: an unlocked temporary is a
# dead run's. The phase is "new" for the moment between its creation and its lock.
_TEMPORARY = re.compile(r"^\.(.+)\.(new|tmp)-([0-9a-f]{12})([0-9a-f]{8})(\.[^.]+)?$")
CREATING_SECONDS = 60  # an unlocked "new" this old was created by a run that died at once


def temporary_name(final: str, phase: str = "tmp", suffix: str = "", token: str = "") -> str:
    """The hidden name of a temporary for `final` in `phase` ("new" or "tmp"), with a
    random token (or `token`, 12 hex digits) and the check that proves it ours."""
    token = token or secrets.token_hex(6)
    return f".{final}.{phase}-{token}{_check(final, token, suffix)}{suffix}"


def _check(final: str, token: str, suffix: str) -> str:
    return hashlib.sha256(f"temporary\0{final}\0{token}\0{suffix}".encode()).hexdigest()[:8]


def _ours(name: str) -> str | None:
    """The phase of `name` if it is a temporary this project made, else None."""
    match = _TEMPORARY.match(name)
    if match is None:
        return None
    final, phase, token, check, suffix = match.groups()
    return phase if check == _check(final, token, suffix or "") else None


def _create(parent: Path, final: str, suffix: str, make: Callable[[Path], int]) -> tuple[int, Path]:
    """Create a new temporary for `final` in `parent` with `make(path)` (which fails with
    FileExistsError if the name is taken), under a fresh name; its descriptor and path."""
    while True:
        path = parent / temporary_name(final, "new", suffix)
        try:
            return make(path), path
        except FileExistsError:
            continue


def _new_file(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)


def _new_folder(path: Path) -> int:
    os.mkdir(path)  # 0o777 less the umask: what a plain mkdir gives
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except BaseException:
        os.rmdir(path)
        raise


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds, rename it to `path`.

    A rename within one folder is atomic: readers see the old file or the new one,
    never half of one. The temporary name keeps the suffix (.keras, .npz, .png) so
    that libraries which check it accept it, and the file is locked while it is
    written, so that `remove_stale_temporaries` can tell a killed run's leftovers
    from a live run's.
    """
    path = Path(path)
    fd, created = _create(path.parent, path.name, path.suffix, _new_file)
    try:
        temporary = _locked_as_temporary(fd, created)
    except BaseException:
        os.close(fd)
        created.unlink()
        raise
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
        os.close(fd)  # the lock goes with it


def _locked_as_temporary(fd: int, created: Path) -> Path:
    """Lock `created` (opened as `fd`) for as long as `fd` is open, then give it the name of
    a live temporary: a cleaner never sees that name unlocked while its writer lives."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # a file system without locks: it stays named as being created
        return created
    temporary = created.with_name(created.name.replace(".new-", ".tmp-", 1))  # same check
    os.rename(created, temporary)
    return temporary


def write_version(base: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Add a version to the folder `base`: `write(folder)` fills a new hidden folder, which,
    once complete and flushed to disk, is renamed to the next number; return that folder.

    Readers see only numbered folders, so they see this version whole or not at all.
    Two writers at once each get their own number. If `write` fails, its folder is
    removed; if the process is killed, the kernel releases its lock on the folder, and
    the next writer removes it. The newest `KEEP_VERSIONS` versions are kept, and any
    older one that a reader holds or that is read-only.
    """
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(base)
    with _hidden_folder(base, "version") as partial:
        write(partial)
        _fsync_tree(partial)
        version = _publish(partial, base)
    try:
        _prune_versions(base, KEEP_VERSIONS)
    except OSError:  # the new version is saved; an old one left behind does no harm
        pass
    return version


def write_folder(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Write the folder `path` whole: `write(folder)` fills a new hidden folder beside it,
    which, once complete and flushed to disk, takes the place of `path` (an existing
    `path` is removed: the caller decides whether it may be). If `write` fails, or the
    process is killed, `path` is as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    with _hidden_folder(path.parent, path.name) as partial:
        write(partial)
        _fsync_tree(partial)
        if path.exists():  # the old one moves aside under a temporary's name, then goes
            old = path.with_name(temporary_name(path.name))
            os.rename(path, old)
            os.rename(partial, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(partial, path)
        _fsync_folder(path.parent)
    return path


@contextmanager
def scratch_folder(parent: str | os.PathLike[str], name: str) -> Iterator[Path]:
    """A hidden folder in `parent` for the block's work, removed when the block ends,
    however it ends (a killed run's: by the next cleaner, being unlocked)."""
    with _hidden_folder(Path(parent), name) as folder:
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _hidden_folder(parent: Path, name: str) -> Iterator[Path]:
    """A new hidden folder in `parent` for the block to fill and rename into place, locked
    while the block runs (a cleaner takes an unlocked one for a dead run's) and removed
    if the block fails."""
    fd, created = _create(parent, name, "", _new_folder)
    partial = created
    try:
        partial = _locked_as_temporary(fd, created)
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        os.close(fd)


KEEP_VERSIONS = 3  # older versions are removed, unless a reader holds them or they are read-only


def versions(base: str | os.PathLike[str]) -> list[int]:
    """The version numbers in `base`, lowest first: its folders named by a whole number."""
    try:
        entries = list(os.scandir(base))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(int(e.name) for e in entries
                  if is_version_name(e.name) and e.is_dir(follow_symlinks=False))  # fmt: skip


def is_version_name(name: str) -> bool:
    """Whether `name` numbers a version: a whole number, as TensorFlow Serving reads it."""
    return _VERSION.match(name) is not None


_VERSION = re.compile(r"^[1-9][0-9]{0,17}$")  # TensorFlow Serving's numbers: int64, no sign


@contextmanager
def reading_version(folder: str | os.PathLike[str]) -> Iterator[bool]:
    """Hold `folder` (a version) while reading it: writers do not remove it meanwhile.
    Yields whether it is still there (False: a writer removed it just before)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        yield False
        return
    except OSError:  # not ours to open: reading it says what is wrong, in one sentence
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        except OSError:  # a file system without locks: read it unheld
            pass
        yield os.path.isdir(folder)  # removal renames it away first
    finally:
        os.close(fd)


def _publish(partial: Path, base: Path) -> Path:
    """Rename `partial` to the lowest free number above every version in `base`."""
    number = max(versions(base), default=0) + 1
    while True:
        version = base / str(number)
        try:
            os.rename(partial, version)  # refused if another writer took the number
        except OSError as err:
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR):
                raise
            number = max(number, *versions(base)) + 1
            continue
        try:
            _fsync_folder(base)  # the rename itself, to disk
        except OSError:  # the version is there for readers now: not a failed save
            pass
        return version


def _prune_versions(base: Path, keep: int) -> None:
    """Remove all but the newest `keep` versions, skipping any a reader holds (serve.py holds
    the one it serves) and any that cannot be removed whole (made read-only, say)."""
    for number in versions(base)[:-keep]:
        folder = base / str(number)
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue  # another writer removed it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if not _removable(folder):
                continue  # kept whole and in view, rather than half removed
            # Out of readers' view at once; held until it is gone, so that no cleaner
            # takes it for a dead run's meanwhile, and removed by the next save if this
            # one dies half way.
            doomed = base / temporary_name(str(number))
            os.rename(folder, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        except OSError:
            continue  # a reader holds it, or another writer is removing it
        finally:
            os.close(fd)


def _removable(folder: Path) -> bool:
    """Whether this process may delete everything under `folder`: every folder in it writable."""
    for parent, _, _ in os.walk(folder):
        if not os.access(parent, os.W_OK | os.X_OK):
            return False
    return True


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder under `folder` to disk: a power cut keeps them whole."""
    for parent, _, names in os.walk(folder):
        for name in names:
            _fsync(os.path.join(parent, name))
        _fsync_folder(Path(parent))


def _fsync_folder(folder: Path) -> None:
    _fsync(folder, os.O_DIRECTORY)


def _fsync(path: str | os.PathLike[str], flags: int = 0) -> None:
    fd = os.open(path, os.O_RDONLY | flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: str | os.PathLike[str], data: dict) -> None:
    """Save `data` as readable JSON, atomically (NumPy scalars as the numbers they hold)."""
    text = json.dumps(data, indent=2, default=_to_builtin) + "\n"
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _to_builtin(value: object) -> object:
    import numpy as np  # only for a value json cannot write itself

    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


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


# One bound for a line of any file of texts, wherever it is read (training, predict.py,
# a corpus): a line, or a quoted CSV field spanning lines, of more is not a text.
MAX_LINE_BYTES = 16 * 2**20


class BadLine(ValueError):
    """A line `utf8_lines` refuses: its number, what is wrong as a phrase, whether it is
    too long (else it is not UTF-8), and whether that goes for the whole file (a UTF-16
    or UTF-32 file, whose every line would be read as garbage)."""

    def __init__(self, number: int, reason: str, too_long: bool, whole_file: bool = False) -> None:
        super().__init__(f"line {number:,} {reason}")
        self.number, self.reason, self.too_long = number, reason, too_long
        self.whole_file = whole_file


# Byte-order marks of the encodings that are not UTF-8, longest first (UTF-32's begins as UTF-16's).
_OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
               (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))  # fmt: skip


def utf8_lines(stream: BinaryIO, max_bytes: int) -> Iterator[tuple[int, str]]:
    """(number, text) of each line of a binary stream, decoded from UTF-8, its line end
    kept; a byte-order mark before the first is dropped. A line of more than `max_bytes`
    (its end not counted) is refused unread, and so is one that is not UTF-8: BadLine."""
    number = offset = 0  # offset: of the line's first byte, to point at a bad byte
    while raw := stream.readline(max_bytes + 2):  # room for \r\n after max_bytes
        number += 1
        yield number, decoded_line(raw, number, max_bytes, offset)
        offset += len(raw)


def decoded_line(raw: bytes, number: int, max_bytes: int, offset: int = 0) -> str:
    """Line `number` of a file, the bytes `raw` read from `offset`, as text (see utf8_lines);
    BadLine if it is longer than `max_bytes` or not UTF-8."""
    if number == 1:
        encoding = next((name for bom, name in _OTHER_BOMS if raw.startswith(bom)), None)
        if encoding:  # its every line would be read as garbage: say so once
            reason = (
                f"starts with the byte-order mark of {encoding}: the file is {encoding}, not UTF-8"
            )
            raise BadLine(number, reason, too_long=False, whole_file=True)
    if len(raw.rstrip(b"\r\n")) > max_bytes:
        raise BadLine(number, f"is longer than {max_bytes / 2**20:g} MiB", too_long=True)
    try:
        return raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as err:
        raise BadLine(
            number,
            f"is not UTF-8 (byte {raw[err.start]:#04x} at column {err.start + 1:,}, "
            f"offset {offset + err.start:,})",
            too_long=False,
        ) from None


class ChunkLines:
    """`readline(limit)` over any `read(size)`: a file descriptor read with no lock held (a
    stream's reader thread, which a signal must be able to leave at any time), or a
    decompressing stream whose own readline has no limit (a corpus file of any size)."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self.read, self.pending, self.ended = read, bytearray(), False

    def readline(self, limit: int) -> bytes:
        """The next line with its line feed, at most `limit` bytes; b"" at the end."""
        searched = 0
        while True:
            end = self.pending.find(b"\n", searched, limit)
            if end >= 0 or len(self.pending) >= limit or self.ended:
                size = end + 1 if end >= 0 else min(limit, len(self.pending))
                line = bytes(self.pending[:size])
                del self.pending[:size]
                return line
            searched = len(self.pending)
            chunk = self.read(1 << 16)
            self.ended = not chunk
            self.pending += chunk


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, read a MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files and folders of runs that are gone (SIGKILL, a power cut,
    another container's run that died): those whose name proves them this project's and
    that no live process holds a lock on. Nothing else is touched."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        phase = _ours(entry.name)
        if phase is None or (phase == "new" and not _older_than(entry, CREATING_SECONDS)):
            continue
        try:
            is_folder = entry.is_dir(follow_symlinks=False)
            fd = os.open(entry.path, os.O_RDONLY | (os.O_DIRECTORY if is_folder else 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # refused: its writer is alive
            if is_folder:  # an unfinished version, or an old one half removed
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _older_than(entry: os.DirEntry, seconds: float) -> bool:
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > seconds
    except OSError:
        return False


def short_reason(err: BaseException, limit: int = 160) -> str:
    """An exception as a short phrase for a one-sentence error: its first line, capped."""
    text = str(err).splitlines()[0].rstrip(":. ") if str(err).strip() else ""
    return text[:limit] or type(err).__name__


# ## Compressed files: every byte before the damage


class Damaged(Exception):
    """A compressed file that is cut short, corrupt, or followed by what is not its format."""


class _Decoder(Protocol):
    eof: bool
    unused_data: bytes

    def decompress(self, data: bytes) -> bytes: ...


def _zstd() -> _Decoder:
    import zstandard  # installed with Beam; imported only for a .zst file

    return zstandard.ZstdDecompressor(max_window_size=2**31).decompressobj()


DECODERS: dict[str, Callable[[], _Decoder]] = {  # by suffix: every compression read
    ".gz": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    ".deflate": zlib.decompressobj,  # zlib's format, as Beam writes it
    ".bz2": bz2.BZ2Decompressor, ".xz": lzma.LZMADecompressor, ".lzma": lzma.LZMADecompressor,
    ".zst": _zstd, ".zstd": _zstd,
}  # fmt: skip
PIECE = 1024  # compressed bytes decoded at a time: what a corrupt piece may take with it


def compression(name: str) -> str | None:
    """The suffix of DECODERS that `name` ends with (".gz" for reviews.csv.gz), or None."""
    return next((s for s in DECODERS if name.lower().endswith(s)), None)


class Decompressed:
    """`read(size)` of the bytes a compressed file holds, decoded a piece at a time, so that
    everything before damage is read (Python's gzip, bz2 and lzma readers lose the block
    being read; Beam's end a cut file silently). Then Damaged: a file cut short, data that
    does not decode, or bytes after the last stream that start none. A file may hold
    several streams one after another, as `cat a.gz b.gz` makes."""

    def __init__(self, raw: BinaryIO, suffix: str) -> None:
        self.raw, self.new = raw, DECODERS[suffix]
        self.decoder, self.fed = self.new(), False  # fed: the stream has begun
        self.streams = 0  # how many have ended
        self.decoded = False  # whether the stream being read has given any byte
        self.pending, self.left = bytearray(), b""  # decoded and not yet read; raw, to decode
        self.error: Damaged | None = None
        self.ended = False
        self.zero_padded = suffix == ".gz"  # gzip(1) ignores zero bytes after the last member

    def read(self, size: int) -> bytes:
        while len(self.pending) < size and not self.ended and self.error is None:
            self._decode_piece()
        if not self.pending and self.error is not None:
            raise self.error
        data = bytes(self.pending[:size])
        del self.pending[:size]
        return data

    def _decode_piece(self) -> None:
        data, self.left = self.left or self.raw.read(PIECE), b""
        if not data:
            self.ended = True
            if self.fed and not self.decoder.eof:
                self.error = Damaged("it ends in the middle of its compressed data")
            return
        if self.decoder.eof:  # a stream has ended: what follows must begin another
            if self.zero_padded and not data.strip(b"\0"):
                return
            self.decoder, self.fed, self.decoded = self.new(), False, False
        copy = getattr(self.decoder, "copy", None)
        before = copy() if copy else None  # zlib's: to find the first bad byte
        self.fed = True
        try:
            decoded = self.decoder.decompress(data)
            self.pending += decoded
            self.decoded |= bool(decoded)
        except Exception as err:  # zlib.error, OSError, LZMAError, ZstdError: all mean damage
            if before is not None:  # what decodes of this piece, byte by byte, up to the bad one
                for i in range(len(data)):
                    try:
                        self.pending += before.decompress(data[i : i + 1])
                    except Exception:
                        break
            self.error = Damaged(
                "what follows its compressed data is not more of it"
                if self.streams and not self.decoded
                else f"its compressed data is corrupt ({short_reason(err)})"
            )
            return
        if self.decoder.eof:
            self.streams += 1
            self.left = self.decoder.unused_data
