"""Three labels of short texts from the IMDB reviews' ratings: train.csv and test.csv.

Each review of the Stanford archive is named `<id>_<stars>.txt`. Its stars make the
label (1-2 negative; 3-4 and 7-8 mixed; 9-10 positive), and its end makes the text,
where a review gives its verdict: its last sentence (about a tweet's length), or its
last sentences up to 30 words. The official split is kept: train.csv from train/,
test.csv from test/, rows in the order of their text. A data set of your own kind to
try the scripts on, with more than two labels and short texts:

    python benchmarks/rating_texts.py --data aclImdb_v1.tar.gz --cut last-sentence OUT/
    python train_bow.py --data OUT/train.csv --test-data OUT/test.csv --maxlen 50
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tarfile
from pathlib import Path

REVIEW = re.compile(r"(?:^|/)(train|test)/(?:pos|neg)/\d+_(\d+)\.txt$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MAX_WORDS = 30  # --cut last-sentences: the last sentences of at most 30 words in all


def label(stars: int) -> str:
    return "negative" if stars <= 2 else "positive" if stars >= 9 else "mixed"


def cut(review: str, how: str) -> str:
    """The end of a review: its last sentence, or its last sentences up to MAX_WORDS."""
    text = re.sub(r"<br\s*/?>", " ", review).strip()
    sentences = [s for s in SENTENCE_END.split(text) if re.search(r"\w", s)] or [text]
    if how == "last-sentence":
        return sentences[-1]
    kept = [sentences[-1]]
    for sentence in reversed(sentences[:-1]):
        if len(" ".join([sentence, *kept]).split()) > MAX_WORDS:
            break
        kept.insert(0, sentence)
    return " ".join(kept)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, help="the Stanford archive, aclImdb_v1.tar.gz")
    parser.add_argument("--cut", choices=("last-sentence", "last-sentences"), required=True)
    parser.add_argument("output", type=Path, help="the folder to write train.csv and test.csv in")
    args = parser.parse_args(argv)
    rows: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    try:
        with tarfile.open(args.data) as archive:
            for member in archive:
                found = REVIEW.search(member.name)
                if found and member.isfile():
                    review = archive.extractfile(member).read().decode("utf-8", "replace")
                    rows[found.group(1)].append((cut(review, args.cut), label(int(found.group(2)))))
    except (OSError, tarfile.TarError) as err:
        raise SystemExit(f"error: cannot read --data {args.data!r}: {err}") from None
    if not all(rows.values()):
        raise SystemExit(f"error: --data {args.data!r} holds no train/ and test/ reviews")
    args.output.mkdir(parents=True, exist_ok=True)
    for split, texts in rows.items():
        with open(args.output / f"{split}.csv", "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["text", "label"])
            writer.writerows(sorted(texts))
        print(f"{args.output / f'{split}.csv'}: {len(texts):,} texts", file=sys.stderr)


if __name__ == "__main__":
    main()
