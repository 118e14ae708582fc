"""Make a page that runs a trained model in the browser, with no server.

serve.py's page asks a server for every answer. This one brings the model with it: the
version's model.onnx, run by onnxruntime-web (WebAssembly), and the JavaScript tokenizer
(web/tokenizer.js) with the model's vocabulary, which gives the same word ids as the
Python one. Open its index.html from disk, or put the folder on any static host; type a
review and see the label, every label's probability and each word's contribution, as
on serve.py's page, and the same figures as predict.py. Nothing you type leaves the page:
it may not connect anywhere (its Content-Security-Policy says so).

onnxruntime-web comes from npm: run `npm ci` once in this repository (it installs the
version that package-lock.json pins into node_modules/), then:

    python make_page.py --model bow            # writes pages/bow/; open pages/bow/index.html
    python make_page.py --model cnn --output site/

The folder holds about 20 MB of onnxruntime's WebAssembly (as base64) beside the model;
every file is a script of the page, since a page opened from disk may not read its
neighbours.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import common
from common.page import WEB, page_html

import models  # each piece loads at first use (models.outputs), after the flags

ROOT = Path(__file__).resolve().parent
ONNXRUNTIME_WEB = ROOT / "node_modules" / "onnxruntime-web" / "dist"
# What the page takes of onnxruntime-web: the WebAssembly build alone (no WebGPU), its
# JavaScript, and the module that starts the WebAssembly.
ORT_SCRIPT, ORT_WASM, ORT_GLUE = (
    "ort.wasm.min.js",
    "ort-wasm-simd-threaded.wasm",
    "ort-wasm-simd-threaded.mjs",
)
MAX_MODEL_BYTES = 256 * 2**20  # a page's script holds it in base64: a browser's string limit
MARK = '<meta name="generator" content="make_page.py">'  # a page this script wrote
# The page runs its own scripts and WebAssembly, and may ask no one for anything.
POLICY = ("default-src 'none'; script-src 'self' file: blob: 'wasm-unsafe-eval' 'unsafe-inline'; "
          "style-src 'unsafe-inline'; img-src data:")  # fmt: skip
SCRIPTS = ["onnxruntime-web.js", "runtime.js", "tokenizer.js", "model.js", "offline.js"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common.cli.add_model_flags(parser)
    parser.add_argument(
        "--output",
        metavar="DIR",
        help="the folder to write (default: pages/<model>/); a page written before is "
        "replaced, any other folder is left alone",
    )
    parser.add_argument(
        "--onnxruntime",
        metavar="DIR",
        default=str(ONNXRUNTIME_WEB),
        help="onnxruntime-web's dist/ folder (default: the one npm ci installs here)",
    )
    return parser.parse_args(argv)


def runtime_files(folder: Path) -> dict[str, Path]:
    """onnxruntime-web's three files the page needs, from its dist/ folder, checked."""
    files = {name: folder / name for name in (ORT_SCRIPT, ORT_WASM, ORT_GLUE)}
    missing = [name for name, path in files.items() if not path.is_file()]
    if missing:
        install = (
            "run npm ci in this repository" if folder == ONNXRUNTIME_WEB else "check --onnxruntime"
        )
        raise common.UserError(
            f"onnxruntime-web is not in {str(folder)!r} (no {missing[0]}): {install}, "
            "which installs the version package-lock.json pins."
        )
    return files


def onnx_model(
    version: Path, keras_model, encoding: common.saving.TextEncoding, temporary: Path
) -> Path:
    """The version's model.onnx, checked to read this encoding's ids and give its labels'
    outputs; for a version saved before versions held one, converted now."""
    import onnx  # here, as TensorFlow is: --help and a bad flag answer before they load

    export = common.export
    path = version / export.PORTABLE_FILES["onnx"]
    if not path.is_file():
        path = temporary / export.PORTABLE_FILES["onnx"]
        problem = export.export_file(export.portable_model(keras_model), "onnx", path)
        if problem:
            raise common.UserError(f"{version} cannot be run in a page: {problem[:-1]}.")
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise common.UserError(
            f"{path} is larger than a page can hold ({MAX_MODEL_BYTES >> 20} MiB)."
        )
    try:
        graph = onnx.load_model(str(path), load_external_data=False).graph
    except Exception as err:  # noqa: BLE001 - protobuf's errors for a file that is not ONNX
        raise common.UserError(
            f"{path} is not an ONNX model ({common.files.short_reason(err)})."
        ) from None
    inputs, outputs = [[[d.dim_value or None for d in value.type.tensor_type.shape.dim]
                        for value in values] for values in (graph.input, graph.output)]  # fmt: skip
    units = models.outputs.output_units(len(encoding.labels))
    expected = ([[None, encoding.maxlen]], [[None, units]])
    int32 = graph.input and graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT32
    if (inputs, outputs) != expected or not int32:
        raise common.UserError(
            f"{path} is not this version's model: it takes {inputs} and gives {outputs}, where "
            f"the model reads {encoding.maxlen} int32 ids per text and gives "
            f"{units} output(s)."
        )
    return path


def script(name: str, value: object, note: str) -> str:
    """A script that sets the global `name` to `value` (JSON is JavaScript)."""
    return f"// {note}\nvar {name} = {json.dumps(value, ensure_ascii=False)};\n"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    runtime = runtime_files(Path(args.onnxruntime))
    with common.saving.held_model(args.model, args.models_dir) as (model, encoding, files), \
            tempfile.TemporaryDirectory() as temporary:  # fmt: skip
        name = files.name
        output = Path(args.output or Path("pages") / name)
        index = output / "index.html"
        if output.exists() and not (
            index.is_file() and MARK in index.read_text("utf-8", "replace")[:4096]
        ):
            raise common.UserError(
                f"{str(output)!r} exists and is not a page that make_page.py wrote: "
                "give another --output, or remove it."
            )
        model_file = onnx_model(files.folder, model, encoding, Path(temporary))
        page_model = {
            "name": name,
            "version": files.folder.name,
            "learned_from": encoding.learned_from,
            "min_confidence": encoding.min_confidence,
            "tokenizer": common.export.tokenizer_spec(encoding),
            "onnx": base64.b64encode(model_file.read_bytes()).decode("ascii"),
        }

        def write(folder: Path) -> None:
            policy = f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
            page = page_html(name, SCRIPTS, head=f"{MARK}\n{policy}")
            (folder / "index.html").write_text(page, encoding="utf-8")
            shutil.copy(runtime[ORT_SCRIPT], folder / "onnxruntime-web.js")
            wasm = {
                "binary": base64.b64encode(runtime[ORT_WASM].read_bytes()).decode("ascii"),
                "glue": runtime[ORT_GLUE].read_text(encoding="utf-8"),
            }
            note = (
                "onnxruntime-web's WebAssembly (MIT License, Copyright (c) Microsoft Corporation)"
            )
            (folder / "runtime.js").write_text(script("ONNXRUNTIME_WASM", wasm, note), "utf-8")
            for part in ("tokenizer.js", "offline.js"):
                shutil.copy(WEB / part, folder / part)
            note = f"the model {name} (version {files.folder.name}): its model.onnx and tokenizer"
            (folder / "model.js").write_text(script("PAGE_MODEL", page_model, note), "utf-8")

        try:
            common.files.write_folder(output, write)
        except OSError as err:
            raise common.UserError(
                f"cannot write {str(output)!r} ({err.strerror or err})."
            ) from None
    size = sum(f.stat().st_size for f in output.iterdir()) / 2**20
    print(
        f"Wrote {output}/ ({size:.0f} MB): open {index} in a browser, or put the folder on "
        "any static host."
    )


if __name__ == "__main__":
    common.run(main)
