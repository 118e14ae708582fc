"""The linear baselines in scikit-learn: peers to measure the Keras models against.

First, on exactly the arrays the Keras models read: the same 5,000 words, the same 500
tokens, the same word pairs (models/bag_of_ngrams.py). Four logistic regressions (C = 4,
as train_bow.py): TF-IDF of counts and naive-Bayes-weighted presence, each of words and
of words and pairs. Then scikit-learn as a reader would write it: `TfidfVectorizer()`
and `LogisticRegression()` with their defaults, on every word of each whole text, of
words and of words and pairs (`ngram_range=(1, 2)`). All are fitted on the training
rows the Keras models learn from (the first 22,500 IMDB reviews), validated on the
rest (the last 2,500), and tested once. Nothing is chosen here; every figure is printed.

scikit-learn is a benchmark-only dependency: pip install -r requirements-bench.txt

    python benchmarks/sklearn_baselines.py --data aclImdb_v1.tar.gz
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402

from models.bag_of_ngrams import pair_keys, pair_vocabulary  # noqa: E402

if TYPE_CHECKING:
    from scipy.sparse import spmatrix
    from sklearn.linear_model import LogisticRegression

C = 4.0  # as train_bow.py
VALIDATION_SPLIT = 0.1  # as the training scripts' default


def ngram_counts(x: np.ndarray, pairs: np.ndarray | None, num_words: int):
    """A sparse matrix: how often each word (and each known pair) occurs in each review.

    Column ids are those of models.bag_of_ngrams.NgramIds: a word's token id, then
    num_words + the pair's place in `pairs`.
    """
    from scipy import sparse

    rows, columns = np.nonzero(x > 0)
    ids = [(rows, x[rows, columns].astype(np.int64))]
    width = num_words
    if pairs is not None:
        keys = pair_keys(x, num_words)
        where = np.minimum(np.searchsorted(pairs, keys), len(pairs) - 1)
        known = (keys >= 0) & (pairs[where] == keys)
        pair_rows, pair_columns = np.nonzero(known)
        ids.append((pair_rows, num_words + where[known].astype(np.int64)))
        width += len(pairs)
    rows = np.concatenate([r for r, _ in ids])
    columns = np.concatenate([c for _, c in ids])
    values = np.ones(len(rows), dtype=np.float64)
    return sparse.csr_matrix((values, (rows, columns)), shape=(len(x), width))  # sums repeats


def run_baselines(data: common.data.Dataset) -> list[dict]:
    """Fit the four regressions; their validation and test accuracy and seconds."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    n = common.data.fit_size(len(data.x_train), VALIDATION_SPLIT)
    x_fit, y_fit = data.x_train[:n], data.y_train[:n]
    x_val, y_val = data.x_train[n:], data.y_train[n:]
    results = []
    for ngrams in (1, 2):
        weightings = ["TF-IDF of counts", "naive-Bayes-weighted presence"]
        for weighting in weightings[: 2 if data.num_classes == 2 else 1]:
            start = time.perf_counter()
            pairs = pair_vocabulary(x_fit, data.num_words) if ngrams == 2 else None
            fit, val, test = (ngram_counts(x, pairs, data.num_words)
                              for x in (x_fit, x_val, data.x_test))  # fmt: skip
            if weighting.startswith("TF-IDF"):
                tfidf = TfidfTransformer(sublinear_tf=True).fit(fit)
                fit, val, test = (tfidf.transform(m) for m in (fit, val, test))
            else:
                fit, val, test = (m.sign() for m in (fit, val, test))
                positive = 1 + np.asarray(fit[y_fit == 1].sum(axis=0)).ravel()
                negative = 1 + np.asarray(fit[y_fit == 0].sum(axis=0)).ravel()
                ratios = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
                scale = sparse.diags(ratios)
                fit, val, test = (m @ scale for m in (fit, val, test))
            model = LogisticRegression(C=C, max_iter=1000).fit(fit, y_fit)
            seconds = time.perf_counter() - start
            words = "words and pairs" if ngrams == 2 else "words"
            results.append(figures(f"{weighting}, {words}, C = {C:g}", model, seconds,
                                   fit, (val, y_val), (test, data)))  # fmt: skip
    return results


def text_baselines(whole: common.data.Dataset) -> list[dict]:
    """TfidfVectorizer() and LogisticRegression(), defaults kept, on every word of each text
    (`whole`: loaded without a vocabulary limit or padding), split as the Keras models are."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    n = common.data.fit_size(len(whole.x_train), VALIDATION_SPLIT)
    texts = common.data.decode_many(whole.x_train, whole.word_index)
    test_texts = common.data.decode_many(whole.x_test, whole.word_index)
    results = []
    for ngrams in (1, 2):
        start = time.perf_counter()
        vectorizer = TfidfVectorizer(ngram_range=(1, ngrams))
        fit = vectorizer.fit_transform(texts[:n])
        model = LogisticRegression(max_iter=1000).fit(fit, whole.y_train[:n])
        seconds = time.perf_counter() - start
        val, test = (vectorizer.transform(t) for t in (texts[n:], test_texts))
        words = "words and pairs" if ngrams == 2 else "words"
        results.append(figures(f"TfidfVectorizer(), {words}, C = 1", model, seconds,
                               fit, (val, whole.y_train[n:]), (test, whole)))  # fmt: skip
    return results


def figures(
    features: str,
    model: LogisticRegression,
    seconds: float,
    fit: spmatrix,
    validation: tuple[spmatrix, np.ndarray],
    test: tuple[spmatrix, common.data.Dataset],
) -> dict:
    """One row of the table: a fitted regression's validation accuracy, then its test
    accuracy and macro F1 (the test rows predicted once), seconds and feature columns."""
    test_features, data = test
    predicted = model.predict(test_features)
    return {
        "features": features,
        "validation": model.score(*validation),
        "test": float(np.mean(predicted == data.y_test)),
        "macro_f1": common.report.class_figures(data.y_test, predicted, data.labels)["macro_f1"],
        "seconds": seconds,
        "columns": fit.shape[1],
    }


def format_results(results: list[dict]) -> str:
    lines = [f"{'scikit-learn LogisticRegression on':<54}{'columns':>9}"
             f"{'validation':>12}{'test':>9}{'macro F1':>10}{'seconds':>9}"]  # fmt: skip
    lines.append("-" * len(lines[0]))
    lines += [
        f"{r['features']:<54}{r['columns']:>9,}{r['validation']:>12.2%}{r['test']:>9.2%}"
        f"{r['macro_f1']:>10.2%}{r['seconds']:>9.1f}"
        for r in results
    ]
    return "\n".join(lines)


def main() -> None:
    parser = common.cli.data_parser(__doc__, writes=False)
    common.cli.add_encoding_flags(
        parser, num_words=common.data.NUM_WORDS, maxlen=common.data.MAXLEN
    )
    args = parser.parse_args()
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise common.UserError(
            "this benchmark needs scikit-learn: pip install -r requirements-bench.txt"
        ) from None
    # Every word of every text, for TfidfVectorizer; the arrays the Keras models read.
    whole = common.labeled.load_data(args.data, None, None, common.labeled.options(args))
    data = whole.clipped(args.num_words).padded(args.maxlen)
    print(format_results(run_baselines(data) + text_baselines(whole)))


if __name__ == "__main__":
    common.run(lambda argv: main())
