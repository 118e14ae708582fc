"""common/report.py: the history plot gives each training part panels of its own, or refuses."""

from __future__ import annotations

import common
from common.report import MAX_PARTS, TrainingRun, history_figure

import pytest


def run_in_parts(parts: list[str], epochs: list[int] | None = None) -> TrainingRun:
    history = {}
    for part, count in zip(parts, epochs or [2] * len(parts), strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            history[f"{part}_{key}"] = [0.5 + 0.1 * e for e in range(count)]
    return TrainingRun(7, 0.9, 0.3, history, [1.0] * 2 * len(parts))


@pytest.mark.parametrize("count", [1, 3, MAX_PARTS])
def test_every_part_gets_a_row_of_panels_in_the_order_it_was_trained(count: int) -> None:
    parts = [f"part {count - i}" for i in range(count)]  # not in alphabetical order
    figure = history_figure(run_in_parts(parts), "a model in parts")
    assert len(figure.axes) == 2 * count
    assert [ax.get_title() for ax in figure.axes] == ["Loss", "Accuracy"] * count
    if count > 1:  # a row of panels per part, under its name
        assert [sub._suptitle.get_text() for sub in figure.subfigs] == parts
    for ax in figure.axes:
        assert [line.get_label() for line in ax.get_lines()] == ["training", "validation"]
    legends = [ax.get_legend() for ax in figure.axes if ax.get_legend()]  # one, outside them
    assert len(legends) == 1 and legends[0].get_bbox_to_anchor().x0 > figure.axes[1].bbox.x1
    assert [t.get_text() for t in legends[0].get_texts()] == ["training", "validation"]


def test_a_part_of_one_epoch_shows_its_figures() -> None:
    """MiniLM's encoder trains for one epoch: a lone point, with its value beside it."""
    figure = history_figure(run_in_parts(["the bag", "the encoder"], [3, 1]), "in parts")
    encoder_loss = figure.axes[2]
    assert [text.get_text() for text in encoder_loss.texts] == ["0.500", "0.500"]
    assert not figure.axes[0].texts  # a curve speaks for itself
    assert encoder_loss.get_xlim() == (0.5, 1.5)


def test_a_plain_model_is_one_part_without_a_name() -> None:
    history = {"loss": [0.6, 0.4], "accuracy": [0.7, 0.8]}
    figure = history_figure(TrainingRun(7, 0.9, 0.3, history, [1.0, 1.0]), "a model")
    assert [ax.get_title() for ax in figure.axes] == ["Loss", "Accuracy"]
    for ax in figure.axes:
        assert [line.get_label() for line in ax.get_lines()] == ["training"]


def test_more_parts_than_a_plot_holds_is_one_sentence() -> None:
    parts = [f"part {i}" for i in range(MAX_PARTS + 1)]
    with pytest.raises(common.UserError, match="at most 5 training parts; this run has 6"):
        history_figure(run_in_parts(parts), "too many parts")


def test_the_metrics_file_holds_no_confusion_matrix_of_a_thousand_labels() -> None:
    """A million numbers made metrics.json 11 MB; each label's figures stay."""
    import json

    import numpy as np

    labels = [f"label {i}" for i in range(1_000)]
    y = np.arange(5_000) % 1_000
    figures = common.report.class_figures(y, (y + 1) % 1_000, labels)
    stored = common.report.stored_figures(figures)
    assert stored["confusion"] is None and len(stored["f1"]) == 1_000
    assert len(json.dumps(stored)) < 200_000
    few = common.report.class_figures(y % 3, y % 3, labels[:3])
    assert common.report.stored_figures(few) == few  # a matrix of 3 labels is kept
