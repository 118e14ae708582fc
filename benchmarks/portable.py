"""One model in every runtime it travels to: size, load time and texts per second.

For each model (--model, as predict.py takes it; train it first), each runtime scores
the same word ids in a process of its own, so that one runtime's threads or imports
never slow another's:

* Keras: model.keras, loaded by `common.load_model`;
* SavedModel: the export, loaded by `tf.saved_model.load`; it takes the texts, not the
  ids, so its figures include its tokenizer;
* ONNX: model.onnx through onnxruntime, without TensorFlow;
* LiteRT: model.tflite through ai-edge-litert, without TensorFlow;
* the browser: the page of make_page.py, from disk, in headless Chromium (onnxruntime-web,
  WebAssembly, one thread: a page opened from disk cannot have more).

Size: the file (the SavedModel: its folder; the browser: the whole page, onnxruntime's
WebAssembly included). Load: from the file to a model ready to score, in a process that
has imported its runtime already (the browser: from opening the page). Then texts per
second, scoring one text at a time (the median of --repeat calls after one not timed)
and 256 at a time (the median of 5 calls). Each text is a made-up review of 100 to 300
words, padded or cut to the model's 500 ids as every text is: a runtime's cost does not
depend on what the words are.

    python benchmarks/portable.py                      # cnn and bow
    python benchmarks/portable.py --model cnn --repeat 200
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RUNTIMES = ("Keras", "SavedModel", "ONNX", "LiteRT", "browser")
WORDS = (
    "good bad great awful boring wonderful plot acting film movie story cast not very really "
    "never loved hated slow funny dull brilliant ending script the a of and"
).split()
SEED = 7
BATCH = 256


def made_up_reviews(count: int) -> list[str]:
    rng = np.random.default_rng(SEED)
    return [" ".join(rng.choice(WORDS, size=rng.integers(100, 301))) for _ in range(count)]


def timings(call, repeat: int) -> float:
    """The median seconds of `repeat` calls of `call`, after one that is not timed."""
    call()
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def measure(runtime: str, folder: Path, texts: list[str], ids: np.ndarray, repeat: int) -> dict:
    """Load the model in `runtime` and time it; runs in a process of its own."""
    if runtime == "Keras":
        sys.path.insert(0, str(ROOT))
        import common

        start = time.perf_counter()  # after the import: loading the model, not Keras
        model, _ = common.load_model(folder)
        loaded = time.perf_counter()
        score = model.predict_on_batch
    elif runtime == "SavedModel":
        import tensorflow as tf

        start = time.perf_counter()  # after the import: loading the model, not TensorFlow
        export = tf.saved_model.load(str(folder))  # kept: its functions use its variables
        loaded = time.perf_counter()

        def score(rows: np.ndarray) -> np.ndarray:
            return export.serve(tf.constant(texts[: len(rows)])).numpy()
    elif runtime == "ONNX":
        import onnxruntime

        start = time.perf_counter()
        session = onnxruntime.InferenceSession(str(folder / "model.onnx"))
        name = session.get_inputs()[0].name
        loaded = time.perf_counter()

        def score(rows: np.ndarray) -> np.ndarray:
            return session.run(None, {name: rows})[0]
    else:  # LiteRT
        from ai_edge_litert.interpreter import Interpreter

        start = time.perf_counter()
        interpreter = Interpreter(model_path=str(folder / "model.tflite"))
        given = interpreter.get_input_details()[0]["index"]
        shape = [None]
        loaded = time.perf_counter()

        def score(rows: np.ndarray) -> np.ndarray:
            if shape[0] != rows.shape:  # resizing is once per batch size, not per call
                interpreter.resize_tensor_input(given, rows.shape)
                interpreter.allocate_tensors()
                shape[0] = rows.shape
            interpreter.set_tensor(given, rows)
            interpreter.invoke()
            return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

    one = timings(lambda: score(ids[:1]), repeat)
    many = timings(lambda: score(ids[:BATCH]), 5)
    assert "tensorflow" not in sys.modules or runtime in ("Keras", "SavedModel")
    return {"load": loaded - start, "one": one, "many": many}


def measure_browser(page_folder: Path, ids: np.ndarray, repeat: int) -> dict:
    """The same in Chromium: the page's own model (onnxruntime-web), timed inside the page."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import chromium_page

    with chromium_page() as page:
        page.goto((page_folder / "index.html").as_uri())
        load = page.evaluate("() => modelReady") / 1000
        return page.evaluate(
            """async ([ids, width, repeat, batch]) => {
                const rows = [];
                for (let i = 0; i < ids.length; i += width) {
                  rows.push(Int32Array.from(ids.slice(i, i + width)));
                }
                async function median(call, times) {
                  await call();
                  const seconds = [];
                  for (let i = 0; i < times; i++) {
                    const start = performance.now();
                    await call();
                    seconds.push((performance.now() - start) / 1000);
                  }
                  seconds.sort((a, b) => a - b);
                  const middle = Math.floor(times / 2);
                  return times % 2 ? seconds[middle] : (seconds[middle - 1] + seconds[middle]) / 2;
                }
                return {one: await median(() => scoreHere(rows.slice(0, 1)), repeat),
                        many: await median(() => scoreHere(rows.slice(0, batch)), 5)};
            }""",
            [ids[:BATCH].ravel().tolist(), ids.shape[1], repeat, BATCH],
        ) | {"load": load}


def size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file())  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", help="a saved model (default: cnn and bow)")
    parser.add_argument("--models-dir", default="outputs", metavar="DIR")
    parser.add_argument("--repeat", type=int, default=100, help="calls of one text (default: 100)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # RUNTIME FOLDER WORK
    args = parser.parse_args()
    if args.child:
        runtime, folder, work = args.child
        texts = json.loads(Path(work, "texts.json").read_text())
        ids = np.load(Path(work, "ids.npy"))
        print(json.dumps(measure(runtime, Path(folder), texts, ids, args.repeat)))
        return

    sys.path.insert(0, str(ROOT))
    import common

    texts = made_up_reviews(BATCH)
    rows = []
    for name in args.model or ["cnn", "bow"]:
        files = common.find_model(name, args.models_dir)
        folder = files.folder
        _, encoding = common.load_model(files)
        with tempfile.TemporaryDirectory() as work:
            np.save(Path(work, "ids.npy"), encoding.encode_texts(texts).astype(np.int32))
            Path(work, "texts.json").write_text(json.dumps(texts))
            page = Path(work, "page")
            subprocess.run([sys.executable, str(ROOT / "make_page.py"), "--model", str(folder),
                            "--output", str(page)], check=True, capture_output=True)  # fmt: skip
            files_of = {
                "Keras": folder / "model.keras",
                "SavedModel": [folder / "saved_model.pb", folder / "variables"],
                "ONNX": folder / "model.onnx",
                "LiteRT": folder / "model.tflite",
                "browser": page,
            }
            for runtime in RUNTIMES:
                paths = files_of[runtime]
                paths = paths if isinstance(paths, list) else [paths]
                if not all(p.exists() for p in paths):
                    continue  # no model.tflite for this model
                if runtime == "browser":
                    figures = measure_browser(page, np.load(Path(work, "ids.npy")), args.repeat)
                else:
                    result = subprocess.run(
                        [sys.executable, __file__, "--repeat", str(args.repeat), "--child",
                         runtime, str(folder), work],
                        capture_output=True, text=True, check=False,
                    )  # fmt: skip
                    if result.returncode:
                        sys.exit(f"{runtime} failed:\n{result.stderr[-2000:]}")
                    figures = json.loads(result.stdout.strip().splitlines()[-1])
                rows.append((name, runtime, sum(size(p) for p in paths), figures))
                print(f"  {name} {runtime} done", file=sys.stderr)

    print(f"\nFrom word ids to probabilities (SavedModel: from the texts); {os.cpu_count()} "
          f"cores; one text: the median of {args.repeat} calls; {BATCH}: of 5\n")  # fmt: skip
    print(
        "| model | runtime | size MB | load s | texts/s, one at a time | texts/s, 256 at a time |"
    )
    print("|---|---|---|---|---|---|")
    for name, runtime, total, f in rows:
        print(f"| {name} | {runtime} | {total / 1e6:.1f} | {f['load']:.2f} | "
              f"{1 / f['one']:,.0f} | {BATCH / f['many']:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
