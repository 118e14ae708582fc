"""Score a whole corpus with a saved model: an Apache Beam pipeline, here or on a cluster.

Every text of every file that --input matches is scored by a model the training scripts
saved, and written as JSON Lines shards, PREFIX-00000-of-00002.jsonl and so on: one
object per text, with the fields of `predict.py --format json` (the label, every
label's probability, the text; `abstained` with a threshold) and where the text came
from: `source`, its file, and `line`, the line of that file it starts on.

    python score_corpus.py --model cnn --input 'reviews/*.txt' --output scores/part
    python score_corpus.py --model tickets_bow --input 'tickets/2026-*.csv.gz' \\
        --text-column body --output scores/part --min-confidence 0.9

What it reads: a .csv, .tsv or .jsonl file (also compressed: .gz, .bz2, .zst, ...) is a
table, its text in --text-column or in a column named text, review, sentence, ...; any
other file holds one text per line, as for predict.py --file.

A line that cannot be scored (not UTF-8, empty, no words the model reads, a row without
its text, a line that is not JSON) never stops the run: it is written with its file,
line and reason to PREFIX.skipped-*.jsonl, and counted at the end. The shards hold the
texts in no particular order: sort them by source and line to have the input's.

It runs here by default, on Beam's in-process runner (--workers 2: in two processes).
Any other flag is one of Beam's own pipeline options: with --runner, the same pipeline
runs on Dataflow, Flink or Spark, with gs://, s3:// or hdfs:// paths for the files and
the model (docs/scale.md).
"""

from __future__ import annotations

import argparse
import errno
import glob
import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import common

# Beam warns, as it loads, of Google Cloud clients that this pipeline never uses.
logging.getLogger().setLevel(logging.ERROR)
try:
    import apache_beam as beam
except ImportError:  # requirements.txt alone: the training scripts' stack
    print("error: score_corpus.py runs on Apache Beam: pip install -r requirements-beam.txt",
          file=sys.stderr)  # fmt: skip
    raise SystemExit(2) from None
from apache_beam.io import fileio  # noqa: E402
from apache_beam.io.filesystem import CompressionTypes, FileMetadata  # noqa: E402
from apache_beam.io.filesystems import FileSystems  # noqa: E402
from apache_beam.metrics import Metrics  # noqa: E402
from apache_beam.metrics.metric import MetricsFilter  # noqa: E402
from apache_beam.ml.inference.base import KeyedModelHandler, ModelHandler, RunInference  # noqa: E402
from apache_beam.options.pipeline_options import (  # noqa: E402
    DirectOptions,
    PipelineOptions,
    StandardOptions,
)
from apache_beam.runners.portability.fn_api_runner import FnApiRunner  # noqa: E402
from apache_beam.runners.runner import create_runner  # noqa: E402
from apache_beam.transforms.environments import SubprocessSDKEnvironment  # noqa: E402

if TYPE_CHECKING:
    import keras  # loaded with the model, after the flags

NAMESPACE = "score_corpus"  # of the counters the summary reads
SKIPPED = "skipped"  # the tag of the lines that are not scored
# What reading a file may raise: the file system's error, or damage in its compressed data.
READ_ERRORS = (OSError, common.files.Damaged)
ROOT = Path(__file__).resolve().parent  # where a local worker process imports common from
# A local worker process: Beam's own, with only its errors on standard error.
WORKER = (
    "import logging, sys; shown = logging.StreamHandler(); shown.setLevel(logging.ERROR); "
    "logging.getLogger().addHandler(shown); "
    "from apache_beam.runners.worker import sdk_worker_main; sdk_worker_main.main(sys.argv)"
)


# ## Reading: each file whole, so that every text keeps its file and line


class ReadTexts(beam.DoFn):
    """A file's texts as ((source, line), text); its lines that cannot be scored, tagged
    SKIPPED, with their file, line and reason."""

    def __init__(self, column: str | int | None) -> None:
        self.column = column
        self.texts = Metrics.counter(NAMESPACE, "texts")

    def process(self, readable: fileio.ReadableFile) -> Iterable:
        source, line = common.texts.source_name(readable.metadata.path), 0
        try:
            with opened(readable) as stream:
                for item in common.texts.read_texts(stream, source, self.column):
                    line = item.line
                    if isinstance(item, common.texts.Skip):
                        yield skipped(item)
                    else:
                        self.texts.inc()
                        yield (item.source, item.line), item.text
        except READ_ERRORS as err:  # a compressed file cut or corrupted: what came before is kept
            after = f" after line {line:,}" if line else ""
            reason = f"cannot be read{after} ({common.files.short_reason(err)})"
            yield skipped(common.texts.Skip(source, line + 1, reason, common.texts.DAMAGED))


@contextmanager
def opened(readable: fileio.ReadableFile) -> Iterator[BinaryIO | common.files.Decompressed]:
    """A file's bytes, decompressed by its name's suffix (.gz, .bz2, .zst, ...) by a reader
    that keeps every byte before damage and then raises (Beam's own readers end a file
    cut short there, silently; Python's lose the block they were reading)."""
    suffix = os.path.splitext(readable.metadata.path)[1].lower()
    with readable.open(compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        yield common.files.Decompressed(raw, suffix) if suffix in common.files.DECODERS else raw


def skipped(skip: common.texts.Skip) -> beam.pvalue.TaggedOutput:
    """A line that is not scored, counted by why and tagged for the skipped-lines files."""
    Metrics.counter(NAMESPACE, f"skipped: {skip.kind}").inc()
    return beam.pvalue.TaggedOutput(SKIPPED, common.cli.json_text(skip.record()))


# ## Scoring: RunInference, with a model handler for the saved versions


@dataclass
class Loaded:
    """A loaded version, as RunInference holds it (by a weak reference: not a tuple)."""

    model: keras.Model
    encoding: common.saving.TextEncoding


class SavedVersion(ModelHandler):
    """Texts to what predict.py says of them, with a version the training scripts saved.

    RunInference batches the texts, loads the model once per worker process (its threads
    share it) and calls `run_inference` on each batch.
    """

    def __init__(self, location: str, min_confidence: float | None, batch_size: int) -> None:
        super().__init__(min_batch_size=batch_size, max_batch_size=batch_size)
        self.location, self.min_confidence = location, min_confidence

    def load_model(self) -> Loaded:
        """The Keras model and its encoding: read where it is, or from a local copy of a
        version on a remote file system."""
        return Loaded(*common.load_model(local_copy(self.location)))

    def run_inference(self, batch: Sequence[str], model: Loaded, inference_args=None) -> list:
        found = common.scoring.scored_records(model.model, model.encoding, list(batch))
        threshold = common.scoring.confidence_threshold(self.min_confidence, model.encoding)
        if threshold is not None:
            common.scoring.abstain(found, threshold)
            Metrics.counter(NAMESPACE, "abstained").inc(sum(r["abstained"] for r in found))
        return found

    def get_num_bytes(self, batch: Sequence[str]) -> int:
        return sum(len(text) for text in batch)

    def get_metrics_namespace(self) -> str:
        return NAMESPACE


def local_copy(location: str) -> str:
    """`location`, a model.keras file, if it is on this machine; else a copy of it and its
    encoding.json in a temporary folder, through Beam's file systems (gs://, s3://, ...)."""
    if FileSystems.get_scheme(location) is None:
        return location
    folder = Path(tempfile.mkdtemp(prefix="score_corpus-"))
    source = FileSystems.split(location)[0]
    for name in (common.saving.MODEL_FILE, common.saving.ENCODING_FILE):
        with FileSystems.open(FileSystems.join(source, name)) as read:
            with open(folder / name, "wb") as write:
                shutil.copyfileobj(read, write)
    return str(folder / common.saving.MODEL_FILE)


def as_output(key_and_record: tuple) -> str:
    """One line of a shard: where the text came from, then predict.py's record of it."""
    (source, line), record = key_and_record
    return common.cli.json_text({"source": source, "line": line, **record})


# ## Where the model, the files and the output are, checked before the pipeline starts


def local_runner(workers: int) -> FnApiRunner:
    """Beam's in-process runner, or one with `workers` local processes. (Beam's default
    local runner is now Prism, which downloads a binary; this one fetches nothing.)"""
    if workers == 1:
        return FnApiRunner()
    # Worker processes import this project's modules as this one does, and keep Beam's
    # start-up lines (dozens, at INFO) off the terminal; what fails in them is reported
    # here, by the pipeline.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(WORKER)}"
    return FnApiRunner(default_environment=SubprocessSDKEnvironment(command_string=command))


def find_version(model: str, models_dir: str) -> str:
    """The model.keras file that --model names, as `predict.py` finds it; on a remote file
    system, through Beam's (a version folder, or the newest version of a model folder)."""
    by_path = FileSystems.get_scheme(model)
    if not by_path and ("/" in model or not FileSystems.get_scheme(models_dir)):
        files = common.find_model(model, models_dir)
        common.load_model(files)  # one sentence now for a model that cannot load
        return str(files.model.resolve())
    base = model if by_path else FileSystems.join(models_dir, model)
    if base.endswith(".keras"):
        found = [base] if FileSystems.exists(base) else []
    elif FileSystems.exists(FileSystems.join(base, common.saving.MODEL_FILE)):
        found = [FileSystems.join(base, common.saving.MODEL_FILE)]
    else:
        pattern = FileSystems.join(base, "*", common.saving.MODEL_FILE)
        paths = [m.path for m in FileSystems.match([pattern])[0].metadata_list]
        numbered = [p for p in paths if common.files.is_version_name(version_name(p))]
        found = sorted(numbered, key=lambda p: int(version_name(p)))[-1:]
    if not found:
        raise common.UserError(f"there is no model at {base!r}.")
    return found[0]


def version_name(model_file: str) -> str:
    """The name of the folder that holds a model.keras file: its version, in a model folder."""
    return FileSystems.split(FileSystems.split(model_file)[0])[1]


def matched_files(patterns: Sequence[str]) -> list[FileMetadata]:
    """The files the --input patterns match, each once however many patterns match it. On
    this machine, regular files only: a FIFO or a device would be read forever, so one in
    a glob is left out (and said), and one given by name is one sentence, as is a
    pattern that matches no file."""
    found: dict[str, FileMetadata] = {}
    left_out: list[str] = []
    for pattern in patterns:
        try:
            matched = FileSystems.match([pattern])[0].metadata_list
        except Exception as err:  # Beam's BeamIOError, or a file system it lacks
            raise common.UserError(
                f"--input {pattern!r}: {common.files.short_reason(err)}."
            ) from None
        remote = FileSystems.get_scheme(pattern)
        files = matched if remote else [m for m in matched if os.path.isfile(m.path)]
        if not files and not remote and Path(pattern).is_dir():
            shown = os.path.join(pattern, "*")
            raise common.UserError(f"--input {pattern!r} is a folder: give a glob, {shown!r}.")
        if not files and matched and glob.escape(pattern) == pattern:
            raise common.UserError(
                f"--input {pattern!r} is not a regular file (a FIFO or a device, which "
                "would be read without end)."
            )
        if not files:
            where = "" if remote else f" (in {os.getcwd()!r})"
            raise common.UserError(f"--input {pattern!r} matches no file{where}.")
        if not remote:  # a folder in a glob is no surprise; a FIFO, a device or a dead link is
            left_out += [m.path for m in matched if not os.path.isfile(m.path)
                         and not os.path.isdir(m.path)]  # fmt: skip
        for file in files:  # the same file through two patterns, or two links: read once
            found.setdefault(file.path if remote else os.path.realpath(file.path), file)
    if left_out:
        shown = ", ".join(repr(common.cli.printable(path)) for path in left_out[:5])
        n = len(left_out)
        print(f"Left out {n:,} match{'es' * (n != 1)} that {'are' if n != 1 else 'is'} not a "
              f"regular file (a FIFO, a device, a broken link): {shown}"
              f"{', ...' if n > 5 else ''}.", file=sys.stderr)  # fmt: skip
    return list(found.values())


def check_output(prefix: str) -> None:
    """Refuse a prefix whose shards an earlier run wrote, which a reader of PREFIX-*
    would mix with these, and one that is itself a glob; create a local output folder,
    and check it is writable."""
    if glob.escape(prefix) != prefix:
        raise common.UserError(
            f"--output {prefix!r} holds a glob character (*, ? or [), which the shards' "
            "names would carry and no glob would find again: give a plain prefix."
        )
    if not FileSystems.get_scheme(prefix):
        if prefix.endswith(os.sep) or Path(prefix).is_dir():
            raise common.UserError(
                f"--output {prefix!r} is a folder: give a prefix, like scores/part."
            )
        common.cli.prepare_output_dir(Path(prefix).parent)
    for pattern in (f"{prefix}-*-of-*.jsonl", f"{prefix}.{SKIPPED}-*-of-*.jsonl"):
        earlier = FileSystems.match([pattern])[0].metadata_list
        if earlier:
            raise common.UserError(
                f"{earlier[0].path!r} is there from an earlier run: remove that run's "
                "files, or give another --output."
            )


def check_runner(options: PipelineOptions) -> str | None:
    """The --runner given, if any, checked now: one sentence for a name Beam does not know,
    and for the runners that cannot run this pipeline (docs/scale.md says why)."""
    name = options.view_as(StandardOptions).runner
    if name is None:
        return None
    if "dask" in name.lower():
        raise common.UserError(
            f"--runner {name}: Beam's Dask runner loses the texts of a pipeline that writes "
            "two outputs, as this one does (the scores and the lines skipped): see "
            "docs/scale.md for the runners that work."
        )
    try:
        runner = create_runner(name)
    except (ValueError, ImportError) as err:
        known = ", ".join(StandardOptions.KNOWN_RUNNER_NAMES)
        reason = common.files.short_reason(err) if isinstance(err, ImportError) else (
            f"Beam knows no runner of that name (its runners: {known}; or a class's full name)"
        )  # fmt: skip
        raise common.UserError(f"--runner {name}: {reason}.") from None
    prism = options.get_all_options().get("prism_location")
    if type(runner).__name__ == "PrismRunner" and not prism and not _prism_cached():
        raise common.UserError(
            f"--runner {name}: the Prism runner downloads its program from GitHub as it "
            "starts; give --prism_location with a copy of it, or leave --runner out to run "
            "here."
        )
    return name


def _prism_cached() -> bool:
    """Whether a Prism program that Beam downloaded earlier is on this machine."""
    from apache_beam.runners.portability.prism_runner import PrismJobServer

    return any(Path(PrismJobServer.BIN_CACHE).glob("prism*"))


def pipeline_options(beam_args: list[str]) -> PipelineOptions:
    """Beam's options from the flags that are not ours; one sentence for a flag that is
    neither (Beam itself would drop it with a warning)."""
    flag = None
    for arg in beam_args:  # a word that is no flag's value (a file given without --input)
        if not arg.startswith("-") and (flag is None or "=" in flag):
            raise common.UserError(
                f"unrecognized argument {arg!r}: give the files to score with --input."
            )
        flag = arg if arg.startswith("-") else None
    options = PipelineOptions(beam_args)
    unknown = set(options.get_all_options(retain_unknown_options=True)) - set(
        options.get_all_options()
    )
    if unknown:
        raise common.UserError(
            f"unrecognized argument --{sorted(unknown)[0]}: neither a flag of this script "
            "(see --help) nor one of Beam's pipeline options."
        )
    return options


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Any other flag is one of Beam's pipeline options (--runner, ...).",
    )
    parser.add_argument(
        "--input", action="append", required=True, metavar="GLOB",
        help="the files to score: a path or a glob, local or gs://, s3://, ...; quote it, "
        "so that the shell leaves it to Beam; may be given more than once",
    )  # fmt: skip
    parser.add_argument(
        "--output", required=True, metavar="PREFIX",
        help="where to write: PREFIX-00000-of-00001.jsonl and so on, and the lines skipped "
        f"as PREFIX.{SKIPPED}-*.jsonl",
    )  # fmt: skip
    common.cli.add_model_flags(parser)
    parser.add_argument(
        "--text-column", type=common.cli.column, metavar="NAME",
        help="a table's text column, by name (or 0-based position, for a CSV or TSV "
        "without a header row); default: one named text, review, sentence, ...",
    )  # fmt: skip
    parser.add_argument(
        "--min-confidence", type=common.cli.probability, metavar="P",
        help="leave a text unanswered (\"label\": null, \"abstained\": true) when its top "
        "probability is below P (default: the threshold the model was saved with, if any)",
    )  # fmt: skip
    parser.add_argument(
        "--batch-size", type=common.cli.whole_number(1, 65_536), default=common.texts.BATCH_SIZE,
        metavar="N",
        help=f"texts per call of the model (default: {common.texts.BATCH_SIZE})",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=common.cli.whole_number(1, 256), default=1, metavar="N",
        help="with the local runner, how many processes score the texts (default: 1, this "
        "one); a cluster's runner decides for itself",
    )  # fmt: skip
    args, beam_args = parser.parse_known_args(argv)
    options = pipeline_options(beam_args)

    # Everything that can be wrong on this side is said now, in one sentence, before
    # any worker starts: the model, the files, the output.
    runner_name = check_runner(options)
    location = find_version(args.model, args.models_dir)
    files = matched_files(args.input)
    check_output(args.output)
    count = len(files)
    print(f"Scoring {count:,} file{'s' * (count != 1)} with {location}.", file=sys.stderr)

    runner = None  # Beam's --runner, if given
    if runner_name is not None:
        logging.getLogger().setLevel(logging.INFO)  # the job's progress, and where to follow it
    else:
        runner = local_runner(args.workers)
        options.view_as(DirectOptions).direct_num_workers = args.workers
        logging.getLogger("apache_beam").setLevel(logging.CRITICAL)  # a failure is raised here
    before = beam_temporaries(args.output)
    try:
        pipeline = run_pipeline(args, files, location, runner, options)
    except BaseException as err:  # a failure, Ctrl-C or SIGTERM: no half-written shard is left
        remove_temporaries(args.output, before)
        if interrupted(err):  # Beam reports it as a RuntimeError of its own
            raise KeyboardInterrupt from None
        full = write_error(err)
        if full is not None:
            raise common.UserError(f"cannot write the scores to {args.output!r}: {full}.") from None
        raise
    summarize(pipeline.result, args.output)


def interrupted(err: BaseException | None) -> bool:
    """Whether `err` is, or was raised while handling, Ctrl-C or SIGTERM (KeyboardInterrupt)."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, KeyboardInterrupt):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


def write_error(err: BaseException) -> str | None:
    """What stopped the pipeline writing, in a few words and with advice, if `err` is, or
    was raised while handling, or says in its text (Beam's workers pass on only that), a
    full disk, a quota, a file size limit or a place it may not write; else None."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, OSError) and err.errno in WRITE_ERRNOS:
            return WRITE_ERRNOS[err.errno]
        for number, said in WRITE_ERRNOS.items():
            if f"[Errno {number}]" in str(err):
                return said
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


WRITE_ERRNOS = {
    errno.ENOSPC: "no space left on the device: free some space and run again",
    errno.EDQUOT: "over the disk quota: free some space and run again",
    errno.EFBIG: "a file grew past the size allowed: free some space or raise the limit",
    errno.EROFS: "the file system is read-only: give another --output",
    errno.EACCES: "permission denied: check who may write there",
}


def run_pipeline(
    args: argparse.Namespace,
    files: list[FileMetadata],
    location: str,
    runner: FnApiRunner | None,
    options: PipelineOptions,
) -> beam.Pipeline:
    """Read every file, score its texts with the model at `location`, write the shards and
    the lines skipped; return the pipeline, finished."""
    handler = KeyedModelHandler(SavedVersion(location, args.min_confidence, args.batch_size))
    with beam.Pipeline(runner=runner, options=options) as pipeline:
        found = (
            pipeline
            | "Files" >> beam.Create(files)
            | "Spread files" >> beam.Reshuffle()
            | "Open" >> fileio.ReadMatches()
            | "Read" >> beam.ParDo(ReadTexts(args.text_column)).with_outputs(SKIPPED, main="texts")
        )
        texts = found.texts
        if runner is None or args.workers > 1:
            # A large file's texts over every worker. The in-process runner would hold
            # them all in memory for it: with one worker, there is nothing to spread.
            texts = texts | "Spread texts" >> beam.Reshuffle()
        (
            texts
            | "Score" >> RunInference(handler)
            | "As JSON" >> beam.Map(as_output)
            | "Write" >> beam.io.WriteToText(args.output, file_name_suffix=".jsonl")
        )
        _ = found[SKIPPED] | "Write skipped" >> beam.io.WriteToText(
            f"{args.output}.{SKIPPED}", file_name_suffix=".jsonl", skip_if_empty=True
        )
    return pipeline


def beam_temporaries(prefix: str) -> set[Path]:
    """The folders where Beam writes this prefix's shards until they are whole, on this
    machine: beam-temp-NAME-, then a uuid's 32 hex digits (a cluster's file system is the
    runner's to clean)."""
    if FileSystems.get_scheme(prefix):
        return set()
    output = Path(prefix)
    found = set()
    for kind in ("-", f".{SKIPPED}-"):
        name = re.compile(re.escape(f"beam-temp-{output.name}{kind}") + "[0-9a-f]{32}$")
        pattern = f"beam-temp-{glob.escape(output.name)}{kind}*"
        found |= {p for p in output.parent.glob(pattern) if name.match(p.name) and p.is_dir()}
    return found


def remove_temporaries(prefix: str, before: set[Path]) -> None:
    """Remove the folders Beam made for this run's shards: those that were not there before."""
    for folder in beam_temporaries(prefix) - before:
        shutil.rmtree(folder, ignore_errors=True)


def summarize(result: beam.runners.runner.PipelineResult, prefix: str) -> None:
    """Say what was scored and what was skipped, and why, from the pipeline's counters."""
    counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    counts = {c.key.metric.name: c.committed or c.attempted or 0 for c in counters}
    texts = counts.get("texts", 0)
    unsure = f", {counts['abstained']:,} of them unsure" if counts.get("abstained") else ""
    print(f"Scored {texts:,} text{'s' * (texts != 1)}{unsure}: {prefix}-*.jsonl.", file=sys.stderr)
    skipped = {
        name.split(": ", 1)[1]: n for name, n in counts.items() if name.startswith("skipped")
    }
    if skipped:
        why = ", ".join(
            f"{n:,} {kind}" for kind, n in sorted(skipped.items(), key=lambda i: (-i[1], i[0]))
        )
        total = sum(skipped.values())
        print(f"Skipped {total:,} line{'s' * (total != 1)} ({why}): {prefix}.{SKIPPED}-*.jsonl.",
              file=sys.stderr)  # fmt: skip
    if not texts:
        raise common.UserError("no text was scored: every line was skipped.")


if __name__ == "__main__":
    common.run(main)
