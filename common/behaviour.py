"""Behavioural checks in the spirit of CheckList (Ribeiro et al., 2020): does the model do
what anyone would expect of a sentiment model, on sentences made for the purpose?

Accuracy on a test set says how often a model is right, not what it has learned. These
checks ask it pointed questions, each on sentences built from templates:

* negation: "The film was not good." must score further from positive than "The film
  was good." (by at least `MARGIN`), and "not bad" further from negative than "bad";
* intensity: "The film was very good." (or really, or extremely) must not score less
  positive than "The film was good." (by more than `MARGIN`), nor "very bad" less
  negative than "bad";
* invariance: changing a person's name, the punctuation, or one letter of a word that
  holds no opinion ("flim") must not change the label the model gives.

Negation and intensity need a positive and a negative label (with two labels, the
model's; with more, the ones named positive and negative); invariance works with any
labels. The sentences are English and short: a model that learned from long reviews
may fail them for that reason alone, which is worth knowing too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

MARGIN = 0.1  # how far a probability must move (negation), or may move back (intensity)
POSITIVE_WORDS = ("good", "great", "excellent", "wonderful", "enjoyable", "brilliant",
                  "funny", "beautiful", "entertaining", "moving")  # fmt: skip
NEGATIVE_WORDS = ("bad", "awful", "boring", "terrible", "dull", "poor", "stupid",
                  "horrible", "weak", "disappointing")  # fmt: skip
NOUNS = ("film", "movie", "acting", "story", "ending")
FRAMES = ("The {noun} was {adjective}.", "I thought the {noun} was {adjective}.",
          "This {noun} is {adjective}.")  # fmt: skip
INTENSIFIERS = ("very", "really", "extremely")
NAMES = ("John", "Maria", "Ahmed", "Wei", "Priya", "Olga", "Kwame", "Sofia")
NAME_FRAMES = ("{name} was {adjective} in this film.", "I saw it with {name}; it was {adjective}.")
TYPOS = {"film": "flim", "movie": "moive", "acting": "actign", "story": "stroy", "ending": "endign"}

Score = Callable[[Sequence[str]], np.ndarray]  # texts -> probabilities (texts, labels)


def sentences(adjectives: Sequence[str]) -> list[tuple[str, str, str]]:
    """(frame, noun, adjective) for every frame, noun and adjective."""
    return list(itertools.product(FRAMES, NOUNS, adjectives))


def polarity(labels: Sequence[str]) -> tuple[int, int] | None:
    """The ids of the negative and the positive label, or None where the labels have none."""
    if len(labels) == 2:
        return 0, 1
    lowered = [label.lower() for label in labels]
    for negative, positive in (("negative", "positive"), ("neg", "pos")):
        if negative in lowered and positive in lowered:
            return lowered.index(negative), lowered.index(positive)
    return None


def pairs(labels: Sequence[str]) -> list[tuple[str, list[str], list[str], int | None, int]]:
    """Each check: its name, the sentences before and after the change, the label whose
    probability it watches (None: the label given must stay the same), and which way
    that probability must go (-1: down by MARGIN at least; 0: not down by more)."""
    checks = []
    sides = polarity(labels)
    if sides is not None:
        negative, positive = sides
        for label, words, name in ((positive, POSITIVE_WORDS, "positive"),
                                   (negative, NEGATIVE_WORDS, "negative")):  # fmt: skip
            plain = [f.format(noun=n, adjective=a) for f, n, a in sentences(words)]
            negated = [f.format(noun=n, adjective=f"not {a}") for f, n, a in sentences(words)]
            checks.append((f"negation: not + a {name} word scores less {name}", plain,
                           negated, label, -1))  # fmt: skip
            stronger = [f.format(noun=n, adjective=f"{very} {a}") for very in INTENSIFIERS
                        for f, n, a in sentences(words)]  # fmt: skip
            check = f"intensity: very, really or extremely + a {name} word is no less {name}"
            checks.append((check, plain * len(INTENSIFIERS), stronger, label, 0))
    words = POSITIVE_WORDS[:4] + NEGATIVE_WORDS[:4]
    named = [[f.format(name=name, adjective=a) for name in NAMES]
             for f, a in itertools.product(NAME_FRAMES, words)]  # fmt: skip
    base = [group[0] for group in named for _ in group[1:]]
    other = [text for group in named for text in group[1:]]
    checks.append(("invariance: another person's name", base, other, None, 0))
    plain = [f.format(noun=n, adjective=a) for f, n, a in sentences(words)]
    ended = [text.rstrip(".") + "!" for text in plain]
    checks.append(("invariance: ! for . at the end", plain, ended, None, 0))
    typo = [f.format(noun=TYPOS[n], adjective=a) for f, n, a in sentences(words)]
    checks.append(("invariance: a typo in the noun (flim for film)", plain, typo, None, 0))
    return checks


def run_checks(score: Score, labels: Sequence[str]) -> list[dict]:
    """Every check's name, how many sentence pairs it tried, how many passed, and its
    worst pair (the one that failed by most, or came nearest to failing), with the
    probability of the label the check watches before and after. Every sentence is
    scored once, in one call."""
    checks = pairs(labels)
    texts = sorted({text for _, before, after, _, _ in checks for text in before + after})
    scored = score(texts)
    row = {text: i for i, text in enumerate(texts)}
    results = []
    for name, before, after, label, sign in checks:
        first = scored[[row[text] for text in before]]
        second = scored[[row[text] for text in after]]
        if label is None:
            results.append(_same_label(first, second, before, after, name))
        else:
            results.append(_moved(first[:, label], second[:, label], before, after, label,
                                  sign, name))  # fmt: skip
    return results


def _moved(first: np.ndarray, second: np.ndarray, before: list[str], after: list[str],
           label: int, sign: int, name: str) -> dict:  # fmt: skip
    """Pairs pass where `label`'s probability moves down by MARGIN at least (sign -1) or
    does not move down by more than MARGIN (sign 0)."""
    change = second - first
    passed = change <= -MARGIN if sign < 0 else change >= -MARGIN
    worst = int(np.argmax(change)) if sign < 0 else int(np.argmin(change))
    return _result(name, passed, before[worst], after[worst], first[worst], second[worst], label)


def _same_label(first: np.ndarray, second: np.ndarray, before: list[str], after: list[str],
                name: str) -> dict:  # fmt: skip
    """Pairs pass where the top label is the same."""
    passed = first.argmax(axis=1) == second.argmax(axis=1)
    top = first.argmax(axis=1)
    moved = np.abs(first[np.arange(len(top)), top] - second[np.arange(len(top)), top])
    worst = int(np.argmax(np.where(passed, -1.0, moved)))
    return _result(name, passed, before[worst], after[worst], first[worst, top[worst]],
                   second[worst, top[worst]], int(top[worst]))  # fmt: skip


def _result(name: str, passed: np.ndarray, before: str, after: str, p_before: float,
            p_after: float, label: int) -> dict:  # fmt: skip
    example = {"before": before, "after": after, "label": label,
               "p_before": float(p_before), "p_after": float(p_after)}  # fmt: skip
    return {"check": name, "pairs": int(len(passed)), "passed": int(passed.sum()),
            "example": example}  # fmt: skip
