"""Does find_label_issues.py find wrong labels? Flip some on purpose and see.

Flips --noise (10%) of the training rows' labels, each to another label drawn at random
(--seed 7), writes the rows as JSON Lines (row i on line i + 1), runs
find_label_issues.py on them, and measures the precision and recall of the rows it
flags and of its top N, N being the number of rows flipped. The peers, on the same
noisy rows: scikit-learn as a reader would write it, `TfidfVectorizer()` and
`LogisticRegression()` 5-fold out of fold (`cross_val_predict`), ranked by the
probability of the given label; and cleanlab's `find_label_issues` on those
probabilities, beside models/label_issues.py's on the same. And the same scikit-learn
fitted on the clean labels, so that it never saw a flipped one, ranking the noisy rows
by the probability of their given label: how much of a ranking's shortfall comes from
the wrong labels it learned, and how much from how well the model reads the texts at
all. Then train_bow.py is
trained on the clean labels, on the noisy ones, and on the noisy ones less the rows
flagged, each tested once on the test set.

scikit-learn and cleanlab are benchmark-only dependencies: pip install -r requirements-bench.txt

    python benchmarks/label_issues.py --data aclImdb_v1.tar.gz
    python benchmarks/rating_texts.py --data aclImdb_v1.tar.gz --cut last-sentences OUT/
    python benchmarks/label_issues.py --data OUT/train.csv --test-data OUT/test.csv --maxlen 50
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402

from models import label_issues  # noqa: E402

FOLDS = 5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data",
        required=True,
        help="the IMDB archive or folder, or a labeled CSV, TSV or JSON Lines file",
    )
    parser.add_argument("--test-data", help="with a file of your own: its test file")
    parser.add_argument(
        "--noise",
        type=common.cli.probability,
        default=0.1,
        help="the share of training labels flipped (default: 0.1)",
    )
    parser.add_argument(
        "--seed",
        type=common.cli.seed_int,
        default=common.cli.DEFAULT_SEED,
        help="draws the rows flipped and their new labels (default: 7)",
    )
    parser.add_argument(
        "--maxlen",
        type=common.cli.whole_number(8),
        default=500,
        help="passed to find_label_issues.py and train_bow.py (default: 500)",
    )
    args = parser.parse_args(argv)  # fmt: skip
    if common.data.is_imdb(Path(args.data)) == bool(args.test_data):
        parser.error("give the IMDB dataset alone, or a file of your own with --test-data")
    return args


def labeled_rows(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The (text, label) rows to train on and to test on."""
    if args.test_data is None:
        reviews = common.data.read_reviews(args.data)
        parts: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
        for name in sorted(reviews):
            part, label = name.split("/")[-3:-1]
            if part in parts and label in ("pos", "neg"):
                parts[part].append((reviews[name], "positive" if label == "pos" else "negative"))
        return parts["train"], parts["test"]
    columns = common.labeled.Columns()
    return tuple(
        [(row.text, row.label) for row in common.labeled.reader(Path(path), columns)]
        for path in (args.data, args.test_data)
    )


def write_rows(path: Path, rows: list[tuple[str, str]]) -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.writelines(json.dumps({"text": text, "label": label}) + "\n" for text, label in rows)


def run(command: list[str]) -> str:
    """A script's output; its error and exit where it fails."""
    script, *flags = command
    result = subprocess.run([sys.executable, str(ROOT / script), *flags], capture_output=True,
                            text=True)  # fmt: skip
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-2000:] + result.stderr[-3000:])
        raise SystemExit(f"error: {script} failed (exit {result.returncode})")
    return result.stdout


def test_accuracy(train: Path, test: Path, maxlen: int, folder: Path) -> float:
    output = run(["train_bow.py", "--data", str(train), "--test-data", str(test),
                  "--maxlen", str(maxlen), "--output-dir", str(folder)])  # fmt: skip
    return float(re.findall(r"^Accuracy: ([\d.]+)%", output, re.M)[-1]) / 100


def scores(ranked: np.ndarray, flipped: np.ndarray) -> tuple[float, float]:
    """The precision and recall of the rows `ranked`."""
    hits = flipped[ranked].sum() if len(ranked) else 0
    return hits / max(len(ranked), 1), hits / max(flipped.sum(), 1)


def sklearn_ranking(
    texts: list[str], given: np.ndarray, fitted_on: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn as a reader would write it, fitted out of fold on the labels
    `fitted_on`: its probabilities, and the rows by the probability of their `given`
    label, lowest (most suspicious) first."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    features = TfidfVectorizer().fit_transform(texts)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    probabilities = cross_val_predict(LogisticRegression(max_iter=1000), features, fitted_on,
                                      cv=folds, method="predict_proba")  # fmt: skip
    return probabilities, np.argsort(probabilities[np.arange(len(given)), given], kind="stable")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)  # --help needs no peer installed
    from cleanlab.filter import find_label_issues  # a peer: requirements-bench.txt

    train, test = labeled_rows(args)
    labels = sorted({label for _, label in train})
    y = np.array([labels.index(label) for _, label in train])
    rng = np.random.RandomState(args.seed)
    flipped = np.zeros(len(y), bool)
    flipped[rng.choice(len(y), round(args.noise * len(y)), replace=False)] = True
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.randint(1, len(labels), flipped.sum())) % len(labels)
    n = int(flipped.sum())
    print(f"{len(y):,} training rows, {len(labels)} labels; {n:,} flipped "
          f"({args.noise:.0%}, seed {args.seed}); {len(test):,} test rows", flush=True)  # fmt: skip

    table = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        files = {name: folder / f"{name}.jsonl" for name in ("clean", "noisy", "cleaned", "test")}
        write_rows(files["clean"], train)
        texts = [text for text, _ in train]
        write_rows(files["noisy"], [(t, labels[g]) for t, g in zip(texts, noisy, strict=True)])
        write_rows(files["test"], test)

        start = time.perf_counter()
        run(["find_label_issues.py", "--data", str(files["noisy"]), "--maxlen", str(args.maxlen),
             "--output", str(folder / "issues.csv"), "--seed", str(args.seed)])  # fmt: skip
        seconds = time.perf_counter() - start
        with open(folder / "issues.csv", encoding="utf-8", newline="") as file:
            ours = np.array([int(row["line"]) - 1 for row in csv.DictReader(file)], np.int64)
        table.append(("find_label_issues.py (bag of n-grams, confident learning)",
                      ours, ours[:n], f"{seconds:.0f} s"))  # fmt: skip

        start = time.perf_counter()
        probabilities, ranked = sklearn_ranking(texts, noisy, noisy, args.seed)
        seconds = time.perf_counter() - start
        table.append(("scikit-learn TF-IDF + LogisticRegression, by p(given)", None, ranked[:n],
                      f"{seconds:.0f} s"))  # fmt: skip
        flagged = np.asarray(
            find_label_issues(noisy, probabilities, return_indices_ranked_by="self_confidence")
        )
        ours_on_theirs = label_issues.find_label_issues(probabilities, noisy)
        unseen = sklearn_ranking(texts, noisy, y, args.seed)[1]
        table.append(("the same probabilities, cleanlab's find_label_issues", flagged,
                      flagged[:n], ""))  # fmt: skip
        table.append(("the same probabilities, models/label_issues.py", ours_on_theirs,
                      ours_on_theirs[:n], ""))  # fmt: skip
        table.append(("scikit-learn fitted on the clean labels (never saw a flip), by p(given)",
                      None, unseen[:n], ""))  # fmt: skip

        keep = np.ones(len(y), bool)
        keep[ours] = False
        write_rows(files["cleaned"], [(text, labels[g]) for (text, _), g, k
                                      in zip(train, noisy, keep, strict=True) if k])  # fmt: skip
        accuracy = {name: test_accuracy(files[name], files["test"], args.maxlen, folder / name)
                    for name in ("clean", "noisy", "cleaned")}  # fmt: skip

    print(f"\n| method | flagged | precision | recall | top {n:,}: precision | recall | time |")
    print("|---|---|---|---|---|---|---|")
    for name, flagged_rows, top, seconds in table:
        if flagged_rows is None:
            flagged_cells = "| | | "
        else:
            precision, recall = scores(flagged_rows, flipped)
            flagged_cells = f"| {len(flagged_rows):,} | {precision:.1%} | {recall:.1%} "
        precision, recall = scores(top, flipped)
        print(f"| {name} {flagged_cells}| {precision:.1%} | {recall:.1%} | {seconds} |")
    print(f"\ntrain_bow.py --maxlen {args.maxlen}, test accuracy: clean labels "
          f"{accuracy['clean']:.2%}; {args.noise:.0%} flipped {accuracy['noisy']:.2%}; flipped, "
          f"less the {len(ours):,} rows flagged {accuracy['cleaned']:.2%}")  # fmt: skip


if __name__ == "__main__":
    main()
