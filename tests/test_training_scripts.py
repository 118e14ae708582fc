"""The train_*.py scripts read as lessons: their middle, copied out alone, trains a model.

The copy test does what a reader does: it takes everything of a script's `main()` from
the statement after its data are loaded to the statement before its model is calibrated,
with the script's own constants, functions and imports (but `import common`), gives it
small arrays and the flags' defaults, and runs it in a fresh folder with nothing of this
repository on its path but a copy of models/: the seven copies one after another, each in
a namespace of its own, in one process (TensorFlow starts once).
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import common

import numpy as np
import pytest
from conftest import LESSONS, ROOT

TRAINING_SCRIPTS = LESSONS
SCRIPTS = sorted({*ROOT.glob("*.py"), *ROOT.glob("benchmarks/*.py")})
PROJECT = {"common", "record"}  # the project's names in main(): the package, the run's record
MAX_SEAMS = 5  # the flags, the record, the data, the calibration, the save


@pytest.mark.parametrize("script", TRAINING_SCRIPTS, ids=lambda p: p.name)
def test_a_training_script_imports_keras_plainly(script: Path) -> None:
    """`import keras`, as keras-io does, right after `import common`, which must come before
    it to hide TensorFlow's start-up lines (common/startup.py); only the standard library
    before them."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    imports = [ast.unparse(node) for node in tree.body
               if isinstance(node, ast.Import | ast.ImportFrom)]  # fmt: skip
    first = imports.index("import common")
    assert imports[first + 1] == "import keras"
    assert all(name.split()[1].split(".")[0] in sys.stdlib_module_names
               for name in imports[:first])  # fmt: skip


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_script_imports_another_script(script: Path) -> None:
    names = {path.stem for path in SCRIPTS}
    tree = ast.parse(script.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}  # fmt: skip
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}  # fmt: skip
    assert not imported & names, f"{script.name} imports {sorted(imported & names)}"


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class _WithoutTheRecord(ast.NodeTransformer):
    """What a reader does to `fit`'s two arguments from the run's record when copying the
    middle out: `record.callbacks` becomes no callbacks, `record.verbose` Keras' default."""

    KEEP = {"callbacks": ast.List(elts=[]), "verbose": ast.Constant("auto")}

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if (
            isinstance(node.value, ast.Name)
            and node.value.id == "record"
            and node.attr in self.KEEP
        ):
            return self.KEEP[node.attr]
        return self.generic_visit(node)


def lesson(script: Path) -> tuple[list[ast.stmt], list[ast.stmt], list[ast.stmt]]:
    """The script's module-level pieces a reader copies (imports but `import common`,
    constants, functions that use nothing of the project), the seams of `main()` (its
    statements that meet the project, but for `fit`'s record.callbacks and record.verbose),
    and its middle, those two dropped."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    project_functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)
                         and names_in(node) & PROJECT}  # fmt: skip
    touches = PROJECT | project_functions
    kept = [node for node in tree.body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))  # doc
            and not isinstance(node, ast.If)  # if __name__ == "__main__"
            and not (isinstance(node, ast.FunctionDef) and node.name in touches | {"main"})
            and not (isinstance(node, ast.Import) and node.names[0].name == "common")]  # fmt: skip
    (main,) = [node for node in tree.body if isinstance(node, ast.FunctionDef)
               and node.name == "main"]  # fmt: skip
    main = ast.fix_missing_locations(_WithoutTheRecord().visit(main))
    seams = [stmt for stmt in main.body if names_in(stmt) & touches]
    calls = [ast.unparse(stmt) for stmt in main.body]
    data = next(i for i, text in enumerate(calls) if "record.load_" in text)
    save = next(i for i, text in enumerate(calls) if text.startswith("model = record.calibrate("))
    return kept, seams, main.body[data + 1 : save]


@pytest.mark.parametrize("script", TRAINING_SCRIPTS, ids=lambda p: p.name)
def test_a_training_script_meets_the_project_in_five_statements(script: Path) -> None:
    _, seams, middle = lesson(script)
    assert len(seams) <= MAX_SEAMS, "\n".join(ast.unparse(stmt) for stmt in seams)
    assert not [ast.unparse(stmt) for stmt in middle if names_in(stmt) & PROJECT]


class _Parsed(Exception):
    """Raised by a stand-in for RunRecord: the script's flags, as its main() parsed them."""


def flag_defaults(script: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict:
    """The flags' defaults (but those in `argv`), as the script's main() parses them."""

    def parsed(name: str, args: argparse.Namespace) -> None:
        raise _Parsed(args)

    monkeypatch.setattr(common, "RunRecord", parsed)
    namespace: dict = {"__name__": f"lesson_{script.stem}"}
    exec(compile(script.read_text(encoding="utf-8"), str(script), "exec"), namespace)
    with pytest.raises(_Parsed) as parsed_flags:
        namespace["main"](argv)
    return vars(parsed_flags.value.args[0])


TRAIN, TEST = 256, 128  # texts in the stand-in data


def small_data(vocabulary: int, maxlen: int | None) -> str:
    """Python that makes the arrays of the data seam: TRAIN texts to learn from and TEST to
    test on, of two labels that tell apart: a label-1 text holds words of the upper half
    of the vocabulary only, a label-0 text of the lower half, so any model that learns
    beats chance. Padded to `maxlen` ids (None: of every length, each opened by 1)."""
    if maxlen is None:
        text = "np.concatenate([[1], words(label, rng.integers(20, 80))])"
        texts = f"lambda y: np.array([{text}.astype('int32') for label in y], object)"
    else:
        texts = f"lambda y: np.stack([words(label, {maxlen}) for label in y]).astype('int32')"
    return (
        "import numpy as np\n"
        f"VOCABULARY = {vocabulary}\n"
        "rng = np.random.default_rng(0)\n"
        "words = lambda label, n: VOCABULARY // 2 * label + rng.integers(3, VOCABULARY // 2, n)\n"
        f"texts = {texts}\n"
        f"y_train, y_test = rng.integers(0, 2, size={TRAIN}), rng.integers(0, 2, size={TEST})\n"
        "x_train, x_test = texts(y_train), texts(y_test)\n"
        "labels = ['negative', 'positive']\n"
        "word_index = {f'word{i}': i for i in range(1, VOCABULARY)}\n"
    )


# Small data: few words, so each is seen often, and small batches, so that the script's
# own epochs take enough steps to learn.
COPY_FLAGS = ["--num-words", "50", "--maxlen", "64", "--batch-size", "16"]
# What a copy must do: train and test a model, with nothing of this repository.
COPY_CHECKS = [
    "import sys",
    "assert 'common' not in sys.modules, 'the middle used common/'",
    f"assert {str(ROOT)!r} not in sys.path",
    "assert history is not None and test_accuracy > 0.75, test_accuracy",
    "print(f'copied middle: {model.name}, test accuracy {test_accuracy:.4f}')",
]
# Runs each copy given as an argument in a namespace of its own, one after another, in
# one process (TensorFlow starts once, not once per script); says what each printed, or
# its traceback.
RUN_COPIES = """import contextlib, io, json, runpy, sys, traceback
results = {}
for path in sys.argv[1:]:
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            runpy.run_path(path, run_name="__main__")
        results[path] = {"printed": printed.getvalue()}
    except BaseException:
        results[path] = {"printed": printed.getvalue(), "error": traceback.format_exc()}
print(json.dumps(results))
"""


def copied_middle(script: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The program a reader makes of `script`: its pieces and middle, the flags' defaults,
    the stand-in data in place of the data seam, and COPY_CHECKS."""
    kept, _, middle = lesson(script)
    args = flag_defaults(script, argv, monkeypatch)
    (main,) = [node for node in ast.parse(script.read_text(encoding="utf-8")).body
               if isinstance(node, ast.FunctionDef) and node.name == "main"]  # fmt: skip
    (data,) = [stmt for stmt in main.body if isinstance(stmt, ast.Assign)
               and "record.load_" in ast.unparse(stmt.value)]  # fmt: skip
    whole = "record.load_words" in ast.unparse(data.value)  # every word, and the vocabulary
    return "\n".join(
        [
            *(ast.unparse(node) for node in kept),
            "import argparse",
            f"args = argparse.Namespace(**{args!r})",
            small_data(args["num_words"], None if whole else args["maxlen"]),
            f"{ast.unparse(data.targets[0])} = (x_train, y_train), (x_test, y_test), labels"
            + (", word_index" if whole else ""),
            *(ast.unparse(stmt) for stmt in middle),
            *COPY_CHECKS,
        ]
    )


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict:
    """Every training script's copied middle, {script name: (its text, what its run printed
    and its traceback if it failed)}, all run in one fresh process in a folder of their own,
    with nothing of this repository on its path but a copy of models/, which some use."""
    folder = tmp_path_factory.mktemp("copies")
    texts = {}
    for script in TRAINING_SCRIPTS:
        argv = COPY_FLAGS
        if script.name == "train_minilm.py":
            try:
                import keras_hub  # noqa: F401 (its copy needs it; without, its test skips)
            except ImportError:
                continue
            argv = [*COPY_FLAGS, "--encoder", str(request.getfixturevalue("tiny_encoder"))]
        with pytest.MonkeyPatch.context() as monkeypatch:
            texts[script.name] = copied_middle(script, argv, monkeypatch)
        (folder / f"copy_{script.stem}.py").write_text(texts[script.name], encoding="utf-8")
    shutil.copytree(ROOT / "models", folder / "models")  # the pieces the scripts point to
    (folder / "run_copies.py").write_text(RUN_COPIES, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-E", "-s", "run_copies.py", *(f"copy_{Path(n).stem}.py" for n in texts)],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder), "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    ran = json.loads(result.stdout.splitlines()[-1])
    return {name: (text, ran[f"copy_{Path(name).stem}.py"]) for name, text in texts.items()}


@pytest.mark.parametrize("script", TRAINING_SCRIPTS, ids=lambda p: p.name)
def test_the_middle_of_a_training_script_trains_a_model_copied_out_alone(
    script: Path, copies: dict
) -> None:
    if script.name not in copies:
        pytest.skip("keras-hub is not installed: train_minilm.py's copy needs it")
    copied, ran = copies[script.name]
    assert "error" not in ran, f"{copied}\n\n{ran['error'][-4000:]}"
    assert "copied middle:" in ran["printed"]


def test_the_copied_lesson_gets_the_small_data_it_expects() -> None:
    """The stand-in data have the shapes the seams give (checked here, not in a copy)."""
    namespace: dict = {}
    exec(small_data(100, 16), namespace)
    x, y = namespace["x_train"], namespace["y_train"]
    assert x.shape == (TRAIN, 16) and namespace["x_test"].shape == (TEST, 16)
    assert np.all((x >= 50) == (y[:, None] == 1)) and 0 < y.mean() < 1  # the labels tell apart
    namespace = {}
    exec(small_data(100, None), namespace)
    x, y = namespace["x_train"], namespace["y_train"]
    assert x.dtype == object and all(text[0] == 1 for text in x)
    assert all(np.all((text[1:] >= 50) == (label == 1)) for text, label in zip(x, y, strict=True))
    assert np.all(np.concatenate(list(x)) < 100)
