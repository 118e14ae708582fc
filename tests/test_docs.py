"""README.md and docs/: every relative link resolves, every command names real flags."""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LESSONS, ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`(python [^`]+)`")
COMMAND = re.compile(r"\bpython (\S+\.py)((?:\s+(?![|&;#>])\S+)*)")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9_-]*")
MAX_README_LINES = 200


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lowercase, punctuation dropped, - for spaces."""
    text = FENCED.sub("", page.read_text(encoding="utf-8"))  # a "# comment" is no heading
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def commands() -> list[tuple[Path, str, list[str]]]:
    """(page, script, flags) of every `python SCRIPT ...` a reader may copy: the lines of a
    bash block, the `$ ` lines of other blocks, and inline code."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        lines = []
        for block in FENCED.findall(text):
            body = block.replace("\\\n", " ").splitlines()[1:]
            bash = block.startswith("```bash")
            lines += [line.removeprefix("$ ") for line in body if bash or line.startswith("$ ")]
        lines += INLINE.findall(FENCED.sub("", text))
        for line in lines:
            for script, rest in COMMAND.findall(line.split(" #")[0]):
                found.append((page, script, FLAG.findall(rest)))
    return found


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    """Each script's --help, from its main block run in this process (TensorFlow loads once)."""
    training = {path.name for path in ROOT.glob("train_*.py")}
    scripts = sorted({script for _, script, _ in commands()} | training)
    missing = [s for s in scripts if not (ROOT / s).is_file()]
    assert not missing, f"the docs run scripts that do not exist: {missing}"
    texts = {}
    handler, argv = signal.getsignal(signal.SIGTERM), sys.argv  # common.run sets its own
    for script in scripts:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit:
            sys.argv = [str(ROOT / script), "--help"]
            runpy.run_path(str(ROOT / script), run_name="__main__")
        assert exit.value.code == 0, script
        texts[script] = out.getvalue()
    signal.signal(signal.SIGTERM, handler)
    sys.argv = argv
    return texts


def test_every_relative_link_resolves() -> None:
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            assert file.exists(), f"{page.name}: the link {target!r} leads nowhere"
            if anchor:
                assert anchor in anchors(file), f"{page.name}: {target!r} names no heading"


def beam_flags() -> set[str]:
    """Beam's pipeline options (--runner, --temp_location, ...), which score_corpus.py passes on."""
    from apache_beam.options.pipeline_options import PipelineOptions

    return {f"--{name}" for name in PipelineOptions([]).get_all_options()}


def test_every_command_names_a_script_and_flags_it_has(helps: dict[str, str]) -> None:
    found = commands()
    assert len(found) >= 20, "the README and docs should show how to run the scripts"
    for page, script, flags in found:
        known = set(FLAG.findall(helps[script]))
        if script == "score_corpus.py":  # any flag not its own is one of Beam's
            known |= beam_flags()
        unknown = [flag for flag in flags if flag not in known]
        assert not unknown, f"{page.name}: python {script} has no {', '.join(unknown)}"


def test_the_flags_the_readme_says_every_training_script_shares(helps: dict[str, str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The flags every training script shares", 1)[1].split("\n## ")[0]
    shared = re.findall(r"^(--[a-z-]+)", section.split("```")[1], re.MULTILINE)
    assert len(shared) >= 10
    for script in LESSONS:  # train_auto.py runs two of them, with the flags of the data
        assert set(shared) <= set(FLAG.findall(helps[script.name])), script.name


def test_the_readme_is_a_front_page() -> None:
    """What the project is in two sentences, the three commands a newcomer runs (train,
    predict, the tests), then the results."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= MAX_README_LINES
    opening = readme.split("\n\n")[1]
    assert len(re.findall(r"[.!?](?:\s|$)", opening)) == 2, opening
    sections = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    assert sections[:2] == ["Three commands", "Results"]
    first = readme.split("## Three commands", 1)[1].split("```bash\n", 1)[1].split("```")[0]
    ran = [line.split()[1] for line in first.splitlines() if line.startswith("python ")]
    assert ran[0].startswith("train_") and ran[1:] == ["predict.py", "-m"] and "pytest" in first
    assert "| model | command | test accuracy |" in readme.split("## Results", 1)[1][:600]
    for page in PAGES:  # a reader's paths, not those of the machines this was built on
        assert "shared/data" not in page.read_text(encoding="utf-8"), page.name


# What changes with every run, and so drifts: a test run's time and its count of tests.
TEST_TIMES = re.compile(r"tests? (?:run )?(?:took|takes) [\d.,]+|\b\d{2,} tests\b|took [\d.]+ "
                        r"to [\d.]+ seconds in the last")  # fmt: skip


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_states_a_test_runs_time_or_count(page: Path) -> None:
    """Bounds that hold (under 2 minutes) rather than last week's timings."""
    found = TEST_TIMES.findall(page.read_text(encoding="utf-8"))
    assert not found, found


def test_the_help_of_serve_shows_no_one_machines_figures() -> None:
    import serve

    assert not re.findall(r"\b0\.\d{4,}", serve.__doc__)


def test_printed_examples_say_what_the_command_prints() -> None:
    """analyze_model.py prints its --show-errors most confident mistakes per label."""
    import analyze_model

    parser_default = re.search(r'"--show-errors".*?default=(\d+)',
                               Path(analyze_model.__file__).read_text(), re.DOTALL)[1]  # fmt: skip
    for page in PAGES:
        for shown in re.findall(r"the (\d+) most confident:", page.read_text(encoding="utf-8")):
            assert shown == parser_default, f"{page.name}: the {shown} most confident"


# ## docs/your-own-data.md, run as a reader runs it


def blocks_after(text: str, marker: str) -> str:
    """The output block (``` ... ```) that comes first after `marker` in a page."""
    start = text.index(marker)
    found = re.compile(r"^```\n(.*?)^```", re.MULTILINE | re.DOTALL).search(text, start)
    assert found, f"no output block after {marker!r}"
    return found.group(1)


def shown_in(expected: str, printed: str) -> None:
    """Every line of a page's block is printed, in order; "..." in a line stands for anything."""
    lines = iter(printed.splitlines())
    for want in expected.splitlines():
        if want.strip() == "...":
            continue
        pattern = re.compile(".*".join(map(re.escape, want.split("..."))) + "$")
        assert any(pattern.match(line) for line in lines), f"not printed: {want!r}\n{printed}"


@pytest.mark.slow
def test_the_worked_example_of_your_own_data_prints_what_the_page_shows(
    keras_home: Path, tmp_path: Path
) -> None:
    """Each command of the worked example, run in a folder of its own as the page says (with
    TensorFlow's defaults, as a reader has them), prints the lines the page shows."""
    page = (ROOT / "docs" / "your-own-data.md").read_text(encoding="utf-8")
    script = re.search(r"python - <<'EOF'\n(.*?)\nEOF\n", page, re.DOTALL)[1]
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True)
    flat = " ".join(page.split())
    env = {k: v for k, v in os.environ.items() if k != "IMDB_DATA"} | {
        "KERAS_HOME": str(keras_home)
    }

    def run(command: str) -> str:
        """What `command`, a line of the page, prints (both streams)."""
        assert command in flat, f"the page does not say {command!r}"
        args = shlex.split(command.replace(" \\ ", " "))
        result = subprocess.run([sys.executable, str(ROOT / args[1]), *args[2:]], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=900)  # fmt: skip
        return result.stdout + result.stderr

    shown_in(blocks_after(page, "the first run stops with one sentence"),
             run("python train_bow.py --data hotel.csv --maxlen 20"))  # fmt: skip
    shown_in(
        blocks_after(page, "what it read, the labels, and the split"),
        run("python train_bow.py --data hotel.csv --label-column rating --maxlen 20"),
    )
    texts = ["The staff was friendly, but the room was cold.",
             "The food was okay, but the bed was lovely."]  # fmt: skip
    printed = run('python predict.py --model hotel_bow "{}" \\ "{}"'.format(*texts))
    printed += run(f'python predict.py --model hotel_bow --explain "{texts[1]}"')
    shown_in(blocks_after(page, '--explain "The food was okay').replace("\n\n", "\n"), printed)
    alone = re.search(r"friendly\.\"` gives positive at (0\.\d{4})", page)[1]
    assert f"{alone}  positive" in run(
        'python predict.py --model hotel_bow "The staff was friendly."'
    )
    shown_in(blocks_after(page, "the texts of that\nlabel the model got most"),
             run("python analyze_model.py --model hotel_bow --data hotel.csv"))  # fmt: skip
    shown_in(blocks_after(page, "--output issues.csv\n```"),
             run("python find_label_issues.py --data hotel.csv --label-column rating "
                 "--maxlen 20 --output issues.csv"))  # fmt: skip
