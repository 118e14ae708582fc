"""Score your own texts with a trained model: how likely is each one positive?

Train a model first (python train_cnn.py saves it as outputs/cnn/1/, with what it needs
to encode new text the way its training texts were). Then give texts as arguments, in
a file (one text per line, or a CSV, TSV or JSON Lines table), or on standard input:

    python predict.py "I loved every minute of it" "A waste of two hours."
    python predict.py --file reviews.txt --model mlp
    python predict.py --file reviews.csv.gz --text-column review
    echo "Not bad at all" | python predict.py --format json
    tail -f tweets.txt | python predict.py    # each line scored as it arrives

A file or standard input is read line by line and scored in small batches as the
lines come, each printed as soon as it is scored, in input order (docs/serving.md);
memory stays flat however long the input.

Each line of output is the probability of the label it gives (calibrated on the
validation reviews: of the texts given a label at 0.9, about 90% have it; docs/trust.md),
that label (the more probable one: positive from 0.5 up), and the text. A model trained
on your own data with more than two labels (docs/your-own-data.md) gives every other
label's probability too, in brackets; --format json gives each label's probability. The
IMDB models learned from reviews of hundreds of words: read docs/short-texts.md before
trusting them on a tweet.
--min-confidence 0.9 says "unsure" instead of a label where the most probable label's
probability is below 0.9; training prints how many texts each threshold answers and
how many of those it gets right.

--explain also says how much each word moved the probability: the probability minus
what the model gives the same text with that one word replaced by padding. A word at
+0.20 pushed the text 0.20 towards positive (with more than two labels: towards the
label predicted). This works the same for every model, whatever is inside it, and is
in the unit the reader sees. For the bag of words alone (train_bow.py --ngrams 1),
removing a word said once removes exactly its weight from the log-odds, divided by the
model's temperature (with word pairs, the weights of its pairs too; a word said twice
still counts once); the figure shown is what that does to the probability. In a
terminal the words are coloured (green: towards positive, red: towards negative);
--html FILE saves the highlighted texts as a page to open in a browser.

    python predict.py --explain "Not bad at all" "This movie was not good at all."
    python predict.py --explain --html outputs/explained.html --file reviews.txt
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import common

SHOWN = 0.01  # --explain marks the words that moved the probability by at least this much
UNSURE = "unsure"  # what the text output says of a text left unanswered (--min-confidence)


def wants_colour(stream) -> bool:
    """Colour for a terminal that shows it: not for a file or pipe, TERM=dumb or NO_COLOR."""
    shows = os.environ.get("TERM") != "dumb" and not os.environ.get("NO_COLOR")
    return stream.isatty() and shows


def shortened(text: str, width: int) -> str:
    """`text` cut to `width` at a space with " ..." if it is longer; a text with no space to
    cut at (a long run of emoji) is cut within it instead of shrinking to "..."."""
    short = textwrap.shorten(text, width=width, placeholder=" ...")
    if short == "...":
        short = " ".join(text.split())[: width - 4] + " ..."
    return short


def annotated(contributions: list[tuple[str, float | None]], colour: bool) -> str:
    """The words, each that mattered followed by its contribution, e.g. `loved[+0.21]`."""
    shown = []
    for word, value in contributions:
        if value is None or abs(value) < SHOWN:
            shown.append(word)
            continue
        text = f"{word}[{value:+.2f}]"
        if colour:  # green towards positive, red towards negative; bold from 0.1
            code = ("32" if value > 0 else "31") + (";1" if abs(value) >= 0.1 else "")
            text = f"\033[{code}m{text}\033[0m"
        shown.append(text)
    return " ".join(shown)


def html_page(records: list[dict], towards: str) -> str:
    """The explained texts as an HTML page: each word shaded by how much it mattered;
    `towards` says of what (that the text is positive, of the label shown)."""
    parts = []
    for record in records:
        # Shaded relative to the text's own largest effect: a confident prediction moves
        # little when one word goes, but the words that move it most still stand out.
        largest = max([abs(v) for _, v in record["words"] if v is not None] + [1e-9])
        spans = []
        for word, value in record["words"]:
            value = value or 0.0
            alpha = 0.7 * min(abs(value) / largest, 1.0)  # at most 0.7: the word stays legible
            rgb = "0, 150, 60" if value > 0 else "215, 40, 40"
            spans.append(
                f'<span title="{value:+.4f}" style="background: rgba({rgb}, {alpha:.2f})">'
                f"{html.escape(word)}</span>"
            )
        label = record["label"]
        top = max(record["probabilities"].values()) if label is None else None
        said = f"{top:.4f} {UNSURE}" if label is None else (
            f"{record['probabilities'][label]:.4f} {html.escape(label)}")  # fmt: skip
        parts.append(f"<p><b>{said}</b><br>" + " ".join(spans) + "</p>")
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>Why the model decided'
        "</title><style>body {font: 16px/1.8 sans-serif; max-width: 50em; margin: 2em auto}"
        " span {padding: 0.1em 0.15em; border-radius: 0.2em}</style></head><body>\n"
        "<h1>Why the model decided</h1><p>Each word is shaded by how much it moved the "
        f"probability {towards}, relative to the word that moved it most in the same text: "
        "green towards it, red away from it; hover over a word for its figure.</p>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="reviews to score")
    parser.add_argument(
        "--file", metavar="PATH",
        help="a UTF-8 text file, one review per line; or a CSV, TSV or JSON Lines file "
        "(.csv, .tsv, .jsonl), its text in --text-column; either also compressed (.gz, .bz2, "
        ".xz, .zst), read as score_corpus.py reads it",
    )  # fmt: skip
    parser.add_argument(
        "--text-column", type=common.cli.column, metavar="NAME",
        help="the column (or JSON key) of a table --file holding the text: a name, or a 0-based "
        "position for a file without a header row (default: text, review, sentence, tweet, "
        "content, body, comment or document)",
    )  # fmt: skip
    common.cli.add_model_flags(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: aligned columns; json: one JSON object per line",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also show how much each word moved the probability (see above)",
    )
    parser.add_argument(
        "--html", metavar="FILE", help="with --explain: save the highlighted texts as a page"
    )
    parser.add_argument(
        "--min-confidence", type=common.cli.probability, metavar="P",
        help="leave a text unanswered (unsure; in JSON \"label\": null, \"abstained\": true) "
        "when the model's top probability is below P, e.g. 0.9; 0 answers every text "
        "(default: the threshold the model was saved with, by --target-accuracy, if any; "
        "docs/trust.md)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.texts and args.file:
        parser.error("give texts as arguments or --file, not both")
    if args.text_column is not None and common.labeled.table_kind(args.file or "") is None:
        parser.error("--text-column names a column of a CSV, TSV or JSON Lines --file")
    if args.html and not args.explain:
        parser.error("--html saves the explanations: add --explain")
    if args.html:
        try:
            folder = Path(args.html).resolve().parent
        except (OSError, RuntimeError) as err:  # a symbolic link loop, for one
            raise common.UserError(f"--html {args.html!r}: {err}.") from None
        common.cli.prepare_output_dir(folder)  # fail now, not at the end

    if args.texts:
        given = [(f"text {i}", text) for i, text in enumerate(args.texts, start=1)]
        common.texts.check_texts(given)  # one sentence for what cannot be scored
        lines, batches = None, [given]
    else:  # a file or standard input: scored as the lines come
        stream, name = common.texts.open_input(args.file)
        # Scored common.texts.BATCH_SIZE lines at a time, or as many as have come.
        lines = batches = common.texts.Lines(stream, name, common.texts.BATCH_SIZE,
                                             args.text_column)  # fmt: skip
    files = common.find_model(args.model, args.models_dir)
    classifier = common.Classifier.load(files, min_confidence=args.min_confidence)
    encoding = classifier.encoding
    shown = common.cli.printable(str(files.folder))
    threshold = classifier.min_confidence  # --min-confidence, else the model's own
    unsure = f"; unsure below {threshold:g}" if threshold else ""
    print(f"Model {shown}: learned from {common.saving.describe(encoding)}{unsure}.",
          file=sys.stderr)  # fmt: skip

    labels = encoding.labels
    two = len(labels) == 2  # then the words are explained towards the positive label
    towards = f"that the text is {labels[1]}" if two else "of the label shown"
    show = Printer(labels, args.format, colour=wants_colour(sys.stdout), cut=sys.stdout.isatty())
    pages, scored = [], 0
    for batch in batches:
        texts = [text for _, text in batch]
        found = classifier.predict(texts, explain=args.explain)
        for record in found:
            show(record)
        sys.stdout.flush()  # each batch as soon as it is scored: a stream shows it live
        scored += len(found)
        if args.html:
            pages += found
    if lines is not None:
        lines.report_blank()
        if not scored:
            raise common.UserError(f"there is no text to score in {lines.name}.")
    if args.html:
        try:
            with common.files.atomic_path(args.html) as temporary:
                temporary.write_text(html_page(pages, towards), encoding="utf-8")
        except OSError as err:
            raise common.UserError(f"cannot write {args.html!r}: {err.strerror or err}.") from None
        print(f"Saved {common.cli.printable(args.html)}", file=sys.stderr)


class Printer:
    """Prints one record: aligned columns, or one JSON object per line. `cut`: texts are
    shortened to the terminal's width (never in a file or a pipe, which keep them whole)."""

    def __init__(self, labels: Sequence[str], fmt: str, colour: bool, cut: bool = False) -> None:
        self.labels, self.format, self.colour, self.cut = labels, fmt, colour, cut
        self.width = shutil.get_terminal_size((100, 24)).columns
        self.label_width = max(8, *(len(common.cli.printable(label)) for label in labels))

    def __call__(self, record: dict) -> None:
        if self.format == "json":
            print(common.cli.json_text(record))
            return
        label, text = record["label"], common.cli.printable(record["text"])
        two = len(self.labels) == 2
        # One quantity in the first column: the probability of the most probable label,
        # the one shown (or, unsure, the one the model would have given).
        first = max(record["probabilities"].values())
        shown = UNSURE if label is None else common.cli.printable(label)  # abstained
        line = f"{first:.4f}  {shown:<{self.label_width}}  "
        if not two:  # every other label's probability too
            line += "(" + ", ".join(f"{common.cli.printable(name)} {p:.4f}"
                                    for name, p in record["probabilities"].items()
                                    if name != label) + ")  "  # fmt: skip
        if "words" in record:
            print(line + text)
            explained = annotated(record["words"], self.colour)
            print(textwrap.indent(textwrap.fill(explained, self.width - 4), "    "))
        elif self.cut:
            print(line + shortened(text, max(self.width - len(line) - 2, 20)))
        else:
            print(line + text)


if __name__ == "__main__":
    common.run(main)
