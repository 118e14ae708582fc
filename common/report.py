"""What the scripts write: plots and metrics files (atomically), and where the time went."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import keras
import matplotlib
import numpy as np
from matplotlib.figure import Figure  # the object API: saves files, never needs a screen

from common.files import atomic_path
from common.timing import PhaseClock


def write_json(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Save `data` as readable JSON, atomically."""
    text = json.dumps(data, indent=2, default=_to_builtin) + "\n"
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _to_builtin(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def save_figure(figure: Figure, path: str | os.PathLike[str]) -> None:
    """Save a Matplotlib figure as PNG, atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=120)


def save_history_plot(
    history: dict[str, list[float]], title: str, path: str | os.PathLike[str]
) -> None:
    """Loss and accuracy per epoch, training and (where there was one) validation."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(figure.subplots(1, 2), ("loss", "accuracy"), strict=True):
        ax.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s--", label="validation")
        ax.set_title(metric.capitalize())
        ax.set_xlabel("epoch")
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle(title)
    figure.supxlabel(
        "Training figures are averaged over each epoch while the weights change; "
        "validation figures are measured at its end.",
        fontsize="small",
        color="dimgray",
    )
    save_figure(figure, path)


def library_versions() -> dict[str, str]:
    """The versions a result depends on, for the metrics file."""
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
    }


def save_training_report(
    output_dir: Path,
    model_name: str,
    *,
    history: dict[str, list[float]],
    test_loss: float,
    test_accuracy: float,
    parameters: int,
    settings: dict[str, Any],
    data_source: str,
    clock: PhaseClock,
    epoch_seconds: list[float],
) -> list[Path]:
    """Write `<model>_history.png` and `<model>_metrics.json` into `output_dir`."""
    plot_path = output_dir / f"{model_name}_history.png"
    metrics_path = output_dir / f"{model_name}_metrics.json"
    save_history_plot(
        history,
        f"{model_name.upper()}: loss and accuracy per epoch "
        f"(test accuracy after training: {test_accuracy:.2%})",
        plot_path,
    )
    write_json(
        metrics_path,
        {
            "model": model_name,
            "test_accuracy": test_accuracy,
            "test_loss": test_loss,
            "parameters": parameters,
            **settings,
            "data_source": data_source,
            "seconds": clock.seconds,
            "seconds_per_epoch": epoch_seconds,
            "peak_memory_mb": clock.peak_memory_mb,
            "history": history,
            "versions": library_versions(),
        },
    )
    print(f"Saved {plot_path} and {metrics_path}")
    return [plot_path, metrics_path]
