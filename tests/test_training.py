"""common/training.py: seeds, dry runs, validation splits and saving, through the scripts."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    ONE_THREAD,
    ROOT,
    assert_one_sentence_error,
    check_model_set,
    copy_model,
    files_in,
    limit_file_size,
    printed_accuracy,
    tiny_training,
)

import common


def test_several_seeds_report_each_figure_and_their_mean_and_deviation(
    tmp_path: Path, tiny_archive: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import train_mlp

    common_args = ["--data", str(tiny_archive), "--epochs", "1", "--validation-split", "0"]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    # In this process: the fresh-process runs are tested above and on the real reviews.
    train_mlp.main([*common_args, "--seeds", "7,8", "--output-dir", str(tmp_path)])
    stdout = capsys.readouterr().out
    lines = stdout.rstrip().splitlines()
    seeds = dict(re.findall(r"^Seed (\d+): accuracy (\d+\.\d\d)%$", stdout, re.MULTILINE))
    assert "=== Seed 8 (2 of 2)" in stdout  # each seed's training under a heading
    assert list(seeds) == ["7", "8"]
    summary = re.match(
        r"^Accuracy: (\d+\.\d\d)% ± (\d+\.\d\d)% \(mean ± standard deviation over 2 seeds\)$",
        lines[-1],
    )
    assert summary, lines[-1]

    metrics = json.loads((tmp_path / "mlp" / "1" / "metrics.json").read_text())
    per_seed = np.array(metrics["test_accuracies"]) * 100
    assert [f"{a:.2f}" for a in per_seed] == list(seeds.values())
    assert float(summary.group(1)) == pytest.approx(per_seed.mean(), abs=0.005)
    assert float(summary.group(2)) == pytest.approx(per_seed.std(ddof=1), abs=0.005)
    assert metrics["test_accuracy_std"] * 100 == pytest.approx(per_seed.std(ddof=1))
    assert [run["seed"] for run in metrics["runs"]] == [7, 8]

    # A seed gives the same figure whether it runs after others or by itself (here in the
    # same process, after them: setting the seed resets every generator).
    train_mlp.main([*common_args, "--seed", "8", "--output-dir", str(tmp_path / "8")])
    assert f"{printed_accuracy(capsys.readouterr().out):.2f}" == seeds["8"]


def test_the_same_seed_gives_the_same_weights(
    tmp_path: Path, tiny_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import train_cnn

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    # Only the weights matter here: skip the SavedModel export (seconds each; tested elsewhere).
    monkeypatch.setattr("common.training.export_text_model", lambda *args: None)

    def weights(seed: int, run: str) -> list[np.ndarray]:
        args = ["--data", str(tiny_folder), "--output-dir", str(tmp_path / run)]
        return train_cnn.main([*args, "--seed", str(seed), "--epochs", "2"]).get_weights()

    first, again, other = weights(7, "a"), weights(7, "b"), weights(8, "c")
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_a_validation_split_that_leaves_nothing_to_learn_from(run_here, tmp_path, tiny_folder):
    out = tmp_path / "out"
    args = ["--data", tiny_folder, "--output-dir", out, "--dry-run"]
    result = run_here("train_mlp.py", *args, "--validation-split", "0.999")
    assert_one_sentence_error(result, "leaves 0 to learn from")
    assert not out.exists(), "a failed run leaves no empty folder behind"


def test_a_dry_run_never_replaces_real_results(run_script, tmp_path, tiny_folder) -> None:
    result = run_script(
        "train_mlp.py", "--data", tiny_folder, "--output-dir", tmp_path, "--dry-run"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert all(name.split("/")[0] == "dry_run" for name in files_in(tmp_path))
    assert (tmp_path / "dry_run" / "mlp" / "1" / "metrics.json").exists()


def test_a_full_disk_at_save_time_keeps_the_old_version(trained, tmp_path, tiny_folder) -> None:
    old = copy_model(trained, tmp_path / "out" / "cnn" / "1").parent
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    command = [sys.executable, str(ROOT / "train_cnn.py"), "--data", str(tiny_folder),
               "--output-dir", str(tmp_path / "out"), "--seed", "8"]  # fmt: skip
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                            preexec_fn=limit_file_size, stdin=subprocess.DEVNULL)  # fmt: skip
    assert_one_sentence_error(result, "cannot save the model in")
    assert "free some space" in result.stderr
    assert "Accuracy:" in result.stderr  # the figure is not lost
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    assert files_in(tmp_path / "out" / "cnn") == sorted(["1", *(f"1/{name}" for name in before)])


@pytest.fixture(scope="module")
def first_version(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete version 1 of the tiny model, saved by Training.finish; tests copy it."""
    out = tmp_path_factory.mktemp("first")
    training, data = tiny_training(out, seed=1)
    training.finish(data)
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
    training, data = tiny_training(tmp_path, seed=2)
    interrupt(monkeypatch, target, when, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        training.finish(data)
    monkeypatch.undo()
    assert common.files.versions(tmp_path / "tiny") == [1]
    assert files_in(tmp_path / "tiny") == files_in(first_version)  # nothing half-written left
    assert check_model_set(common.find_model("tiny", tmp_path).folder) == old


def test_a_run_stopped_after_the_rename_leaves_the_new_version(
    first_version: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(first_version, tmp_path / "tiny")
    training, data = tiny_training(tmp_path, seed=2)
    interrupt(monkeypatch, "common.files._prune_versions", "before", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        training.finish(data)
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
    training, data = tiny_training(tmp_path, seed=2)
    interrupt(monkeypatch, "common.saving.file_sha256", "before", error)
    with pytest.raises(common.UserError) as raised:
        training.finish(data)
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


def test_a_full_disk_at_several_sizes_keeps_a_whole_version(
    first_version: Path, small_disk, capsys
) -> None:
    """The disk fills while the model file (12 KiB left), the export (TensorFlow's own error,
    120 KiB) or the plot (260 KiB) is written; with room enough the new version is saved."""
    for room in (12 << 10, 120 << 10, 260 << 10, 4 << 20):
        disk = small_disk(first_version, room)
        old = check_model_set(disk / "tiny" / "1")
        training, data = tiny_training(disk, seed=2)
        if room < 1 << 20:
            with pytest.raises(common.UserError, match="free some space"):
                training.finish(data)
            assert printed_accuracy(capsys.readouterr().err)
            assert files_in(disk / "tiny") == files_in(first_version), room
            assert check_model_set(common.find_model("tiny", disk).folder) == old
        else:
            training.finish(data)
            assert common.files.versions(disk / "tiny") == [1, 2]
            assert check_model_set(disk / "tiny" / "2") != old


# A training run's saving, in its own process: `python -c WRITER OUT SEED HOW [COUNT]`.
WRITER = """
import os, signal, sys, time
from pathlib import Path

sys.path[:0] = [sys.argv[5], sys.argv[6]]
import common.training
from conftest import tiny_training

out, seed, how, count = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
export = common.training.export_text_model

def killed(*args):  # the model file written, then SIGKILL: no clean-up of any kind runs
    os.kill(os.getpid(), signal.SIGKILL)

def stalled(*args):  # the model written, then a long pause before the export
    (out / "stalled").touch()
    while not (out / "go").exists():
        time.sleep(0.05)
    export(*args)

common.training.export_text_model = {"kill": killed, "stall": stalled}.get(how, export)
for n in range(count):
    training, data = tiny_training(out, seed + n)
    training.finish(data)
"""


def writer(out: Path, seed: int, how: str = "plain", count: int = 1) -> list[str]:
    return [sys.executable, "-c", WRITER, str(out), str(seed), how, str(count),
            str(ROOT / "tests"), str(ROOT)]  # fmt: skip


def writer_env() -> dict[str, str]:
    """One thread: the tests run in two processes already."""
    return {**os.environ, **ONE_THREAD, "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_a_killed_run_leaves_the_previous_version_and_a_folder_marked_for_clean_up(
    first_version: Path, tmp_path: Path
) -> None:
    shutil.copytree(first_version, tmp_path / "tiny")
    old = check_model_set(tmp_path / "tiny" / "1")
    result = subprocess.run(writer(tmp_path, 2, "kill"), env=writer_env(), capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    left = [p.name for p in (tmp_path / "tiny").iterdir() if p.name != "1"]
    assert len(left) == 1 and re.match(r"^\.version\.tmp\d+-", left[0]), left
    assert check_model_set(common.find_model("tiny", tmp_path).folder) == old

    training, data = tiny_training(tmp_path, seed=3)  # the next run cleans it up
    training.finish(data)
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == ["1", "2"]


def test_two_runs_at_once_each_save_a_whole_version(first_version: Path, tmp_path: Path) -> None:
    """The first stalls between its model file and its export while the second saves all."""
    shutil.copytree(first_version, tmp_path / "tiny")
    first = subprocess.Popen(writer(tmp_path, 2, "stall"), env=writer_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        for _ in range(1200):  # until the first run is stalled with its model file written
            if (tmp_path / "stalled").exists() or first.poll() is not None:
                break
            time.sleep(0.05)
        assert (tmp_path / "stalled").exists(), first.communicate()[1][-2000:]
        training, data = tiny_training(tmp_path, seed=3)  # the second, in this process
        training.finish(data)
        (tmp_path / "go").touch()
        assert first.wait(timeout=120) == 0, first.communicate()[1][-2000:]
    finally:
        first.kill()
    base = tmp_path / "tiny"
    assert common.files.versions(base) == [1, 2, 3]
    for version, seed in ((2, 3), (3, 2)):  # numbered in the order they were complete
        check_model_set(base / str(version))
        assert json.loads((base / str(version) / "metrics.json").read_text())["runs"][0]["seed"] \
            == seed  # fmt: skip
    assert not [p for p in base.iterdir() if p.name.startswith(".")]


def test_a_reader_polling_while_versions_are_replaced_always_sees_a_whole_one(
    first_version: Path, tmp_path: Path
) -> None:
    """Three runs save a version each while a reader loads the newest, over and over."""
    shutil.copytree(first_version, tmp_path / "tiny")
    base = tmp_path / "tiny"
    replacing = subprocess.Popen(writer(tmp_path, 2, count=3), env=writer_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    seen = []
    try:
        while replacing.poll() is None:
            folder = common.find_model("tiny", tmp_path).folder
            with common.files.reading_version(folder) as present:
                if present:  # held: the writer's clean-up does not remove it meanwhile
                    check_model_set(folder)
                    seen.append(int(folder.name))
    finally:
        replacing.kill()
    assert replacing.wait() == 0, replacing.communicate()[1][-2000:]
    assert len(set(seen)) >= 2, seen  # it saw versions being replaced
    assert seen == sorted(seen)  # and never an older one after a newer
    assert common.files.versions(base) == [2, 3, 4]  # the newest KEEP_VERSIONS are kept
    check_model_set(base / "4")
