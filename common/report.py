"""What the scripts write: plots and metrics files (atomically), and where the time went."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common.cli import UserError, printable
from common.files import atomic_path, write_json
from common.saving import CALIBRATION_PLOT, HISTORY_PLOT, IMDB_NAME, METRICS_FILE
from common.timing import PhaseClock

import keras
import matplotlib
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure  # the object API: saves files, never needs a screen

from models.calibration import BINS, calibrator


def save_figure(figure: Figure, path: str | os.PathLike[str]) -> None:
    """Save a Matplotlib figure as PNG, atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=120)


MAX_PARTS = 5  # the panels of a model trained in parts that one plot holds


@dataclass
class TrainingRun:
    """What one training from one seed gave: the test figures and the curves."""

    seed: int
    test_accuracy: float
    test_loss: float
    history: dict[str, list[float]]  # Keras's History.history: loss, accuracy, val_...
    seconds_per_epoch: list[float]


def class_figures(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Each label's precision, recall, F1 and number of texts, and the confusion matrix
    (row: the true label, column: the predicted one). A label never predicted has
    precision 0, as one never present has recall 0."""
    k = len(labels)
    confusion = np.bincount(np.asarray(y_true) * k + np.asarray(y_pred), minlength=k * k)
    confusion = confusion.reshape(k, k)
    right = np.diag(confusion).astype(float)
    predicted, present = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(right, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(right, present, out=np.zeros(k), where=present > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(k), where=both > 0)
    return {
        "labels": list(labels),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "texts": present.tolist(),
        "confusion": confusion.tolist(),
        "macro_f1": float(f1.mean()),
    }


MAX_STORED_CONFUSION = 100  # labels; the metrics file holds the matrix of no more


def stored_figures(figures: dict[str, Any] | None) -> dict[str, Any] | None:
    """`class_figures` as the metrics file keeps them: the confusion matrix only up to
    MAX_STORED_CONFUSION labels (1,000 labels would make it a million numbers, 11 MB);
    beyond, analyze_model.py computes it."""
    if figures is None or len(figures["labels"]) <= MAX_STORED_CONFUSION:
        return figures
    return {**figures, "confusion": None}


def class_table(figures: dict[str, Any]) -> str:
    """`class_figures` as aligned lines: one per label, then the macro average of F1."""
    names = [printable(label) for label in figures["labels"]]
    width = max(len("macro F1"), *(len(name) for name in names))
    lines = [f"  {'label':<{width}}  {'precision':>9}  {'recall':>7}  {'F1':>7}  {'texts':>9}"]
    for i, name in enumerate(names):
        precision, recall, f1 = (figures[key][i] for key in ("precision", "recall", "f1"))
        lines.append(
            f"  {name:<{width}}  {precision:>9.2%}  {recall:>7.2%}  {f1:>7.2%}"
            f"  {figures['texts'][i]:>9,}"
        )
    lines.append(f"  {'macro F1':<{width}}  {'':>9}  {'':>7}  {figures['macro_f1']:>7.2%}")
    return "\n".join(lines)


def history_figure(run: TrainingRun, title: str) -> Figure:
    """Loss and accuracy per epoch, training and validation (if any).

    A model trained in parts (an ensemble) records `<part>_loss`, `<part>_val_loss`, ...:
    each part gets a row of panels of its own, titled with what it fitted, in the order
    they were trained, up to MAX_PARTS; more is one UserError sentence. A part trained
    for one epoch shows its figures beside its points.
    """
    losses = [key for key in run.history if key.endswith("loss") and "val_loss" not in key]
    parts = list(dict.fromkeys(key[: -len("loss")] for key in losses))  # in training order
    if len(parts) > MAX_PARTS:
        raise UserError(
            f"the history plot draws at most {MAX_PARTS} training parts; this run has "
            f"{len(parts)} ({', '.join(p.rstrip('_') or 'the model' for p in parts)})."
        )
    figure = Figure(figsize=(10, 1.3 + 3.0 * len(parts)), layout="constrained")
    rows = figure.subfigures(len(parts), 1, squeeze=False)[:, 0] if len(parts) > 1 else [figure]
    for panel, part in zip(rows, parts, strict=True):
        if part:
            panel.suptitle(part.rstrip("_"), fontsize="medium", fontweight="bold")
        for ax, metric in zip(panel.subplots(1, 2), ("loss", "accuracy"), strict=True):
            for key, style, color, label in ((f"{part}{metric}", "o-", "tab:blue", "training"),
                    (f"{part}val_{metric}", "s--", "tab:orange", "validation")):  # fmt: skip
                values = run.history.get(key)
                if not values:
                    continue
                ax.plot(np.arange(1, len(values) + 1), values, style, color=color, label=label)
                if len(values) == 1:  # a point, not a curve: its figure beside it
                    ax.annotate(f"{values[0]:.3f}", (1, values[0]), xytext=(8, 0),
                                textcoords="offset points", va="center", color=color)  # fmt: skip
            longest = len(run.history[f"{part}loss"])
            ax.set_xticks(np.arange(1, longest + 1))
            ax.set_xlim(0.5, longest + 0.5)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            ax.set_title(metric.capitalize(), fontsize="medium")
    # One legend for every panel, outside them all, right of the first row: it covers no point.
    handles, labels = figure.axes[0].get_legend_handles_labels()
    figure.axes[1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1),
                          fontsize="small", borderaxespad=0)  # fmt: skip
    figure.suptitle(title)
    figure.supxlabel(
        "Training figures are averaged over each epoch while the weights change; "
        "validation figures are measured at its end.",
        fontsize="small",
        color="dimgray",
    )
    return figure


def calibration_figure(before: dict, after: dict, calibrated: str, title: str) -> Figure:
    """A reliability diagram: per bin of the top probability, the share of texts right
    against the probability claimed, before and after `calibrated` (the diagonal:
    a model whose 0.9 is right 90% of the time); below, how many texts fall in each bin."""
    figure = Figure(figsize=(10, 5.5), layout="constrained")
    ax, counts = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    ax.plot([0, 1], [0, 1], ":", color="gray", label="calibrated")
    for side, figures, style, color, label in (
        (0.3, before, "s--", "tab:gray", f"as trained (ECE {before['ece']:.4f})"),
        (0.7, after, "o-", "tab:blue", f"{calibrated} (ECE {after['ece']:.4f})"),
    ):
        bins = figures["bins"]
        ax.plot(bins["confidence"], bins["accuracy"], style, color=color, label=label)
        # Each bin's texts, before (left) and after (right) side by side in the bin's place,
        # with a gap between bins, so that the pairs read as pairs.
        counts.bar((np.asarray(bins["bin"]) + side) / BINS, bins["texts"], width=0.4 / BINS,
                   color=color)  # fmt: skip
    low = min(min(before["bins"]["confidence"]), min(after["bins"]["confidence"]), 0.5)
    ax.set_xlim(low - 0.02, 1.01)
    ax.set_ylim(min(low, *before["bins"]["accuracy"], *after["bins"]["accuracy"]) - 0.02, 1.01)
    ax.set_ylabel("share of texts right")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    counts.set_yscale("log")
    counts.set_ylabel("texts")
    counts.set_xlabel("the model's top probability (15 equal bins)")
    counts.grid(alpha=0.3)
    figure.suptitle(title)
    return figure


def library_versions() -> dict[str, str]:
    """The versions a result depends on, for the metrics file."""
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
    }


# What a metrics file holds besides the training flags (which it holds under their names).
REPORT_FIELDS = frozenset({
    "model", "script", "learned_from", "model_sha256", "test_accuracy", "test_accuracy_std",
    "test_accuracies", "per_label", "calibration", "abstaining", "behaviour", "parameters",
    "output_dir", "data_source", "seconds", "peak_memory_mb", "runs", "versions",
})  # fmt: skip


def save_training_report(
    folder: Path,
    model_name: str,
    run: TrainingRun,
    *,
    parameters: int,
    settings: dict[str, Any],
    data_source: str,
    clock: PhaseClock,
    model_sha256: str,
    per_label: dict[str, Any] | None = None,
    learned_from: str = IMDB_NAME,
    calibration: dict[str, Any] | None = None,
    abstaining: list[dict[str, Any]] | None = None,
    behaviour: list[dict[str, Any]] | None = None,
    script: str | None = None,
) -> None:
    """Write history.png and metrics.json into `folder`, the model's version being written,
    and calibration.png for a calibrated model; the metrics name the model file they
    describe by its sha256."""
    shown_name = model_name.upper().replace("_", " ")
    if learned_from != IMDB_NAME:  # hotel_cnn (learned from hotel.csv)
        shown_name = f"{printable(model_name)} (learned from {printable(learned_from)})"
    title = f"{shown_name}: loss and accuracy per epoch (test accuracy: {run.test_accuracy:.2%})"
    save_figure(history_figure(run, title), folder / HISTORY_PLOT)
    if calibration is not None:
        texts = sum(calibration["after"]["bins"]["texts"])
        title = f"{shown_name}: probability claimed and share right, on the {texts:,} test texts"
        figure = calibration_figure(calibration["before"], calibration["after"],
                                    calibrator(calibration), title)  # fmt: skip
        save_figure(figure, folder / CALIBRATION_PLOT)
    write_json(
        folder / METRICS_FILE,
        {
            "model": model_name,
            "script": script,  # the training script; its flags are the settings below
            "learned_from": learned_from,  # IMDB, or your own data's name: what it is tested on
            "model_sha256": model_sha256,
            "test_accuracy": run.test_accuracy,
            # As files of several seeds hold them (compare_models.py reads those too).
            "test_accuracy_std": 0.0,
            "test_accuracies": [run.test_accuracy],
            "per_label": stored_figures(per_label),
            # The temperature or curve and, on the test set, ECE and Brier before and after.
            "calibration": calibration,
            # Answering only from a top probability: the share answered and right, on test.
            "abstaining": abstaining,
            # The behavioural checks (common/behaviour.py): pairs tried and passed, worst pair.
            "behaviour": behaviour,
            "parameters": parameters,
            **settings,
            "data_source": data_source,
            "seconds": clock.seconds,
            "peak_memory_mb": clock.peak_memory_mb,
            "runs": [asdict(run)],  # the seed, the test figures, the history, epoch seconds
            "versions": library_versions(),
        },
    )
