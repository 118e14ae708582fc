"""Compare the trained models side by side: one table, one plot.

Reads the metrics of the newest version of every model in the output folder
(outputs/<model>/<version>/metrics.json, which the training scripts write) and prints,
for each model, its parameters, epochs, test accuracy (mean ± standard deviation where
several seeds ran), training seconds and seconds per epoch, with the figures the two
articles report below. Saves outputs/comparison.png.

    python compare_models.py                 # compare what is already trained
    python compare_models.py --train --data aclImdb_v1.tar.gz
    python compare_models.py --train --models bow,ensemble   # train only these first

--train first trains every model with its default flags: about 10 minutes on 2 cores,
7.5 of them for the LSTM; all but train_minilm.py (about 22 minutes, and a weights package:
add it with --models).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import common

import numpy as np
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parent

METRICS_MAX_BYTES = 16 * 2**20  # a metrics file holds kilobytes; a larger one is refused unread
# What the articles report, for the reader to compare with.
REPORTED = [
    ("MLP (first article)", 86.94),
    ("CNN (first article)", 87.79),
    ("deep CNN (second article)", 86.6),
    ("Maas et al., 2011 (state of the art then)", 88.89),
]


def metrics_files(folder: Path) -> list[Path]:
    """The metrics file of each model's newest version in `folder`, by model name."""
    try:
        models = sorted(entry for entry in folder.iterdir() if entry.is_dir())
    except OSError as err:
        raise common.UserError(f"cannot read {str(folder)!r}: {err.strerror or err}.") from None
    newest = [(model, common.files.versions(model)) for model in models]
    return [model / str(numbers[-1]) / common.saving.METRICS_FILE
            for model, numbers in newest if numbers]  # fmt: skip


def read_metrics(folder: Path) -> list[dict]:
    """The metrics of every model in `folder`, best test accuracy first; bad files named."""
    rows = []
    for path in metrics_files(folder):
        shown = common.cli.printable(str(path))  # a file name may hold terminal escapes
        try:
            metrics = common.files.read_json(path, METRICS_MAX_BYTES)
            runs = metrics["runs"]
            epoch_seconds = [float(s) for run in runs for s in run["seconds_per_epoch"]]
            row = {
                "model": common.cli.printable(str(metrics["model"])),
                "data": common.cli.printable(
                    str(metrics.get("learned_from") or legacy_data_name(metrics.get("data_source")))
                ),
                "parameters": int(metrics["parameters"]),
                "epochs": int(metrics["epochs"]),
                "seeds": len(runs),
                "accuracy": _fraction(metrics["test_accuracy"]) * 100,
                "std": _fraction(metrics["test_accuracy_std"]) * 100,
                "fit_seconds": float(metrics["seconds"]["fit"]) / len(runs),
                "epoch_seconds": float(np.mean(epoch_seconds)),
            }
        except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError,
                OverflowError) as err:  # fmt: skip
            print(f"Skipping {shown}: not a metrics file of this project ({err}).", file=sys.stderr)
            continue
        if not all(np.isfinite(value) for value in row.values() if isinstance(value, float)):
            print(f"Skipping {shown}: it holds a figure that is not a number.", file=sys.stderr)
            continue
        rows.append(row)
    imdb = common.saving.IMDB_NAME
    return sorted(rows, key=lambda row: (row["data"] != imdb, row["data"], -row["accuracy"],
                                         row["model"]))  # fmt: skip


def legacy_data_name(source: object) -> str:
    """What a metrics file written before `learned_from` was learned from, by its data
    source: your own file's name, else IMDB."""
    path = Path(str(source).split(" (test: ")[0])
    return path.name if common.labeled.table_kind(path) else common.saving.IMDB_NAME


def _fraction(value: object) -> float:
    """A share from 0 to 1, as the metrics files hold accuracies; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"an accuracy must be a number from 0 to 1, not {value!r}")
    return float(value)


def by_data(rows: list[dict]) -> dict[str, list[dict]]:
    """The rows grouped by the data their models learned from, IMDB first: accuracies on
    different data sets are not comparable."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["data"], []).append(row)
    return groups


def format_table(rows: list[dict]) -> str:
    """The comparison as aligned text, one table per data set."""
    header = (f"{'model':<16}{'parameters':>12}{'epochs':>8}{'seeds':>7}{'test accuracy':>19}"
              f"{'fit s/seed':>12}{'s/epoch':>9}")  # fmt: skip
    lines = []
    for data, group in by_data(rows).items():
        imdb = data == common.saving.IMDB_NAME
        lines += [f"Learned from {'the IMDB reviews' if imdb else data}:", header]
        lines.append("-" * len(header))
        for row in group:
            accuracy = f"{row['accuracy']:.2f}%"
            if row["seeds"] > 1:
                accuracy += f" ± {row['std']:.2f}%"
            lines.append(
                f"{row['model']:<16}{row['parameters']:>12,}{row['epochs']:>8}{row['seeds']:>7}"
                f"{accuracy:>19}{row['fit_seconds']:>12.1f}{row['epoch_seconds']:>9.1f}"
            )
        if imdb:
            lines += ["", "Reported in the articles, on the IMDB reviews:"]
            lines += [f"  {name:<44}{accuracy:.2f}%" for name, accuracy in REPORTED]
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def plot(rows: list[dict]) -> Figure:
    """Test accuracy per model, one panel per data set, with the seeds' spread; the
    articles' figures on the IMDB panel."""
    groups = by_data(rows)
    heights = [len(group) + 1.2 for group in groups.values()]
    figure = Figure(figsize=(9, 1.4 + 0.5 * sum(heights)), layout="constrained")
    figure.get_layout_engine().set(w_pad=0.15)  # keeps the longest model name off the edge
    axes = figure.subplots(len(groups), 1, squeeze=False, height_ratios=heights)[:, 0]
    several = any(row["seeds"] > 1 for row in rows)
    for ax, (data, group) in zip(axes, groups.items(), strict=True):
        imdb = data == common.saving.IMDB_NAME
        draw_panel(ax, group, REPORTED if imdb else [])
        ax.set_title(f"Test accuracy of each model on {'the IMDB reviews' if imdb else data}")
        ax.set_xlabel(
            "test accuracy (%)" + ("; error bars: standard deviation over seeds" if several else "")
        )
    if common.saving.IMDB_NAME in groups:  # below the axes, outside them
        figure.legend(
            loc="outside lower center",
            ncols=2,
            fontsize="small",
            title="Reported in the articles, on the IMDB reviews",
            title_fontsize="small",
        )
    return figure


def draw_panel(ax, rows: list[dict], reported: list[tuple[str, float]]) -> None:  # noqa: ANN001
    """One data set's models as dots with their spread, best at the top, and `reported`'s
    figures as vertical lines."""
    names = [
        f"{row['model']} ({row['seeds']} seed{'s' if row['seeds'] > 1 else ''})" for row in rows
    ]
    accuracies = [row["accuracy"] for row in rows]
    y = np.arange(len(rows))[::-1]  # best at the top
    stds = [row["std"] for row in rows]
    # Dots, not bars: the axis does not start at 0, and bars would exaggerate the gaps.
    ax.errorbar(accuracies, y, xerr=stds, fmt="o", color="tab:blue", capsize=4, markersize=7)
    for yi, accuracy, std in zip(y, accuracies, stds, strict=True):
        ax.annotate(f"{accuracy:.2f}%", (accuracy + std, yi), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize="small")  # fmt: skip
    ax.set_yticks(y, names)
    # Each reference its own colour and dash: two of them lie only 0.3 points apart.
    styles = [("tab:red", ":"), ("tab:purple", "-."), ("tab:brown", "--"), ("black", "-")]
    for (name, accuracy), (color, style) in zip(reported, styles, strict=False):
        ax.axvline(accuracy, color=color, linestyle=style, alpha=0.8, label=f"{accuracy}%: {name}")
    low = min(accuracies + [value for _, value in reported])
    high = max(a + s for a, s in zip(accuracies, stds, strict=True))
    ax.set_xlim(np.floor(low) - 1, max(92 if reported else 0, np.ceil(high) + 1.5))
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="x", alpha=0.3)


def main(argv: Sequence[str] | None = None) -> None:
    parser = common.cli.data_parser(
        __doc__,
        output_help="where the metrics files are read from, and comparison.png is written",
        data_note="; only used with --train",
    )
    parser.add_argument(
        "--train", action="store_true", help="first train every model with its default flags"
    )
    parser.add_argument(
        "--models",
        type=lambda text: [m.strip() for m in text.split(",") if m.strip()],
        default=[m for m in common.cli.MODELS if m != "minilm"],
        metavar="LIST",
        help=f"with --train: which models to train, e.g. bow,cnn (default: all of "
        f"{','.join(common.cli.MODELS)} but minilm, which needs its weights package and about "
        "22 minutes)",
    )
    args = parser.parse_args(argv)
    unknown = [m for m in args.models if m not in common.cli.MODELS]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; choose from {', '.join(common.cli.MODELS)}")
    output_dir = Path(args.output_dir)

    if args.train:
        common.cli.prepare_output_dir(output_dir)
        data = ["--data", args.data] if args.data else []
        for flag in ("text_column", "label_column", "test_data", "test_split",
                     "positive_label", "escape_char"):  # fmt: skip
            if getattr(args, flag) is not None:  # your own data, read the same way for each
                data += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        for name in args.models:
            command = common.cli.MODELS[name]
            print(f"\n=== {name}: python {' '.join(command)}", flush=True)
            script = [sys.executable, str(ROOT / command[0]), *command[1:]]
            if subprocess.run([*script, *data, "--output-dir", str(output_dir)]).returncode:
                raise common.UserError(f"training {name} failed; see its message above.")
        print()

    rows = read_metrics(output_dir)
    if not rows:
        raise common.UserError(
            f"there are no trained models (<model>/<version>/metrics.json) in "
            f"{str(output_dir)!r}: train a "
            "model first (python train_cnn.py), or run python compare_models.py --train."
        )
    print(format_table(rows))
    path = output_dir / "comparison.png"
    try:
        common.report.save_figure(plot(rows), path)
    except OSError as err:
        raise common.UserError(
            f"cannot save the plot in {str(output_dir)!r}: {err.strerror or err}."
        ) from None
    print(f"\nSaved {path}")


if __name__ == "__main__":
    common.run(main)
