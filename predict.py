"""Score your own reviews with a trained model: how likely is each one positive?

Train a model first (python train_cnn.py saves outputs/cnn.keras and, beside it,
outputs/cnn_encoding.json). Then give texts as arguments, in a file (one review
per line), or on standard input:

    python predict.py "I loved every minute of it" "A waste of two hours."
    python predict.py --file reviews.txt --model mlp
    echo "Not bad at all" | python predict.py --format json

Each line of output is the probability that the text is positive (what
`model.predict` returns: the sigmoid output, between 0 and 1), the label it implies
(positive from 0.5 up), and the text. The models learned from IMDB reviews of
hundreds of words: read the README before trusting them on a tweet.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import common

BATCH_SIZE = 256  # texts per predict step: large batches are much faster than one at a time


def read_texts(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(where, text) pairs from the arguments, --file or standard input; blank lines skipped."""
    if args.texts:
        return [(f"text {i}", text) for i, text in enumerate(args.texts, start=1)]
    if args.file is not None:
        name = args.file
        if Path(name).exists() and not Path(name).is_file():  # a FIFO or a device: endless
            raise common.UserError(f"--file {name!r} is not a regular file.")
        try:
            raw = Path(name).read_bytes()
        except OSError as err:
            raise common.UserError(f"cannot read --file {name!r}: {err.strerror}.") from None
    else:
        name = "standard input"
        if sys.stdin is None:  # started with stdin closed (<&-)
            raise common.UserError(
                "standard input is closed: give texts as arguments, with --file, or on stdin."
            )
        if sys.stdin.isatty():
            print("Type or paste reviews, one per line; end with Ctrl-D.", file=sys.stderr)
        raw = sys.stdin.buffer.read()
    try:
        text = raw.decode("utf-8-sig")  # -sig: a byte-order mark is not text
        # One review per line: split on line feeds only (a CRLF's CR goes too), never on the
        # form feeds, U+2028 or lone CRs that str.splitlines also takes for line ends.
        lines = [line.removesuffix("\r") for line in text.split("\n")]
        if lines and lines[-1] == "":
            lines.pop()  # the file's final newline ends the last line; it starts none
    except UnicodeDecodeError as err:
        raise common.UserError(
            f"{name} is not UTF-8 text (byte {raw[err.start]:#04x} at offset {err.start}); "
            "save it as UTF-8 and try again."
        ) from None
    blank = [number for number, line in enumerate(lines, start=1) if not line.strip()]
    if blank:
        shown = ", ".join(map(str, blank[:10])) + (", ..." if len(blank) > 10 else "")
        lines_word = "line" if len(blank) == 1 else "lines"
        print(
            f"Skipped {len(blank)} blank {lines_word} in {name} ({lines_word} {shown}).",
            file=sys.stderr,
        )
    return [(f"line {n}", line) for n, line in enumerate(lines, start=1) if line.strip()]


def check_texts(texts: list[tuple[str, str]]) -> None:
    """Refuse what the model cannot read: no texts, an empty text, a text without words."""
    if not texts:
        raise common.UserError(
            "there is no text to score: give texts as arguments, --file or stdin."
        )
    for where, text in texts:
        if not text.strip():
            raise common.UserError(f"{where} is empty: there is nothing to score.")
        if not common.tokenize(text):
            raise common.UserError(
                f"{where} has no words the model can read ({text.strip()[:40]!r}): "
                "it sees only letters and digits."
            )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="reviews to score")
    parser.add_argument("--file", metavar="PATH", help="a UTF-8 text file, one review per line")
    common.cli.add_model_flags(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: aligned columns; json: one JSON object per line",
    )
    args = parser.parse_args(argv)
    if args.texts and args.file:
        parser.error("give texts as arguments or --file, not both")

    texts = read_texts(args)
    check_texts(texts)
    model, encoding = common.load_model(common.resolve_model_path(args.model, args.models_dir))

    # The same encoder as the training data: words -> indices, then pad or cut to 500.
    x = encoding.encode_texts([text for _, text in texts])
    probabilities = model.predict(x, batch_size=BATCH_SIZE, verbose=0)[:, 0]

    width = shutil.get_terminal_size((100, 24)).columns
    for (_, text), probability in zip(texts, probabilities, strict=True):
        label = "positive" if probability >= 0.5 else "negative"
        if args.format == "json":
            record = {"probability_positive": float(probability), "label": label, "text": text}
            print(json.dumps(record, ensure_ascii=False))
        else:
            shown = textwrap.shorten(text, width=max(width - 20, 20), placeholder=" ...")
            print(f"{probability:.4f}  {label:<8}  {shown}")


if __name__ == "__main__":
    common.run(main)
