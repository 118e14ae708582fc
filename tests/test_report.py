"""common/report.py: the history plot draws every training part it is given, or refuses."""

from __future__ import annotations

import common
from common.report import PART_COLOURS, TrainingRun, history_figure

import pytest


def run_in_parts(parts: list[str], epochs: int = 2) -> TrainingRun:
    history = {}
    for part in parts:
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            history[f"{part}_{key}"] = [0.5 + 0.1 * e for e in range(epochs)]
    return TrainingRun(7, 0.9, 0.3, history, [1.0] * epochs * len(parts))


@pytest.mark.parametrize("count", [1, 4, len(PART_COLOURS)])
def test_every_part_gets_its_training_and_validation_lines(count: int) -> None:
    parts = [f"part {i}" for i in range(count)]
    figure = history_figure([run_in_parts(parts)], "a model in parts")
    for ax in figure.axes:
        assert len(ax.get_lines()) == 2 * count
        labels = {text.get_text() for text in ax.get_legend().get_texts()}
        assert labels == {f"{p} {kind}" for p in parts for kind in ("training", "validation")}
        colours = {line.get_color() for line in ax.get_lines()}
        assert len(colours) == 2 * count  # no two parts alike


def test_a_plain_model_is_one_part_without_a_name() -> None:
    history = {"loss": [0.6, 0.4], "accuracy": [0.7, 0.8]}
    figure = history_figure([TrainingRun(7, 0.9, 0.3, history, [1.0, 1.0])], "a model")
    for ax in figure.axes:
        assert [line.get_label() for line in ax.get_lines()] == ["training"]


def test_more_parts_than_colours_is_one_sentence() -> None:
    parts = [f"part {i}" for i in range(len(PART_COLOURS) + 1)]
    with pytest.raises(common.UserError, match="at most 5 training parts apart; this run has 6"):
        history_figure([run_in_parts(parts)], "too many parts")
