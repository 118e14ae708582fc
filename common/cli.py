"""Command-line plumbing shared by the scripts: flags, seeds, the output folder, errors."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from common import startup
from common.files import remove_stale_temporaries

DEFAULT_SEED = 7  # the tutorial's seed
MAX_SEED = 2**32 - 1  # NumPy's seeds are 32-bit
MAX_BATCH_SIZE = 1_000_000  # far above any data set here; TensorFlow's shapes overflow higher
DEFAULT_OUTPUT_DIR = "outputs"
DRY_RUN_DIR = "dry_run"  # --dry-run writes here, inside --output-dir, never over real results

# Every model this project trains, and the command that trains it with its defaults.
MODELS = {
    "mlp": ["train_mlp.py"],
    "cnn": ["train_cnn.py"],
    "cnn_globalpool": ["train_cnn.py", "--global-pool"],
    "deep_cnn": ["train_deep_cnn.py"],
    "lstm": ["train_lstm.py"],
    "bow_words": ["train_bow.py", "--ngrams", "1"],
    "bow": ["train_bow.py"],
    "bow_short": ["train_bow.py", "--short-texts"],
    "ensemble": ["train_ensemble.py"],
    "minilm": ["train_minilm.py"],
}


class UserError(Exception):
    """A problem with what the user asked for (a bad path, a corrupt archive, ...).

    `run` reports it as one sentence and exit code 2, never as a traceback.
    """


def printable(text: str) -> str:
    """`text` safe to print to a terminal: control characters (ESC, BEL, CSI, ...) shown as
    escapes such as \\x1b, so that a review or a file name cannot retitle or clear the screen."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and line feed; DEL; C1


def json_text(value: object, compact: bool = False) -> str:
    """`value` as JSON on one line (`compact`: without spaces), its text as it is but for
    what must not go out raw:
    JSON escapes the controls below U+0020 itself; DEL and U+0080 to U+009F (terminal
    controls too) are escaped here, and so is a lone surrogate (from a request's
    "\\ud800" or a command line's undecodable byte), which UTF-8 cannot carry."""
    separators = (",", ":") if compact else (", ", ": ")
    text = json.dumps(value, ensure_ascii=False, separators=separators)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff]")


def skipped(count: int, noun: str, kind: str, places: Sequence[object], detail: str = "") -> str:
    """`Skipped 3 rows without a text or a label (lines 4, 9, 12)`: `noun` and `kind` in
    the singular, then `detail`; the first ten of `places` shown."""
    s = "s" if count != 1 else ""
    shown = ", ".join(map(str, places[:10])) + (", ..." if count > 10 else "")
    return f"Skipped {count:,} {noun}{s} {detail + ' ' if detail else ''}({kind}{s} {shown})"


def run(main: Callable[[Sequence[str] | None], object]) -> None:
    """Call `main()` the way every script's `__main__` block does.

    A UserError is one sentence and exit code 2; Ctrl-C and SIGTERM stop the run
    cleanly (temporary files are removed on the way out); a reader that closes the
    pipe early (`| head`) ends the output quietly. After a failure, an output folder
    this run created and left empty is removed.
    """
    startup.restore_signals()  # those that stopped the run at once while TensorFlow loaded
    signal.signal(signal.SIGTERM, _terminate)
    # Whatever the terminal's encoding (a Latin-1 locale, a surrogate from the command
    # line), print what it can take and replace the rest, rather than crash.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    try:
        main(None)
    except UserError as err:
        _remove_empty_created_folders()
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        _remove_empty_created_folders()
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except BrokenPipeError:
        # Whoever read our output has gone: say nothing more, and let no flush fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(141) from None  # 128 + SIGPIPE, as a shell reports it
    except Exception:  # a fault of ours: its traceback, and no empty folder left behind
        _remove_empty_created_folders()
        raise


_terminating = False  # set by SIGTERM, for `terminating()`


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (`kill`, a job scheduler) stops the run like Ctrl-C: `finally` blocks run."""
    global _terminating
    _terminating = True
    raise KeyboardInterrupt


def terminating() -> bool:
    """Whether SIGTERM was received. Python drops an exception raised while it runs a
    finalizer (TensorFlow runs many), so training checks this too, after every batch."""
    return _terminating


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `low` (and at most `high`)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"at least {low:,}" if high is None else f"from {low:,} to {high:,}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value:,}")
        return value

    return parse


non_negative_int = whole_number(0)
positive_int = whole_number(1)
seed_int = whole_number(0, MAX_SEED)  # NumPy's seeds are 32-bit
MIN_MAXLEN = 10  # the deep CNN halves the length three times; fewer words say little anyway


def _fraction(text: str) -> float:
    """An argparse type: a share, at least 0 and below 1."""
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {value}")
    return value


def probability(text: str) -> float:
    """An argparse type: a probability, from 0 to 1."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a probability is from 0 to 1, got {value}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def data_parser(
    description: str | None,
    *,
    writes: bool = True,
    output_help: str = "where this script writes its files",
    data_note: str = "",
    every_row: bool = False,
) -> argparse.ArgumentParser:
    """A parser with the flags of the scripts that read the reviews: --data, --output-dir.

    `writes=False` leaves out --output-dir, for a script that writes nothing;
    `output_help` says what the folder holds, `data_note` when --data matters;
    `every_row=True` is for a script that reads every row of your own data: --data is
    needed, and there is no --test-data nor --test-split.
    """
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if every_row:
        parser.add_argument(
            "--data", metavar="PATH", required=True,
            help="your own labeled texts: a .csv, .tsv or .jsonl file (also compressed: .gz, "
            ".bz2, .xz, .zst, ...), or a folder with one folder of .txt files per label",
        )  # fmt: skip
    else:
        parser.add_argument(
            "--data",
            metavar="PATH",
            default=os.environ.get("IMDB_DATA") or None,
            help="the Stanford Large Movie Review Dataset (aclImdb_v1.tar.gz or its extracted "
            "aclImdb/ folder), or your own labeled texts: a .csv, .tsv or .jsonl file (also "
            "compressed: .gz, .bz2, .xz, .zst, ...), or a folder with one folder of .txt files "
            "per label (default: $IMDB_DATA "
            f"if set, else download IMDB through keras.datasets.imdb){data_note}",
        )
    own = parser.add_argument_group("your own data (docs/your-own-data.md)")
    for flag, metavar, kind, default, help in [
        ("--text-column", "NAME", column, None, "the column (or JSON key) holding the text: a "
         "name, or a 0-based position for a file without a header row (default: recognised "
         "by name: text, review, sentence, ...)"),
        ("--label-column", "NAME", column, None, "the column holding the label (default: "
         "recognised by name: label, sentiment, class, ...)"),
        ("--test-data", "PATH", str, None, "a separate test file or folder of the same form "
         "(default: hold out --test-split of each label)"),
        ("--test-split", "FRACTION", _fraction, None, "without a test part (--test-data, or "
         "a test/ folder), the share of each label held out to test on, drawn with a fixed "
         "seed (default: 0.2)"),
        ("--positive-label", "LABEL", str, None, "with two labels, the one whose probability "
         "the models give (default: the one called positive, pos, 1, ..., else the second)"),
        ("--escape-char", "CHAR", _one_char, None, "a CSV or TSV whose quotes inside quoted "
         "fields are escaped with CHAR, not doubled: '\\' for Kaggle's labeledTrainData.tsv "
         '(\\")'),
    ]:  # fmt: skip
        if not every_row or flag not in ("--test-data", "--test-split"):
            own.add_argument(flag, metavar=metavar, type=kind, default=default, help=help)
    if writes:
        parser.add_argument(
            "--output-dir",
            metavar="DIR",
            default=DEFAULT_OUTPUT_DIR,
            help=f"{output_help} (default: {DEFAULT_OUTPUT_DIR}/)",
        )
    return parser


def _one_char(text: str) -> str:
    """An argparse type: one character that is not a quote, a comma, a tab or a line end."""
    if len(text) != 1 or text in '",\t\r\n':
        raise argparse.ArgumentTypeError(f"expected one character such as \\, got {text!r}")
    return text


def column(text: str) -> str | int:
    """An argparse type: a column's name, or a whole number for its 0-based position."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a column needs a name or a 0-based position")
    return int(text) if text.strip().isdigit() else text


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    """--model and --models-dir: which saved model a script uses."""
    parser.add_argument(
        "--model",
        default="cnn",
        help=f"a model the training scripts saved in --models-dir ({', '.join(MODELS)}): "
        "its newest version (cnn/2: its version 2); or the path of a model's folder, of one "
        "version's folder or of a .keras file (default: cnn)",
    )
    parser.add_argument(
        "--models-dir",
        default=DEFAULT_OUTPUT_DIR,
        metavar="DIR",
        help=f"where the training scripts saved their models (default: {DEFAULT_OUTPUT_DIR}/)",
    )


def add_encoding_flags(parser: argparse.ArgumentParser, *, num_words: int, maxlen: int) -> None:
    """--num-words and --maxlen: the vocabulary and the length every text is padded or cut to."""
    parser.add_argument(
        "--num-words",
        type=whole_number(4, 10_000_000),  # ids 0 to 3 are taken: one word at least
        default=num_words,
        metavar="N",
        help="the vocabulary: the N most frequent words (ids 0 to 3 are padding, start, "
        f"unknown and unused, so N - 3 words) (default: {num_words})",
    )
    parser.add_argument(
        "--maxlen",
        type=whole_number(MIN_MAXLEN, 1_000_000),
        default=maxlen,
        metavar="N",
        help="every review padded, or cut to its last N words; short texts need fewer "
        f"(default: {maxlen})",
    )


def training_parser(
    description: str | None, *, epochs: int, batch_size: int, num_words: int, maxlen: int
) -> argparse.ArgumentParser:
    """The flags of every training script; the defaults come from the script's constants."""
    parser = data_parser(
        description,
        output_help="where each model's folder of versions is written (DIR/<model>/<N>/: "
        "the model, its encoding, export, metrics and plot)",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=epochs,
        help=f"passes over the training reviews (default: {epochs})",
    )
    parser.add_argument(
        "--batch-size",
        type=whole_number(1, MAX_BATCH_SIZE),  # a tensor's shape must hold it
        default=batch_size,
        help=f"reviews per weight update (default: {batch_size})",
    )
    add_encoding_flags(parser, num_words=num_words, maxlen=maxlen)
    parser.add_argument(
        "--seed",
        type=seed_int,
        default=DEFAULT_SEED,
        help="seeds Python, NumPy and TensorFlow: the same seed gives the same result on one "
        "machine; benchmarks/seeds.py trains once per seed and gives the spread "
        f"(default: {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--validation-split",
        type=_fraction,
        default=0.1,
        metavar="FRACTION",
        help="share of the training reviews held out to watch overfitting; 0 trains "
        "on all 25,000 and skips validation (default: 0.1)",
    )
    parser.add_argument(
        "--target-accuracy",
        type=probability,
        metavar="A",
        help="choose, on the validation texts, the lowest top probability P at which the "
        "model is right on a share A of the texts it answers, and save it with the model: "
        "predict.py and serve.py then say unsure below P (docs/trust.md)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="train and test on 512 reviews each, to check that everything runs; the "
        f"accuracy means nothing, and the files go to OUTPUT_DIR/{DRY_RUN_DIR}/",
    )
    return parser


def prepare_output_dir(path: str | os.PathLike[str]) -> Path:
    """Create the output folder and check that it is writable, before any long work.

    Temporary files that a killed run of this project left there are removed.
    """
    folder = Path(path)
    missing = folder
    while not missing.parent.exists() and missing.parent != missing:
        missing = missing.parent  # the topmost folder this call will create
    existed = folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        reason = err.strerror or str(err)
        raise UserError(f"cannot write to the output folder {str(folder)!r}: {reason}.") from None
    if not existed:
        _CREATED_FOLDERS.append((missing, folder))
    remove_stale_temporaries(folder)
    return folder


_CREATED_FOLDERS: list[tuple[Path, Path]] = []


def _remove_empty_created_folders() -> None:
    """Remove the folders `prepare_output_dir` created, if the failed run left them empty."""
    for top, folder in reversed(_CREATED_FOLDERS):  # the innermost first
        while True:
            try:
                folder.rmdir()  # only ever removes an empty folder
            except OSError:
                break
            if folder == top:
                break
            folder = folder.parent
