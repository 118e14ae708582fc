"""The scripts as a user runs them: bad input, end-to-end runs, repeatability, accuracy."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, write_dataset

import common

ACCURACY_LINE = re.compile(r"^Accuracy: (\d{1,3}\.\d\d)%$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OUR_ERROR = re.compile(r"^(\w+\.py: )?error: ")


def files_in(folder: Path) -> list[str]:
    """Every file under `folder`, hidden temporary files included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def saved_files(folder: Path, name: str) -> list[str]:
    """What a training run left in `folder`; its export, a SavedModel folder, counts as one."""
    assert (folder / f"{name}_savedmodel" / "saved_model.pb").is_file()
    return sorted(p.name for p in folder.iterdir())


def assert_one_sentence_error(result, expected: str) -> None:
    """Exit code 2, no traceback, and one error line that says what went wrong."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # Ours start with "error:", argparse's with "<script>: error:"; TensorFlow's own
    # start-up lines (which may contain "error") do not.
    errors = [line for line in result.stderr.splitlines() if OUR_ERROR.match(line)]
    assert len(errors) == 1, result.stderr
    assert expected in errors[0]


def printed_accuracy(stdout: str) -> float:
    """The figure of the last line, which must read exactly like `Accuracy: 87.79%`."""
    match = ACCURACY_LINE.match(stdout.rstrip("\n").splitlines()[-1])
    assert match, f"the last line is not 'Accuracy: NN.NN%':\n{stdout[-500:]}"
    return float(match.group(1))


# --- Bad input: one clear sentence, exit code 2, nothing written -----------------------


@pytest.mark.parametrize("script", ["train_mlp.py", "train_cnn.py", "explore_dataset.py"])
def test_a_missing_data_path(run_script, tmp_path: Path, script: str) -> None:
    out = tmp_path / "out"
    result = run_script(script, "--data", tmp_path / "nowhere.tar.gz", "--output-dir", out)
    assert_one_sentence_error(result, "no such file or folder")
    assert not out.exists(), "a failed run leaves no empty output folder behind"


def test_a_folder_that_is_not_the_dataset(run_script, tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "d", {"train/pos": ["good"]})
    (folder / "test" / "neg").rmdir()
    out = tmp_path / "out"
    result = run_script("train_cnn.py", "--data", folder, "--output-dir", out)
    assert_one_sentence_error(result, "has no test/neg folder")
    assert files_in(out) == []


def test_a_corrupt_archive(run_script, tmp_path: Path, tiny_archive: Path) -> None:
    corrupt = tmp_path / "aclImdb_v1.tar.gz"
    corrupt.write_bytes(tiny_archive.read_bytes()[:2000])  # a download cut short
    out = tmp_path / "out"
    result = run_script("train_mlp.py", "--data", corrupt, "--output-dir", out)
    assert_one_sentence_error(result, "is damaged or incomplete")
    assert files_in(out) == []


def test_an_output_folder_that_cannot_be_written(
    run_script, tmp_path: Path, tiny_folder: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the output folder should go")
    result = run_script("train_cnn.py", "--data", tiny_folder, "--output-dir", blocker / "out")
    assert_one_sentence_error(result, "cannot write to the output folder")


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--epochs", "-1", "must be at least 1, got -1"),
        ("--batch-size", "0", "must be at least 1, got 0"),
        ("--validation-split", "1.5", "must be at least 0 and below 1"),
    ],
)
def test_impossible_settings(run_script, tmp_path: Path, flag: str, value: str, expected: str):
    out = tmp_path / "out"
    result = run_script("train_mlp.py", flag, value, "--output-dir", out)
    assert_one_sentence_error(result, expected)
    assert files_in(out) == []


# --- End to end on the tiny data the tests write ----------------------------------------


def test_train_mlp_end_to_end(run_script, tmp_path: Path, tiny_archive: Path) -> None:
    out = tmp_path / "out"
    result = run_script("train_mlp.py", "--data", tiny_archive, "--output-dir", out)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    assert 'Model: "mlp"' in result.stdout and "Epoch 2/2" in result.stdout

    assert saved_files(out, "mlp") == [
        "mlp.keras", "mlp_encoding.json", "mlp_history.png", "mlp_metrics.json", "mlp_savedmodel",
    ]  # fmt: skip
    assert (out / "mlp_history.png").read_bytes().startswith(PNG_MAGIC)
    metrics = json.loads((out / "mlp_metrics.json").read_text())
    assert f"{metrics['test_accuracy'] * 100:.2f}" == f"{accuracy:.2f}"
    assert metrics["epochs"] == 2 and metrics["seeds"] == [7] and metrics["batch_size"] == 128
    assert metrics["parameters"] == 4_160_501
    assert str(tiny_archive) in metrics["data_source"]
    (run,) = metrics["runs"]
    assert run["seed"] == 7 and run["test_accuracy"] == metrics["test_accuracy"]
    assert len(run["seconds_per_epoch"]) == 2
    assert set(metrics["seconds"]) == {"import", "data", "build", "fit", "evaluate"}
    assert set(run["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert set(metrics["versions"]) >= {"tensorflow", "keras", "numpy", "matplotlib"}


def test_train_cnn_without_validation(run_script, tmp_path: Path, tiny_folder: Path) -> None:
    out = tmp_path / "out"
    result = run_script(
        "train_cnn.py", "--data", tiny_folder, "--output-dir", out,
        "--validation-split", "0", "--epochs", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    printed_accuracy(result.stdout)
    assert 'Model: "cnn"' in result.stdout and "Epoch 3/3" in result.stdout
    metrics = json.loads((out / "cnn_metrics.json").read_text())
    assert metrics["parameters"] == 2_163_605
    assert set(metrics["runs"][0]["history"]) == {"loss", "accuracy"}
    assert len(metrics["runs"][0]["history"]["loss"]) == 3
    assert (out / "cnn_history.png").read_bytes().startswith(PNG_MAGIC)


def test_explore_dataset_end_to_end(run_script, tmp_path: Path, tiny_folder: Path) -> None:
    out = tmp_path / "out"
    result = run_script("explore_dataset.py", "--data", tiny_folder, "--output-dir", out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Reviews: X (160,), y (160,)" in result.stdout
    assert "Classes: [0 1]" in result.stdout
    assert "Distinct words: 20" in result.stdout  # 10 neutral + 5 praise + 5 blame words
    assert "Reviews that fit in 500 tokens uncut: 100.0%" in result.stdout
    assert files_in(out) == ["review_length.png"]
    assert (out / "review_length.png").read_bytes().startswith(PNG_MAGIC)


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

    metrics = json.loads((tmp_path / "mlp_metrics.json").read_text())
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


# --- On the real reviews: the figures the models must reach ------------------------------


@pytest.fixture(scope="module")
def imdb_data() -> Path:
    if not os.environ.get("IMDB_DATA"):
        pytest.skip("set IMDB_DATA to the Stanford IMDB archive to train on the real reviews")
    path = Path(os.environ["IMDB_DATA"]).resolve()
    if not path.exists():
        pytest.fail(f"IMDB_DATA={path} does not exist")
    return path


@pytest.mark.real_data
def test_explore_dataset_on_the_real_reviews(run_script, tmp_path: Path, imdb_data: Path):
    result = run_script("explore_dataset.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Reviews: X (50000,), y (50000,)" in result.stdout
    assert "Classes: [0 1]" in result.stdout


@pytest.mark.real_data
def test_the_mlp_learns_and_repeats_itself(run_script, tmp_path: Path, imdb_data: Path) -> None:
    runs = [
        run_script("train_mlp.py", "--data", imdb_data, "--output-dir", tmp_path / run)
        for run in ("first", "second")
    ]
    for result in runs:
        assert result.returncode == 0, result.stderr[-3000:]
    accuracies = [printed_accuracy(result.stdout) for result in runs]
    print(f"MLP test accuracy, twice: {accuracies}")
    assert accuracies[0] == accuracies[1], "the same command printed different accuracies"
    assert accuracies[0] >= 80.0


@pytest.mark.real_data
def test_the_cnn_learns_and_scores_new_text(run_script, tmp_path: Path, imdb_data: Path) -> None:
    result = run_script("train_cnn.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"CNN test accuracy: {accuracy}")
    assert accuracy >= 85.0
    metrics = json.loads((tmp_path / "cnn_metrics.json").read_text())
    history = metrics["runs"][0]["history"]
    assert len(history["val_accuracy"]) == 2  # validated on held-out training reviews

    # The saved model scores new text as a reader would expect.
    texts = [
        "A wonderful film: brilliant acting, a moving story, I loved every minute of it.",
        "Awful. Boring, badly acted and far too long, the worst film I have seen this year.",
    ]
    result = run_script("predict.py", "--models-dir", tmp_path, "--format", "json", *texts)
    assert result.returncode == 0, result.stderr[-3000:]
    labels = [json.loads(line)["label"] for line in result.stdout.splitlines()]
    assert labels == ["positive", "negative"]

    # The export (raw text in, with the tokenizer inside) and predict.py agree on every
    # test review.
    import tensorflow as tf

    by_name = common.data.read_reviews(imdb_data)  # the reader the data loader uses
    reviews = [by_name[name] for name in sorted(by_name) if name.startswith("test/")]
    (tmp_path / "test_reviews.txt").write_text("\n".join(reviews) + "\n", encoding="utf-8")
    args = ["--models-dir", tmp_path, "--format", "json", "--file", tmp_path / "test_reviews.txt"]
    result = run_script("predict.py", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    # Lines end at line feeds only: some reviews hold U+0085 or U+2028, which splitlines takes.
    lines = result.stdout.removesuffix("\n").split("\n")
    predicted = [json.loads(line)["probability_positive"] for line in lines]
    exported = tf.saved_model.load(str(tmp_path / "cnn_savedmodel"))
    served = np.concatenate([exported.serve(tf.constant(reviews[i : i + 1000])).numpy()
                             for i in range(0, len(reviews), 1000)])  # fmt: skip
    difference = np.abs(served - np.array(predicted))
    print(f"Export and predict.py on {len(reviews):,} test reviews: largest difference "
          f"{difference.max():.2e}")  # fmt: skip
    assert len(predicted) == len(reviews) == 25_000
    assert difference.max() <= 1e-5


@pytest.mark.real_data
def test_the_deep_cnn_beats_the_second_article(run_script, tmp_path: Path, imdb_data: Path):
    result = run_script("train_deep_cnn.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"Deep CNN test accuracy: {accuracy}")
    assert accuracy > 86.6  # the second article's figure, after 20 minutes on a laptop


@pytest.mark.real_data
def test_the_bag_of_ngrams_baseline_learns(run_script, tmp_path: Path, imdb_data: Path) -> None:
    result = run_script("train_bow.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"Bag of words and pairs, test accuracy: {accuracy}")
    assert accuracy > 89.0  # a floor that says it learned; scikit-learn's peer scores 90.89%

    # --short-texts adds a regression for short texts: better on them, and whole reviews
    # keep the bow model's answers (all but the few under 150 words).
    args = ["--data", imdb_data, "--output-dir", tmp_path, "--short-texts"]
    assert run_script("train_bow.py", *args).returncode == 0
    args = ["--model", "bow,bow_short", "--models-dir", tmp_path, "--show-errors", "0"]
    result = run_script("analyze_model.py", *args, "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    whole = [float(a) for a in re.findall(r"whole reviews: +accuracy (\d+\.\d\d)%", result.stdout)]
    short = [float(a) for a in re.findall(r"first 30 words only: accuracy (\d+\.\d\d)%",
                                          result.stdout)]  # fmt: skip
    print(f"bow and bow_short: whole reviews {whole}, first 30 words {short}")
    assert whole[0] == accuracy and short[1] > short[0] + 1.0 and whole[1] > whole[0] - 0.5
    assert (tmp_path / "bow+bow_short_length.png").exists()


@pytest.mark.real_data
def test_the_ensemble_learns(run_script, tmp_path: Path, imdb_data: Path) -> None:
    result = run_script("train_ensemble.py", "--data", imdb_data, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = printed_accuracy(result.stdout)
    print(f"Ensemble, test accuracy: {accuracy}")
    assert accuracy > 90.0


def test_the_phase_clock_loads_alone_as_the_tutorial_baseline_loads_it() -> None:
    """benchmarks/tutorial_cnn.py loads common/timing.py by path, without common/."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("timing_alone", ROOT / "common" / "timing.py")
    timing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(timing)
    timing.PhaseClock().lap("build")
    assert timing.EpochTimer().seconds == []
