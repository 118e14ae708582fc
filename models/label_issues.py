"""Which labels are likely wrong: confident learning on out-of-fold probabilities.

Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty in Dataset
Labels" (JAIR, 2021). Given each text's probabilities from a model that never saw it
(out of fold), and the label it was given:

1. each label j gets a threshold, the model's mean probability of j over the texts
   given j (how sure it is of that label where the label is, supposedly, right);
2. a text's confident label is the label of highest probability among those above
   their threshold (none if none is); counting given against confident labels is the
   confident joint, scaled so that each given label keeps its number of texts;
3. from it, the share of texts given i that are really j; that many texts given i
   are flagged, those where j beats i by the widest margin ("prune by noise rate");
   a text whose given label is the model's top label is never flagged.

The flagged texts are ranked by the probability of their given label, lowest first.
Only NumPy: it takes any model's probabilities.
"""

from __future__ import annotations

import numpy as np


def confident_joint(probabilities: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Counts (given label, confident label), calibrated to the given labels' counts."""
    k = probabilities.shape[1]
    counts = np.bincount(given, minlength=k)
    thresholds = np.array([probabilities[given == j, j].mean() if counts[j] else 1.0
                           for j in range(k)])  # fmt: skip
    above = probabilities >= thresholds - 1e-6  # a label reached at its mean is in
    confident = np.where(above, probabilities, -1.0).argmax(axis=1)
    counted = above.any(axis=1)
    joint = np.zeros((k, k))
    np.add.at(joint, (given[counted], confident[counted]), 1)
    row_sums = joint.sum(axis=1, keepdims=True)
    scaled = np.divide(joint, row_sums, out=np.zeros_like(joint), where=row_sums > 0)
    return scaled * counts[:, None]


def find_label_issues(probabilities: np.ndarray, given: np.ndarray) -> np.ndarray:
    """The rows whose given label is likely wrong, most suspicious first (see above).

    `probabilities` (rows, labels) come from a model that did not learn from the row;
    `given` holds the label ids 0 to labels - 1.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    given = np.asarray(given, dtype=np.int64)
    joint = confident_joint(probabilities, given)
    rows = np.arange(len(given))
    flagged = np.zeros(len(given), bool)
    for i, j in zip(*np.nonzero(joint), strict=True):
        if i == j:
            continue
        count = int(round(joint[i, j]))
        candidates = rows[given == i]
        margin = probabilities[candidates, j] - probabilities[candidates, i]
        flagged[candidates[np.argsort(-margin, kind="stable")[:count]]] = True
    flagged &= probabilities.argmax(axis=1) != given
    suspects = rows[flagged]
    return suspects[np.argsort(probabilities[suspects, given[suspects]], kind="stable")]
