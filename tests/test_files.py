"""Output files are written whole or not at all."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import common

import pytest
from conftest import assert_one_sentence_error, files_in
from matplotlib.figure import Figure


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    common.report.write_json(path, {"accuracy": 0.9})
    with pytest.raises(TypeError):
        common.report.write_json(path, {"accuracy": object()})  # cannot be written as JSON
    assert json.loads(path.read_text()) == {"accuracy": 0.9}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_files_get_the_usual_permissions_not_those_of_a_temporary_file(tmp_path: Path) -> None:
    figure = Figure()
    figure.subplots().plot([1, 2], [3, 4])
    umask = os.umask(0o022)  # the common default: files readable by everyone
    try:
        common.report.save_figure(figure, tmp_path / "plot.png")
    finally:
        os.umask(umask)
    assert (tmp_path / "plot.png").stat().st_mode & 0o777 == 0o644


def test_an_error_while_writing_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "cnn.keras"
    path.write_bytes(b"the old model")
    with pytest.raises(OSError), common.files.atomic_path(path) as temporary:
        temporary.write_bytes(b"half of a new mod")
        raise OSError("disk full")
    assert path.read_bytes() == b"the old model"
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.keras"]


def test_only_the_temporary_files_of_dead_processes_are_removed(tmp_path: Path) -> None:
    name = common.files.temporary_name
    dead = tmp_path / name("cnn.keras", suffix=".keras")  # no process holds it: a killed run's
    young = tmp_path / name("lstm.keras", "new", ".keras")  # being created this very moment
    other = tmp_path / ".notes.txt"  # not a temporary file of this project
    for path in (dead, young, other):
        path.write_bytes(b"...")
    with common.files.atomic_path(tmp_path / "mlp.keras") as alive:  # this one is writing it
        alive.write_bytes(b"...")
        assert common.files.remove_stale_temporaries(tmp_path) == [dead]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [alive.name, young.name, other.name]
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["mlp.keras", young.name, other.name]
    )


def test_files_and_folders_named_like_temporaries_by_a_person_are_kept(tmp_path: Path) -> None:
    hours_ago = time.time() - 7200
    names = [
        ".venv.new-py312",
        ".photos.tmp-2024",
        ".env.new-prod",
        ".notes.tmp-draft.txt",
        ".bashrc.tmp-backup",
        ".gitconfig.new-2",
        ".cnn.keras.tmp999999999-k3j4.keras",
        ".a.tmp-0123456789ab01234567.keras",
    ]  # fmt: skip (the last: 20 hex digits, no check)
    for name in names[:2]:  # folders, with what they hold
        (tmp_path / name / "lib").mkdir(parents=True)
    for name in names[2:]:
        (tmp_path / name).write_text("mine")
    for name in names:
        os.utime(tmp_path / name, (hours_ago, hours_ago))
    assert common.files.remove_stale_temporaries(tmp_path) == []
    common.files.write_folder(tmp_path / "page", lambda folder: (folder / "index.html").touch())
    with common.files.atomic_path(tmp_path / "report.html") as path:
        path.write_text("<p>")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names, "page", "report.html"])


# A writer in another process (another container, as far as its id goes): it holds its
# temporary folder as write_version does until its standard input closes.
OTHER_WRITER = """
import fcntl, os, sys
folder = sys.argv[1]
os.mkdir(folder)
fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("holding", flush=True)
sys.stdin.read()
"""


def test_a_save_in_progress_elsewhere_is_kept_whatever_its_process_id(tmp_path: Path) -> None:
    """A process id means nothing across containers (PID namespaces): a writer whose id is
    not alive here keeps its folder for as long as it lives, and it goes once it has died."""
    import subprocess
    import sys

    base = tmp_path / "cnn"
    base.mkdir()
    other = base / common.files.temporary_name("version")  # a writer not of this process
    writer = subprocess.Popen([sys.executable, "-c", OTHER_WRITER, str(other)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert writer.stdout.readline() == "holding\n"
        common.files.write_version(base, write_text("ours"))  # cleans the folder first
        assert other.is_dir()
    finally:
        writer.kill()
        writer.wait()
    common.files.write_version(base, write_text("ours again"))
    assert not other.exists()
    assert common.files.versions(base) == [1, 2]


def test_a_save_in_another_pid_namespace_is_kept(tmp_path: Path) -> None:
    """The same with a real PID namespace (`unshare --pid`), where the writer is process 1."""
    import shutil
    import subprocess
    import sys

    unshare = shutil.which("unshare")
    if not unshare or subprocess.run([unshare, "--pid", "--fork", "true"],
                                     capture_output=True).returncode:  # fmt: skip
        pytest.skip("unshare --pid is not allowed here")
    base = tmp_path / "cnn"
    base.mkdir()
    other = base / common.files.temporary_name("version")  # its writer is process 1 there
    writer = subprocess.Popen(
        [unshare, "--pid", "--fork", sys.executable, "-c",
         OTHER_WRITER.replace("folder = sys.argv[1]", f"folder = {str(other)!r}")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout.readline() == "holding\n"
        common.files.write_version(base, write_text("ours"))
        assert other.is_dir()
    finally:
        writer.stdin.close()
        writer.wait()
    common.files.write_version(base, write_text("ours again"))
    assert not other.exists()


def test_loading_the_data_cleans_the_cache_folder(tmp_path: Path) -> None:
    from conftest import learnable_reviews, write_dataset

    folder = write_dataset(tmp_path / "data", learnable_reviews(per_folder=2))
    cache = tmp_path / "cache"
    cache.mkdir()
    leftover = cache / common.files.temporary_name("imdb_local_0123.npz", suffix=".npz")
    leftover.write_bytes(b"half a cache")
    common.data.load_imdb(folder, cache_dir=cache)
    assert not leftover.exists()


def test_a_killed_runs_temporary_files_are_cleaned_up(run_here, tmp_path: Path) -> None:
    dead = tmp_path / common.files.temporary_name("mlp.keras", suffix=".keras")  # no one holds it
    dead.write_bytes(b"half a model")
    # The output folder is cleaned when it is checked, before the data is even looked at.
    result = run_here("train_mlp.py", "--data", tmp_path / "nowhere", "--output-dir", tmp_path)
    assert_one_sentence_error(result, "no such file or folder")
    assert not dead.exists()
    assert not [name for name in files_in(tmp_path) if name.startswith(".")]


def write_text(text: str):
    """A `write` for write_version: one file holding `text`."""
    return lambda folder: (folder / "model.txt").write_text(text)


def test_versions_are_numbered_and_the_oldest_are_removed(tmp_path: Path) -> None:
    base = tmp_path / "cnn"
    made = [common.files.write_version(base, write_text(f"run {n}")) for n in range(1, 6)]
    assert [p.name for p in made] == ["1", "2", "3", "4", "5"]
    kept = common.files.KEEP_VERSIONS
    assert common.files.versions(base) == list(range(6 - kept, 6))
    assert (base / "5" / "model.txt").read_text() == "run 5"
    assert sorted(p.name for p in base.iterdir()) == [str(n) for n in range(6 - kept, 6)]
    umask = os.umask(0)
    os.umask(umask)
    assert (base / "5").stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's 0700


def test_a_failed_write_leaves_no_version_and_no_folder(tmp_path: Path) -> None:
    base = tmp_path / "cnn"
    common.files.write_version(base, write_text("the old one"))

    def fail(folder: Path) -> None:
        (folder / "model.txt").write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        common.files.write_version(base, fail)
    assert files_in(base) == ["1", "1/model.txt"]


def test_a_version_being_read_is_not_removed(tmp_path: Path) -> None:
    base = tmp_path / "cnn"
    common.files.write_version(base, write_text("read for a long time"))
    with common.files.reading_version(base / "1") as present:
        assert present
        for n in range(common.files.KEEP_VERSIONS + 1):
            common.files.write_version(base, write_text(f"run {n}"))
        assert (base / "1" / "model.txt").read_text() == "read for a long time"
    common.files.write_version(base, write_text("after"))  # now it goes
    assert 1 not in common.files.versions(base)
    with common.files.reading_version(base / "1") as present:
        assert not present


def test_writers_at_the_same_moment_each_get_their_own_number(tmp_path: Path) -> None:
    import threading

    base = tmp_path / "cnn"
    together = threading.Barrier(6)
    made: dict[int, Path] = {}

    def writer(n: int) -> None:
        def write(folder: Path) -> None:
            (folder / "model.txt").write_text(f"writer {n}")
            together.wait(timeout=30)  # every writer renames at once

        made[n] = common.files.write_version(base, write)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(int(p.name) for p in made.values()) == [1, 2, 3, 4, 5, 6]
    for n, folder in made.items():
        if folder.exists():
            assert (folder / "model.txt").read_text() == f"writer {n}"
    assert not [p for p in base.iterdir() if p.name.startswith(".")]


def test_an_old_version_that_cannot_be_deleted_does_not_stop_a_save(tmp_path: Path) -> None:
    """An immutable file in the oldest version (chattr +i): the new version is saved all the
    same; the old one leaves the numbered versions, and what cannot be deleted stays hidden."""
    import subprocess

    base = tmp_path / "cnn"
    for n in range(common.files.KEEP_VERSIONS):
        common.files.write_version(base, write_text(f"run {n}"))
    stuck = base / "1" / "model.txt"
    if subprocess.run(["chattr", "+i", str(stuck)], capture_output=True).returncode:
        pytest.skip("chattr +i needs root and a file system that supports it")
    try:
        common.files.write_version(base, write_text("the newest"))
        assert common.files.versions(base) == [2, 3, 4]
        assert (base / "4" / "model.txt").read_text() == "the newest"
        hidden = [p for p in base.iterdir() if p.name.startswith(".")]
        assert len(hidden) == 1 and (hidden[0] / "model.txt").read_text() == "run 0"
        stuck = hidden[0] / "model.txt"
    finally:
        subprocess.run(["chattr", "-i", str(stuck)])


def test_a_read_only_version_is_kept_in_view(tmp_path: Path) -> None:
    """`chmod -R a-w outputs/bow/1` as a user who is not root, then three more saves: the
    version stays whole under its number (it cannot be removed whole), and nothing hides."""
    import stat

    base = tmp_path / "bow"
    common.files.write_version(base, write_text("the one I keep"))
    common.files.write_version(base, write_text("run 2"))
    for path in (base / "1" / "model.txt", base / "1"):
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    if os.getuid() == 0:  # root may delete anything: the saves run as nobody
        for path in (*tmp_path.parents, tmp_path, base, base / "2"):
            if path.stat().st_uid == 0 and path != Path("/"):
                path.chmod(path.stat().st_mode | 0o005)  # nobody may look in
        for path in (base, base / "2", base / "2" / "model.txt"):
            path.chmod(0o777)
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's figures come back in its exit code)
        try:
            if os.getuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            for n in range(3):
                common.files.write_version(base, write_text(f"run {n + 3}"))
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    (base / "1").chmod(0o755)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(p.name for p in base.iterdir()) == ["1", "3", "4", "5"]
    assert (base / "1" / "model.txt").read_text() == "the one I keep"


def test_utf8_lines_bound_each_line_and_name_a_bad_byte() -> None:
    """One line reader for every file of lines: a byte-order mark dropped, a line of the
    limit kept with its end (\\n or \\r\\n), one byte more refused, a bad byte named."""
    import io

    from common.files import BadLine, utf8_lines

    text = "\ufeffab\r\n" + "c" * 8 + "\r\n" + "d" * 8 + "\n"
    lines = list(utf8_lines(io.BytesIO(text.encode("utf-8")), 8))
    assert lines == [(1, "ab\r\n"), (2, "c" * 8 + "\r\n"), (3, "d" * 8 + "\n")]
    with pytest.raises(BadLine, match="line 2 is longer than"):
        list(utf8_lines(io.BytesIO(b"ok\n" + b"e" * 9 + b"\n"), 8))
    with pytest.raises(BadLine, match=r"line 2 is not UTF-8 \(byte 0xe9 at column 2, offset 4\)"):
        list(utf8_lines(io.BytesIO(b"ok\na\xe9b\n"), 8))
