"""What serve.py needs around the model: reading requests safely and scoring them together.

`read_body` bounds a request's body in bytes and in time; `texts_of` turns a
TensorFlow Serving request ({"instances": [...]} or {"inputs": [...]}) into texts, or
says in one sentence what is wrong with it; `Batcher` scores the texts of requests
that arrive together in one call of the model, as TensorFlow Serving's batching does.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from common.texts import text_problem


class RequestError(Exception):
    """A request the server refuses: the HTTP status, and one sentence for {"error": ...}."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


async def read_body(receive: object, headers: dict[str, str], limit: int, timeout: float) -> bytes:
    """The request's body, at most `limit` bytes, all of it within `timeout` seconds.

    `receive` is a Starlette request's `stream()`. A body declared or found larger is
    refused (413) as soon as that is known, without reading the rest; a client that
    stops sending halfway is refused (408) and its connection closed, so it holds
    nothing but a socket meanwhile.
    """
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the body is over the limit of {limit:,} bytes.")
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in receive:
                body += chunk
                if len(body) > limit:
                    raise RequestError(413, f"the body is over the limit of {limit:,} bytes.")
    except TimeoutError:
        raise RequestError(408, f"the body did not arrive within {timeout:g} seconds.") from None
    return bytes(body)


def texts_of(body: bytes, limit: int) -> tuple[list[str], str]:
    """The texts of a TensorFlow Serving request, and the key its answer goes under.

    The row format {"instances": ["text", ...]} is answered under "predictions", the
    columnar {"inputs": ["text", ...]} under "outputs", as TensorFlow Serving does. An
    instance may also be {"texts": "..."}, the export's input named, and "inputs" may
    be {"texts": [...]}. At most `limit` texts, each with a word the model can read.
    """
    try:
        request = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise RequestError(400, f"the body is not UTF-8 (byte {err.start:,}).") from None
    except (ValueError, RecursionError) as err:  # RecursionError: nested thousands deep
        reason = str(err).split(":")[0] if isinstance(err, ValueError) else "nested too deep"
        raise RequestError(400, f"the body is not JSON: {reason}.") from None
    if not isinstance(request, dict):
        raise RequestError(400, 'the body must be a JSON object with "instances", a list of texts.')
    signature = request.get("signature_name", "serving_default")
    if signature not in ("serving_default", "serve"):
        shown = str(signature)[:40]
        raise RequestError(400, f"there is no signature {shown!r}: use serving_default.")
    if ("instances" in request) == ("inputs" in request):
        raise RequestError(
            400,
            'the body must have "instances" (a list of texts), or "inputs", not both.'
            if "instances" in request
            else 'the body has no "instances" (a list of texts).',
        )
    key, answer = ("instances", "predictions") if "instances" in request else ("inputs", "outputs")
    items = request[key]
    if isinstance(items, dict) and list(items) == ["texts"]:  # {"inputs": {"texts": [...]}}
        items = items["texts"]
    if not isinstance(items, list):
        raise RequestError(400, f'"{key}" must be a list of texts, not {_kind(items)}.')
    if not items:
        raise RequestError(400, f'"{key}" is empty: there is nothing to score.')
    if len(items) > limit:
        raise RequestError(
            400, f'"{key}" holds {len(items):,} texts; at most {limit:,} per request.'
        )
    texts = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and list(item) == ["texts"]:  # {"texts": "..."}
            item = item["texts"]
        if not isinstance(item, str):
            raise RequestError(400, f"{key}[{i}] is {_kind(item)}, not a string.")
        problem = text_problem(item)
        if problem:
            raise RequestError(400, f"{key}[{i}] {problem}.")
        texts.append(item)
    return texts, answer


def _kind(value: object) -> str:
    """What a JSON value is, for a message: "a number", "a list"."""
    kinds = {bool: "true or false", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "an object", type(None): "null"}  # fmt: skip
    return kinds.get(type(value), type(value).__name__)


class Batcher:
    """Scores the texts of requests that arrive together in one call of `score`.

    While the model scores one batch, the requests that come in wait; the next call
    takes all of them, up to `max_texts` (a request larger than that goes alone). One
    client at a time is scored alone, at once; many at once share calls, which is what
    makes the model's large batches pay. `score` runs in one thread beside the server's
    event loop, so that the model is never called from two threads and the server
    goes on reading requests meanwhile.
    """

    def __init__(self, score: Callable[[list[str]], np.ndarray], max_texts: int) -> None:
        self.score, self.max_texts = score, max_texts
        self.calls = self.texts = 0  # how many calls of the model, for how many texts
        self._waiting: deque[tuple[list[str], asyncio.Future]] = deque()
        self._arrived = asyncio.Event()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._task: asyncio.Task | None = None

    async def submit(self, texts: Sequence[str]) -> np.ndarray:
        """The model's outputs for `texts`, scored with whatever else is waiting."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((list(texts), future))
        self._arrived.set()
        return await future

    async def run_alone(self, work: Callable[[], object]) -> object:
        """Run `work` (an explanation) in the model's thread, between two batches."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            jobs, count, limit = [], 0, self.max_texts
            # The first request always; the others while they fit.
            while self._waiting and (not jobs or count + len(self._waiting[0][0]) <= limit):
                jobs.append(self._waiting.popleft())
                count += len(jobs[-1][0])
            if not self._waiting:
                self._arrived.clear()
            jobs = [(texts, future) for texts, future in jobs if not future.done()]
            if not jobs:
                continue  # every client waiting for these has gone
            texts = [text for job_texts, _ in jobs for text in job_texts]
            try:
                outputs = await asyncio.get_running_loop().run_in_executor(
                    self._thread, self.score, texts
                )
            except Exception as err:  # the model failed: every request of the batch hears of it
                for _, future in jobs:
                    if not future.done():
                        future.set_exception(err)
                continue
            self.calls += 1
            self.texts += len(texts)
            start = 0
            for job_texts, future in jobs:
                if not future.done():  # a client that went away meanwhile wants nothing
                    future.set_result(outputs[start : start + len(job_texts)])
                start += len(job_texts)

    def close(self) -> None:
        """Stop taking batches; the call in progress, if any, ends first."""
        if self._task is not None:
            self._task.cancel()
        self._thread.shutdown(wait=True)
