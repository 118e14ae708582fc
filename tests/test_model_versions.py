"""A trained model is one folder, saved whole or not at all (common.files.write_version, as
Training.finish uses it): interrupted, killed, on a full disk, with two writers at once,
and with a reader polling while versions are replaced."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import common

import pytest
from conftest import ROOT, check_model_set, files_in, printed_accuracy, tiny_training


@pytest.fixture(scope="module")
def first_version(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete version 1 of the tiny model, saved by Training.finish; tests copy it."""
    out = tmp_path_factory.mktemp("first")
    save = tiny_training(out, seed=1)
    save()
    return out / "tiny"


@pytest.fixture(scope="module")
def first_sha256(first_version: Path) -> str:
    """The sha256 of version 1's model file, once checked as a whole set."""
    return check_model_set(first_version / "1")


def interrupt(monkeypatch: pytest.MonkeyPatch, target: str, when: str, error: BaseException):
    """Make the function `target` (module.name) raise `error` before or after it runs."""
    module, name = target.rsplit(".", 1)
    original = getattr(sys.modules[module], name)

    def interrupted(*args, **kwargs):
        if when == "before":
            raise error
        original(*args, **kwargs)
        raise error

    monkeypatch.setattr(sys.modules[module], name, interrupted)


# The steps of saving a version, in order; SIGTERM arrives as KeyboardInterrupt (common.run).
# Stopping before the plot, the metrics or the flush leaves what stopping after the export
# does (files written, the folder not renamed), so those three stand for them.
SAVING_STEPS = [
    ("common.saving.file_sha256", "after"),  # the model file is written
    ("common.training.export_text_model", "before"),  # the encoding file is written
    ("common.training.export_text_model", "after"),  # the export is written
    ("common.files._fsync_tree", "after"),  # everything is written and on disk
    ("common.files._publish", "before"),  # the rename
]


@pytest.mark.parametrize(("target", "when"), SAVING_STEPS)
def test_a_run_stopped_at_any_step_of_saving_leaves_the_previous_version(
    first_version: Path, first_sha256: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    target: str, when: str,
) -> None:  # fmt: skip
    shutil.copytree(first_version, tmp_path / "tiny")
    old = first_sha256
    save = tiny_training(tmp_path, seed=2)
    interrupt(monkeypatch, target, when, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        save()
    monkeypatch.undo()
    assert common.files.versions(tmp_path / "tiny") == [1]
    assert files_in(tmp_path / "tiny") == files_in(first_version)  # nothing half-written left
    assert check_model_set(common.find_model("tiny", tmp_path).folder) == old


def test_a_run_stopped_after_the_rename_leaves_the_new_version(
    first_version: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(first_version, tmp_path / "tiny")
    save = tiny_training(tmp_path, seed=2)
    interrupt(monkeypatch, "common.files._prune_versions", "before", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        save()
    assert common.files.versions(tmp_path / "tiny") == [1, 2]
    assert check_model_set(common.find_model("tiny", tmp_path).folder) != check_model_set(
        tmp_path / "tiny" / "1"
    )


@pytest.mark.parametrize(
    ("error", "advice"),
    [(OSError(errno.ENOSPC, "No space left on device"), "free some space"),
     (OSError(errno.EACCES, "Permission denied"), "check who may write there")],
)  # fmt: skip
def test_a_failed_save_is_one_sentence_that_names_its_cause(
    first_version: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
    error: OSError, advice: str,
) -> None:  # fmt: skip
    shutil.copytree(first_version, tmp_path / "tiny")
    save = tiny_training(tmp_path, seed=2)
    interrupt(monkeypatch, "common.saving.file_sha256", "before", error)
    with pytest.raises(common.UserError) as raised:
        save()
    message = str(raised.value)
    assert error.strerror in message and advice in message
    assert ("free some space" in message) == (error.errno == errno.ENOSPC)
    assert printed_accuracy(capsys.readouterr().err)  # the figure is not lost
    assert files_in(tmp_path / "tiny") == files_in(first_version)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A tmpfs at a fresh folder (mounting needs root), holding a copy of a folder and then
    exactly `room` bytes more; unmounted afterwards."""
    mounted = []

    def mount(copy: Path, room: int) -> Path:
        disk = tmp_path / f"disk{len(mounted)}"
        disk.mkdir()
        command = ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            pytest.skip(f"cannot mount a small disk (root only): {result.stderr[-200:]}")
        mounted.append(disk)
        shutil.copytree(copy, disk / copy.name)
        disk_stat = os.statvfs(disk)
        used = (disk_stat.f_blocks - disk_stat.f_bfree) * disk_stat.f_frsize
        subprocess.run(["mount", "-o", f"remount,size={used + room}", str(disk)], check=True)
        return disk

    yield mount
    for disk in mounted:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.slow
def test_a_full_disk_at_several_sizes_keeps_a_whole_version(
    first_version: Path, first_sha256: str, small_disk, capsys
) -> None:
    """The disk fills while the model file (12 KiB left), the export (TensorFlow's own error,
    120 KiB) or the plot (260 KiB) is written; with room enough the new version is saved."""
    for room in (12 << 10, 120 << 10, 260 << 10, 4 << 20):
        disk = small_disk(first_version, room)
        old = first_sha256
        save = tiny_training(disk, seed=2)
        if room < 1 << 20:
            with pytest.raises(common.UserError, match="free some space"):
                save()
            assert printed_accuracy(capsys.readouterr().err)
            assert files_in(disk / "tiny") == files_in(first_version), room
            assert check_model_set(common.find_model("tiny", disk).folder) == old
        else:
            save()
            assert common.files.versions(disk / "tiny") == [1, 2]
            assert check_model_set(disk / "tiny" / "2") != old


# A version being written by a process that is then killed (SIGKILL: no clean-up of any kind
# runs): common/files.py loaded alone, which needs nothing but the standard library.
KILLED_WRITER = """
import importlib.util, os, signal, sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("files", sys.argv[1])
files = importlib.util.module_from_spec(spec)
spec.loader.exec_module(files)

def write(folder):
    (folder / "model.keras").write_bytes(b"half a model")
    os.kill(os.getpid(), signal.SIGKILL)

files.write_version(Path(sys.argv[2]), write)
"""


def test_a_killed_run_leaves_the_previous_version_and_a_folder_marked_for_clean_up(
    first_version: Path, first_sha256: str, tmp_path: Path
) -> None:
    shutil.copytree(first_version, tmp_path / "tiny")
    old = first_sha256
    command = [sys.executable, "-c", KILLED_WRITER, str(ROOT / "common" / "files.py"),
               str(tmp_path / "tiny")]  # fmt: skip
    result = subprocess.run(command, capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    left = [p.name for p in (tmp_path / "tiny").iterdir() if p.name != "1"]
    assert len(left) == 1 and re.match(r"^\.version\.tmp-", left[0]), left
    assert check_model_set(common.find_model("tiny", tmp_path).folder) == old

    save = tiny_training(tmp_path, seed=3)  # the next run cleans it up
    save()
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == ["1", "2"]


def test_two_runs_at_once_each_save_a_whole_version(
    first_version: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first stalls between its model file and its export while the second saves all.
    (Threads of one process: a rename and a lock act across threads as across processes.)"""
    shutil.copytree(first_version, tmp_path / "tiny")
    stalled, go = threading.Event(), threading.Event()
    export = common.training.export_text_model

    def stalling_export(*args) -> None:
        if threading.current_thread().name == "first":
            stalled.set()
            assert go.wait(timeout=120)
        export(*args)

    monkeypatch.setattr(common.training, "export_text_model", stalling_export)
    first_run, second_run = tiny_training(tmp_path, seed=2), tiny_training(tmp_path, seed=3)
    failures = []

    def first_finish() -> None:
        try:
            first_run()
        except BaseException as err:  # seen by the test below
            failures.append(err)

    first = threading.Thread(target=first_finish, name="first")
    first.start()
    try:
        assert stalled.wait(timeout=120), failures
        second_run()  # the second, whole, while the first waits
    finally:
        go.set()
        first.join()
    assert not failures, failures
    base = tmp_path / "tiny"
    assert common.files.versions(base) == [1, 2, 3]
    for version, seed in ((2, 3), (3, 2)):  # numbered in the order they were complete
        check_model_set(base / str(version))
        assert json.loads((base / str(version) / "metrics.json").read_text())["runs"][0]["seed"] \
            == seed  # fmt: skip
    assert not [p for p in base.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_a_reader_polling_while_versions_are_replaced_always_sees_a_whole_one(
    first_version: Path, tmp_path: Path
) -> None:
    """Two runs save a version each while a reader loads the newest, over and over."""
    shutil.copytree(first_version, tmp_path / "tiny")
    base = tmp_path / "tiny"
    runs = [tiny_training(tmp_path, seed=seed) for seed in (2, 3)]
    failures = []

    def replace() -> None:
        try:
            for version, save in enumerate(runs, start=2):
                save()
                # The next waits until the reader has loaded this one (a loaded machine
                # could otherwise write both between two of its polls).
                deadline = time.monotonic() + 60
                while max(seen, default=0) < version and time.monotonic() < deadline:
                    time.sleep(0.05)
        except BaseException as err:  # seen by the test below
            failures.append(err)

    seen: list[int] = []
    replacing = threading.Thread(target=replace)
    replacing.start()
    while replacing.is_alive():
        folder = common.find_model("tiny", tmp_path).folder
        with common.files.reading_version(folder) as present:
            if present:  # held: the writer's clean-up does not remove it meanwhile
                check_model_set(folder)
                seen.append(int(folder.name))
        time.sleep(0.2)  # a poll five times a second leaves the writer its share
    replacing.join()
    assert not failures, failures
    assert len(set(seen)) >= 2, seen  # it saw versions being replaced
    assert seen == sorted(seen)  # and never an older one after a newer
    assert common.files.versions(base) == [1, 2, 3]
    check_model_set(base / "3")
