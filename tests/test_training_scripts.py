"""The train_*.py scripts read as lessons: plain imports, no script imported, little else."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest
from conftest import ROOT

TRAINING_SCRIPTS = sorted(ROOT.glob("train_*.py"))
SCRIPTS = sorted({*ROOT.glob("*.py"), *ROOT.glob("benchmarks/*.py")})
# What is not the lesson: the flags, the bookkeeping object and its one-line hooks (its
# load_data and finish are the lesson's data and report).
BOOKKEEPING = re.compile(
    r"^import common$|common\.(Training|run|training_parser)\b|parse_args"
    r"|training\.(callback|verbose|record|seeds)\b|__name__ == |^def main\("
)
TUTORIAL_CALLS = {"compile", "fit", "evaluate"}  # may repeat between scripts: the lesson itself
LONGEST_REPEAT = 8


def code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of each line of code: no blank lines, no docstrings."""
    source = path.read_text(encoding="utf-8")
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                docstrings |= set(range(body[0].lineno, body[0].end_lineno + 1))
    return [(n, line.strip()) for n, line in enumerate(source.splitlines(), start=1)
            if line.strip() and n not in docstrings]  # fmt: skip


def argument_lines(path: Path) -> set[int]:
    """The lines of every `parser.add_argument(...)` call: flags, not lesson."""
    lines = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
            lines |= set(range(node.lineno, node.end_lineno + 1))
    return lines


def tutorial_call_lines(path: Path) -> set[int]:
    """The lines of every `compile`, `fit` and `evaluate` call."""
    lines = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in TUTORIAL_CALLS:
            lines |= set(range(node.lineno, node.end_lineno + 1))
    return lines


@pytest.mark.parametrize("script", TRAINING_SCRIPTS, ids=lambda p: p.name)
def test_a_training_script_imports_keras_plainly(script: Path) -> None:
    """`import keras`, as keras-io does, right after `import common`, which must come before
    it to hide TensorFlow's start-up lines (common/startup.py)."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    imports = [ast.unparse(node) for node in tree.body
               if isinstance(node, ast.Import | ast.ImportFrom)]  # fmt: skip
    assert imports[:2] == ["import common", "import keras"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_script_imports_another_script(script: Path) -> None:
    names = {path.stem for path in SCRIPTS}
    tree = ast.parse(script.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}  # fmt: skip
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}  # fmt: skip
    assert not imported & names, f"{script.name} imports {sorted(imported & names)}"


@pytest.mark.parametrize("script", TRAINING_SCRIPTS, ids=lambda p: p.name)
def test_a_training_script_is_at_least_two_thirds_lesson(script: Path) -> None:
    lines = code_lines(script)
    flags = argument_lines(script)
    bookkeeping = [text for n, text in lines if n in flags or BOOKKEEPING.search(text)]
    share = 1 - len(bookkeeping) / len(lines)
    print(f"{script.name}: {len(lines)} lines of code, {share:.0%} lesson")
    assert share >= 2 / 3, "\n".join(bookkeeping)


def test_no_block_repeats_between_training_scripts_but_the_tutorial_calls() -> None:
    def runs(path: Path) -> set[tuple[str, ...]]:
        """Every LONGEST_REPEAT consecutive lines of code outside the tutorial's calls."""
        exempt = tutorial_call_lines(path)
        # Comments and lone brackets are passed over, as a reader's eye passes over them.
        kept = [(n, text) for n, text in code_lines(path)
                if not text.startswith("#") and re.search(r"\w", text)]  # fmt: skip
        blocks, current = [], []
        for n, text in kept:
            if n in exempt:
                blocks.append(current)
                current = []
            else:
                current.append(text)
        blocks.append(current)
        return {tuple(block[i : i + LONGEST_REPEAT]) for block in blocks
                for i in range(len(block) - LONGEST_REPEAT + 1)}  # fmt: skip

    for first, second in itertools.combinations(TRAINING_SCRIPTS, 2):
        shared = runs(first) & runs(second)
        assert not shared, f"{first.name} and {second.name} share:\n" + "\n".join(min(shared))
