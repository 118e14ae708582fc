"""Bad flags and files, full disks, pipes, signals: one sentence, exit 2, no half files."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, write_dataset
from test_scripts import assert_one_sentence_error, files_in


@pytest.fixture(scope="module")
def trained(run_script, tmp_path_factory: pytest.TempPathFactory, tiny_folder: Path) -> Path:
    """The MLP (the fastest model to train) and its files, trained on the tiny reviews."""
    out = tmp_path_factory.mktemp("trained")
    result = run_script("train_mlp.py", "--data", tiny_folder, "--output-dir", out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def copy_model(trained: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    for name in ("mlp.keras", "mlp_encoding.json"):
        shutil.copy(trained / name, folder / name)
    return folder / "mlp.keras"


# --- Flags ---------------------------------------------------------------------------------

SCRIPTS = ["train_mlp.py", "train_cnn.py", "train_deep_cnn.py", "train_lstm.py", "train_bow.py",
           "train_ensemble.py", "explore_dataset.py", "predict.py", "analyze_model.py",
           "compare_models.py", "explore_embeddings.py"]  # fmt: skip
# Runs each script's main block with some arguments, in one process, then says whether
# TensorFlow was imported by any of them.
PROBE = """
import json, runpy, sys
for argv in json.loads(sys.argv[1]):
    sys.argv = argv
    try:
        runpy.run_path(argv[0], run_name="__main__")
    except SystemExit:
        pass
print("tensorflow imported:", "tensorflow" in sys.modules)
"""


def test_help_and_bad_paths_never_load_tensorflow(tmp_path: Path) -> None:
    nowhere = str(tmp_path / "nowhere")
    runs = []
    for script in SCRIPTS:
        runs.append([script, "--help"])
        if script.startswith(("train_", "explore")):
            runs.append([script, "--data", nowhere])
        elif script == "compare_models.py":
            runs.append([script, "--output-dir", nowhere])
        elif script == "predict.py":
            runs.append([script, "--model", f"{nowhere}.keras", "good film"])
        else:
            runs.append([script, "--data", nowhere, "--model", f"{nowhere}.keras"])
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(runs)], cwd=ROOT,
                            capture_output=True, text=True)  # fmt: skip
    assert "tensorflow imported: False" in result.stdout, result.stderr[-2000:]
    assert result.stderr.count("error: ") == len(runs) // 2  # each bad path said so


@pytest.mark.parametrize("flags", [["--seed", "-1"], ["--seeds", "7,1099511627776"]])
def test_seeds_outside_numpys_range_are_refused_at_once(run_script, tmp_path, flags) -> None:
    out = tmp_path / "out"
    result = run_script("train_mlp.py", *flags, "--output-dir", out)
    assert_one_sentence_error(result, "a seed is from 0 to 4,294,967,295")
    assert not out.exists()


def test_a_validation_split_that_leaves_nothing_to_learn_from(run_script, tmp_path, tiny_folder):
    out = tmp_path / "out"
    args = ["--data", tiny_folder, "--output-dir", out, "--dry-run"]
    result = run_script("train_mlp.py", *args, "--validation-split", "0.999")
    assert_one_sentence_error(result, "leaves 0 to learn from")
    assert not out.exists(), "a failed run leaves no empty folder behind"


def test_a_dry_run_never_replaces_real_results(run_script, tmp_path, tiny_folder) -> None:
    result = run_script(
        "train_mlp.py", "--data", tiny_folder, "--output-dir", tmp_path, "--dry-run"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert all(name.split("/")[0] == "dry_run" for name in files_in(tmp_path))
    assert (tmp_path / "dry_run" / "mlp_metrics.json").exists()


# --- Writing: a full disk, a killed run ------------------------------------------------------


def _limit_file_size() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))  # like a full disk


def test_a_full_disk_at_save_time_keeps_the_old_pair(trained, tmp_path, tiny_folder) -> None:
    old = copy_model(trained, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in old.parent.iterdir()}
    command = [sys.executable, str(ROOT / "train_mlp.py"), "--data", str(tiny_folder),
               "--output-dir", str(old.parent), "--seed", "8"]  # fmt: skip
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                            preexec_fn=_limit_file_size, stdin=subprocess.DEVNULL)  # fmt: skip
    assert_one_sentence_error(result, "cannot write the results to")
    assert "Accuracy:" in result.stderr  # the figure is not lost
    assert {p.name: p.read_bytes() for p in old.parent.iterdir()} == before


def test_a_model_and_an_encoding_file_that_do_not_belong_together(run_script, trained, tmp_path):
    model = copy_model(trained, tmp_path)
    encoding = json.loads((tmp_path / "mlp_encoding.json").read_text())
    encoding["model_sha256"] = "0" * 64  # as if the model had been replaced alone
    (tmp_path / "mlp_encoding.json").write_text(json.dumps(encoding))
    result = run_script("predict.py", "--model", model, "good film")
    assert_one_sentence_error(result, "do not belong together")


def test_a_killed_runs_temporary_files_are_cleaned_up(run_script, tmp_path: Path) -> None:
    dead = tmp_path / ".mlp.keras.tmp999999999-abc123.keras"  # no process has this id
    dead.write_bytes(b"half a model")
    # The output folder is cleaned when it is checked, before the data is even looked at.
    result = run_script("train_mlp.py", "--data", tmp_path / "nowhere", "--output-dir", tmp_path)
    assert_one_sentence_error(result, "no such file or folder")
    assert not dead.exists()
    assert not [name for name in files_in(tmp_path) if name.startswith(".")]


def test_sigterm_stops_a_run_like_ctrl_c(tmp_path: Path, tiny_folder: Path) -> None:
    command = [sys.executable, str(ROOT / "train_mlp.py"), "--data", str(tiny_folder),
               "--output-dir", str(tmp_path / "out"), "--epochs", "10000"]  # fmt: skip
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=ROOT)  # fmt: skip
    for line in process.stdout:  # wait until it trains
        if line.startswith("Epoch 2/"):
            break
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not [name for name in files_in(tmp_path / "out") if name.startswith(".")]


# --- Saved models that load but do not fit their encoding -------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda e: e["word_index"].update(the="1"), "the rank of 'the' must be a whole number"),
        (lambda e: e["word_index"].update(the=2**40), "the rank of 'the' must be a whole number"),
        (lambda e: e.update(maxlen=0), "maxlen must be a whole number"),
        (lambda e: e.update(maxlen="500"), "maxlen must be a whole number"),
        (lambda e: e.update(word_index=["the"]), "word_index must map words to ranks"),
        (lambda e: e.update(word_index=None), "word_index must map words to ranks"),
        (lambda e: e.update(num_words=-1), "num_words must be a whole number"),
        (lambda e: e.update(num_words=float("nan")), "num_words must be a whole number"),
        (lambda e: e.pop("maxlen"), "it has no maxlen"),
        (lambda e: e.update(maxlen=100), "takes inputs of shape (None, 500)"),
        (lambda e: e.update(num_words=9000), "does not accept the word ids"),
    ],
    ids=["rank-string", "rank-huge", "maxlen-0", "maxlen-string", "index-list", "index-null",
         "num-words-negative", "num-words-nan", "no-maxlen", "other-length", "other-vocabulary"],
)  # fmt: skip
def test_an_encoding_file_that_does_not_fit(trained, tmp_path, change, expected):
    """In this process: predict.py prints the UserError as one sentence, exit 2 (test above)."""
    import common

    model = copy_model(trained, tmp_path)
    encoding = json.loads((tmp_path / "mlp_encoding.json").read_text())
    change(encoding)
    (tmp_path / "mlp_encoding.json").write_text(json.dumps(encoding))
    with pytest.raises(common.UserError, match=re.escape(expected)):
        common.load_model(model)


# --- predict.py's input and output -----------------------------------------------------------


def test_predict_into_a_pipe_that_closes_early(trained: Path, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("a great film\n" * 5_000)  # more than a pipe holds (64 KiB)
    command = (f"{sys.executable} predict.py --model {trained / 'mlp.keras'} "
               f"--file {reviews} | head -1")  # fmt: skip
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT)
    assert len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr and "Error" not in result.stderr, result.stderr


@pytest.mark.parametrize("path", ["/dev/zero", "/tmp"], ids=["device", "folder"])
def test_predict_refuses_a_file_that_is_not_a_regular_file(run_script, trained, path) -> None:
    result = run_script("predict.py", "--model", trained / "mlp.keras", "--file", path)
    assert_one_sentence_error(result, "is not a regular file")


def test_predict_with_standard_input_closed(trained: Path) -> None:
    command = f"{sys.executable} predict.py --model {trained / 'mlp.keras'} <&-"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT)
    assert_one_sentence_error(result, "standard input is closed")


def test_a_file_is_split_on_line_feeds_only(run_script, trained: Path, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.txt"
    lines = ["good\u2028film", "bad\x0cfilm\x85again", "one\rline", "last line, CRLF"]
    reviews.write_bytes(("\n".join(lines[:3]) + "\n" + lines[3] + "\r\n").encode("utf-8"))
    result = run_script("predict.py", "--model", trained / "mlp.keras", "--file", reviews,
                        "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout.rstrip("\n").split("\n")  # JSON keeps U+2028 and U+0085 as they are
    assert [json.loads(line)["text"] for line in printed] == lines


# --- compare_models.py and explore_dataset.py -------------------------------------------------


def test_compare_models_skips_metrics_files_with_impossible_figures(run_script, tmp_path) -> None:
    from test_compare import write_metrics

    write_metrics(tmp_path, "cnn", [0.88], 5.0, 100)
    for name, value in [("nan", "NaN"), ("inf", "Infinity"), ("huge", "1e307"),
                        ("text", '"88%"'), ("list", "[0.9]"), ("null", "null")]:  # fmt: skip
        write_metrics(tmp_path, name, [0.5], 5.0, 100)
        path = tmp_path / f"{name}_metrics.json"
        path.write_text(
            path.read_text().replace('"test_accuracy": 0.5', f'"test_accuracy": {value}')
        )
    result = run_script("compare_models.py", "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("Skipping")]
    assert len(skipped) == 6, result.stderr
    assert "cnn " in result.stdout and "nan " not in result.stdout


def test_compare_models_cannot_write_its_plot(run_script, tmp_path) -> None:
    from test_compare import write_metrics

    write_metrics(tmp_path, "cnn", [0.88], 5.0, 100)
    (tmp_path / "comparison.png").mkdir()  # something that cannot be replaced by a file
    result = run_script("compare_models.py", "--output-dir", tmp_path)
    assert_one_sentence_error(result, "cannot save the plot")


def test_explore_copes_with_an_enormous_review(run_script, tmp_path: Path) -> None:
    reviews = {part: ["a good film", "a bad film"] for part in
               ("train/pos", "train/neg", "test/pos", "test/neg")}  # fmt: skip
    reviews["train/pos"].append("word " * 2_000_000)  # 10 MB in one review
    folder = write_dataset(tmp_path / "data", reviews)
    started = time.perf_counter()
    result = run_script("explore_dataset.py", "--data", folder, "--output-dir", tmp_path / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "from 3 to 2000000 words" in result.stdout
    print(f"explore_dataset.py on a 10 MB review: {time.perf_counter() - started:.1f} s")
