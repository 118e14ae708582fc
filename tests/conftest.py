"""Fixtures: tiny aclImdb-shaped folders and archives that the tests write themselves."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the scripts and common/ live at the top of the repository
# The tests run in two processes (xdist), one per core, and tiny models gain nothing
# from threads: one thread per script leaves each core to one test (unit tests only).
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}


def write_dataset(root: Path, reviews: dict[str, list[str]]) -> Path:
    """Write an aclImdb/ folder under `root`: {"train/pos": [text, ...], ...}."""
    folder = root / "aclImdb"
    for part in ("train/pos", "train/neg", "test/pos", "test/neg"):
        (folder / part).mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(reviews.get(part, [])):
            (folder / part / f"{i}_{8 if 'pos' in part else 2}.txt").write_text(text, "utf-8")
    return folder


def write_archive(folder: Path, path: Path) -> Path:
    """Pack an aclImdb/ folder into a .tar.gz archive, as the Stanford download is."""
    with tarfile.open(path, "w:gz") as archive:
        archive.add(folder, arcname="aclImdb")
    return path


def learnable_reviews(per_folder: int = 40, seed: int = 0) -> dict[str, list[str]]:
    """Reviews a small model can learn from: positive ones use more praise words."""
    rng = np.random.RandomState(seed)
    neutral = "the film plot actor scene story music camera ending script".split()
    praise = "great wonderful loved superb brilliant".split()
    blame = "awful boring hated terrible worst".split()
    reviews = {}
    for part in ("train/pos", "train/neg", "test/pos", "test/neg"):
        signal = praise if part.endswith("pos") else blame
        reviews[part] = [
            " ".join(rng.choice(neutral + signal * 2, size=rng.randint(20, 60)))
            for _ in range(per_folder)
        ]
    return reviews


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An extracted aclImdb/ folder with 40 learnable reviews in each of the 4 folders."""
    return write_dataset(tmp_path_factory.mktemp("tiny"), learnable_reviews())


@pytest.fixture(scope="session")
def tiny_archive(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_archive(tiny_folder, tmp_path_factory.mktemp("archive") / "tiny.tar.gz")


@pytest.fixture(scope="session")
def keras_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Keras cache folder of the test session's own, shared by the scripts it runs."""
    return tmp_path_factory.mktemp("keras_home")


@pytest.fixture(scope="session")
def run_script(keras_home: Path):
    """Run one of the scripts as a user would, in a fresh Python process."""

    def run(
        script: str, *args: str | os.PathLike[str], stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KERAS_HOME": str(keras_home)}
        if not os.environ.get("IMDB_DATA"):  # real-data runs keep TensorFlow's defaults,
            env.update(ONE_THREAD)  # so that they print the README's figures
        env.pop("IMDB_DATA", None)  # each test says where its data is
        return subprocess.run(
            [sys.executable, str(ROOT / script), *map(str, args)],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=900,
        )

    return run


# The slowest test modules, in the order xdist hands them out (pyproject.toml:
# --no-loadscope-reorder, so not by number of tests). Each of the two processes runs
# whole modules; this order gives each process about half (test_minilm, about 25
# seconds, ran last and alone before it was listed): the unit tests stay under 2 minutes.
MODULE_ORDER = [
    "test_predict",
    "test_minilm",
    "test_hardening",
    "test_scripts",
    "test_ngrams",
    "test_compare",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.path.stem
        return MODULE_ORDER.index(module) if module in MODULE_ORDER else len(MODULE_ORDER)

    items.sort(key=rank)  # stable: the tests of a module keep their order
