"""The model card's figures (common/model_card.py) and behavioural checks (common/behaviour.py),
on scorers and outputs made here: no model is trained."""

from __future__ import annotations

from common import behaviour, model_card

import numpy as np
import pytest


def lexicon(handles_not: bool):
    """A scorer that counts praise and blame words; `handles_not`: "not X" is the opposite."""
    praise, blame = set(behaviour.POSITIVE_WORDS), set(behaviour.NEGATIVE_WORDS)

    def score(texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            words = text.lower().rstrip(".!").replace(";", "").split()
            total = 0.0
            for i, word in enumerate(words):
                sign = 1 if word in praise else -1 if word in blame else 0
                if handles_not and i and words[i - 1] == "not":
                    sign = -sign
                total += sign * (1.5 if i and words[i - 1] in behaviour.INTENSIFIERS else 1.0)
            p = 1 / (1 + np.exp(-2 * total))
            rows.append([1 - p, p])
        return np.array(rows)

    return score


def rates(score, labels=("negative", "positive")) -> dict[str, float]:
    return {c["check"].split(":")[0] + c["check"].split()[-1]: c["passed"] / c["pairs"]
            for c in behaviour.run_checks(score, labels)}  # fmt: skip


def test_a_model_deaf_to_not_fails_negation_and_passes_the_rest() -> None:
    passed = rates(lexicon(handles_not=False))
    assert passed["negationpositive"] == passed["negationnegative"] == 0.0
    assert all(rate == 1.0 for name, rate in passed.items() if not name.startswith("negation"))


def test_a_model_that_reads_not_passes_negation() -> None:
    passed = rates(lexicon(handles_not=True))
    assert passed["negationpositive"] == passed["negationnegative"] == 1.0
    checks = behaviour.run_checks(lexicon(handles_not=True), ["negative", "positive"])
    worst = checks[0]["example"]  # the pair that came nearest to failing, and its figures
    assert worst["after"] == worst["before"].replace(" was ", " was not ").replace(
        " is ", " is not "
    )
    assert worst["p_before"] > 0.5 > worst["p_after"] and worst["label"] == 1


def test_negation_and_intensity_need_a_positive_and_a_negative_label() -> None:
    assert behaviour.polarity(["bad", "good"]) == (0, 1)  # two labels: the model's own
    assert behaviour.polarity(["Negative", "neutral", "Positive"]) == (0, 2)
    assert behaviour.polarity(["sports", "politics", "science"]) is None

    def three(texts: list[str]) -> np.ndarray:
        return np.tile([0.2, 0.5, 0.3], (len(texts), 1))

    names = [c["check"] for c in behaviour.run_checks(three, ["sports", "politics", "science"])]
    assert names and all(name.startswith("invariance") for name in names)


def test_the_bootstrap_interval_holds_the_figure_and_narrows_with_more_texts() -> None:
    rng = np.random.RandomState(0)
    widths = []
    for n in (200, 20_000):
        y = rng.randint(0, 3, n)
        guess = np.where(rng.rand(n) < 0.8, y, (y + 1) % 3)  # right on about 80%
        intervals = model_card.bootstrap(y, guess, 3)
        low, high = intervals["accuracy"]
        assert low < np.mean(guess == y) < high
        widths.append(high - low)
        assert intervals["macro_f1"][0] < intervals["macro_f1"][1]
    # About 1 / sqrt(n): a hundred times the texts, a tenth of the width.
    assert widths[1] == pytest.approx(widths[0] / 10, rel=0.3)


def test_accuracy_by_length_bins_every_text_once() -> None:
    words = np.array([3, 10, 11, 30, 31, 120, 400, 500])
    right = np.array([1, 0, 1, 1, 0, 1, 1, 0], bool)
    rows = model_card.by_length(words, right, maxlen=500)
    assert rows == [("1-10", 2, 0.5), ("11-30", 2, 1.0), ("31-100", 1, 0.0),
                    ("101-300", 1, 1.0), ("301-500 (cut to it)", 2, 0.5)]  # fmt: skip
    assert model_card.by_length(np.array([5, 16]), np.array([1, 1], bool), 16) == [
        ("1-10", 1, 1.0), ("11-16 (cut to it)", 1, 1.0)
    ]  # fmt: skip


def test_the_flags_read_as_they_are_typed() -> None:
    flags = {"data": "reviews.csv", "epochs": 2, "short_texts": True, "dry_run": False,
             "target_accuracy": None}  # fmt: skip
    assert model_card.command_line(flags) == "--data reviews.csv --epochs 2 --short-texts"
