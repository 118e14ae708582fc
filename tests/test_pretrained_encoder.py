"""benchmarks/pretrained_encoder.py: the texts it reads are exactly our words, cut short."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import common

import numpy as np

from models import word_ids

ROOT = Path(__file__).resolve().parent.parent


def load_benchmark(name: str):
    """A script of benchmarks/, imported by path (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pretrained_benchmark_reads_exactly_our_words_cut_short() -> None:
    """Openings and windows of N words from the fit reviews; openings elsewhere."""
    benchmark = load_benchmark("pretrained_encoder")
    words = [f"w{i}" for i in range(60)]
    word_index = {word: rank for rank, word in enumerate(words, start=1)}
    rng = np.random.default_rng(0)

    def review(length: int) -> np.ndarray:
        ids = rng.integers(word_ids.INDEX_FROM + 1, word_ids.INDEX_FROM + 61, size=length)
        ids[0] = word_ids.OOV  # an unknown word, which the encoder reads as [UNK]
        return np.concatenate([[word_ids.START], ids]).astype(np.int32)

    lengths = [3, 5, 40, 80, 120, 7, 50, 9, 60, 100]  # the last one is the validation review
    reviews = np.array([review(n) for n in lengths], dtype=object)
    data = common.data.Dataset(
        reviews, np.arange(10) % 2, reviews[:4], np.array([1, 0, 1, 0]), word_index, "test"
    )
    texts = benchmark.short_texts(data, words=5)

    fit, fit_labels = texts["fit"]
    full = [" ".join(common.data.decode(r, word_index).split()).replace("<unk>", "[UNK]")
            for r in reviews]  # fmt: skip
    assert len(fit) == 18  # 9 fit reviews: 9 openings, then 9 windows
    assert list(fit_labels) == [0, 1, 0, 1, 0, 1, 0, 1, 0] * 2
    for i in range(9):
        opening, window = fit[i].split(), fit[9 + i].split()
        assert opening == full[i].split()[:5]
        assert len(window) == min(5, lengths[i])
        assert f" {' '.join(window)} " in f" {full[i]} "  # consecutive words of its review
    assert fit[0].startswith("[UNK] ")
    assert texts["validation"][0] == [" ".join(full[9].split()[:5])]
    assert [t.split() for t in texts["test"][0]] == [f.split()[:5] for f in full[:4]]
    # --seed moves the windows, never the openings or what is tested.
    other = benchmark.short_texts(data, words=5, seed=8)
    assert other["fit"][0][:9] == fit[:9] and other["fit"][0][9:] != fit[9:]
    assert other["validation"][0] == texts["validation"][0]
