"""What serve.py needs around the model: reading requests safely and scoring them together.

`check_origin` keeps out what a page from elsewhere sends (DNS rebinding, cross-origin
posts); `read_body` bounds a request's body in bytes and in time; `texts_of` turns a
TensorFlow Serving request ({"instances": [...]} or {"inputs": [...]}) into texts, or
says in one sentence what is wrong with it; `Batcher` scores the texts of requests
that arrive together in one call of the model, as TensorFlow Serving's batching does;
`CheckedRequests` and `AnsweredAtShutdown` are the ASGI middleware around every request.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from common.cli import json_text
from common.texts import text_problem

import numpy as np
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse

LOG = logging.getLogger("uvicorn.error")  # where uvicorn says what goes wrong
# A body over the limit is still read, and thrown away, up to this much more: a client
# that sends all of its body before it reads (Python's urllib and requests do) then
# reads the 413 and its sentence, not a connection reset.
DISCARD_BYTES = 64 * 2**20
MAX_HEAD_BYTES = 64 * 2**10  # a request's line and headers; uvicorn refuses a longer one (400)


class RequestError(Exception):
    """A request the server refuses: the HTTP status, and one sentence for {"error": ...}."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class JSON(JSONResponse):
    """Starlette's JSON answer, with a lone surrogate in a text (a request may hold one,
    "\\ud800") sent escaped, as it came, instead of failing to encode."""

    def render(self, content: object) -> bytes:
        return json_text(content, compact=True).encode("utf-8")


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSON:
    """The answer to a refused request: its status and {"error": "one sentence."}."""
    return JSON({"error": message}, status, dict(headers or {}))


def allowed_hosts(bound: str, extra: Collection[str] = ()) -> frozenset[str]:
    """The names a request's Host may give: localhost, the address listened on if it is a
    name, this machine's own name when listening beyond it, and `extra` (--allow-host).
    Any IP address is accepted besides: no DNS answer can make a page from elsewhere
    send one. "*" accepts every name."""
    names = {"localhost", *(name.lower().rstrip(".") for name in extra)}
    if not _is_ip(bound):
        names.add(bound.lower().rstrip("."))
    if bound in ("0.0.0.0", "::", ""):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(names)


def check_origin(headers: Mapping[str, str], hosts: frozenset[str]) -> None:
    """Refuse (403) a request whose Host is a name this server is not known by (a page
    that rebound its own name to this address), or that a page of another origin sent."""
    host = headers.get("host")
    if host is not None and not _known(host, hosts):
        shown = host[:80].encode("ascii", "replace").decode()
        raise RequestError(
            403,
            f"this server does not answer to the name {shown!r}: use localhost or its "
            "address, or start it with --allow-host NAME.",
        )
    origin = headers.get("origin")
    scheme, _, where = (origin or "").lower().partition("://")  # https: behind a TLS proxy
    if origin is not None and (scheme not in ("http", "https") or where != (host or "").lower()):
        shown = origin[:80].encode("ascii", "replace").decode()
        raise RequestError(
            403,
            f"requests from the page of another origin ({shown}) are refused: only this "
            "server's own page may call it from a browser.",
        )


@functools.lru_cache(maxsize=1024)  # every request names the server: decided once a name
def _known(host: str, hosts: frozenset[str]) -> bool:
    name = _host_name(host)
    return name is not None and (_is_ip(name) or name in hosts or "*" in hosts)


class CheckedRequests:
    """ASGI middleware: every request passes `check_origin` before any route sees it, so
    that no answer (a 404, a 405 included) tells a page from elsewhere anything; and an
    HTTP/1.1 request without a Host is a 400, as HTTP/1.1 requires (HTTP/1.0 has none)."""

    def __init__(self, app: Callable, hosts: frozenset[str]) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            try:
                if scope.get("http_version") == "1.1" and "host" not in headers:
                    raise RequestError(400, "an HTTP/1.1 request must give its Host header.")
                check_origin(headers, self.hosts)
            except RequestError as err:
                await error(err.status, err.message, err.headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class AnsweredAtShutdown:
    """ASGI middleware: a request still running when shutdown's grace is over, which
    uvicorn cancels, is answered 503 and one sentence (uvicorn would log a traceback and
    answer 500)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        started = False

        async def sending(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if started or scope["type"] != "http":
                raise
            stopping = error(503, "the server stopped before this request was done: send it "
                             "again once it is back.", {"Connection": "close"})  # fmt: skip
            await stopping(scope, receive, send)


def check_json(headers: Mapping[str, str]) -> None:
    """Refuse (415) a body that says it is not JSON. No Content-Type, and the form type
    that `curl -d` sends as TensorFlow Serving's own examples use it, are taken as JSON;
    the types a page of another origin may send without asking (text/plain, forms of
    files) are not."""
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("", "application/json", "application/x-www-form-urlencoded"):
        shown = kind[:60].encode("ascii", "replace").decode()
        raise RequestError(
            415, f"the body must be JSON (Content-Type: application/json), not {shown}."
        )


def _host_name(host: str) -> str | None:
    """The name in a Host header, without its port ("[::1]:8501" -> "::1"); None if bad."""
    if host.startswith("["):  # an IPv6 address: [::1], [::1]:8501
        name, bracket, port = host[1:].partition("]")
        if not bracket or not _is_ip(name) or (port and not port[1:].isdigit()):
            return None
        return name
    name, colon, port = host.partition(":")
    if colon and not port.isdigit():
        return None
    return name.lower().rstrip(".") or None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


async def read_body(receive: object, headers: Mapping[str, str], limit: int,
                    timeout: float) -> bytes:  # fmt: skip
    """The request's body, at most `limit` bytes, all of it within `timeout` seconds.

    `receive` is a Starlette request's `stream()`. A body declared or found larger is
    refused (413); what is left of it is read and thrown away first, up to
    DISCARD_BYTES, so that a client still sending reads the answer. A client that
    stops sending halfway is refused (408) and its connection closed, so it holds
    nothing but a socket meanwhile; one that goes away is `ClientGone`.
    """
    declared = headers.get("content-length", "")
    over = declared.isdigit() and int(declared) > limit
    refused = RequestError(413, f"the body is over the limit of {limit:,} bytes.")
    if over and int(declared) > limit + DISCARD_BYTES:
        raise refused  # not worth reading: the connection is closed
    body, read = bytearray(), 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in receive:
                read += len(chunk)
                if read > limit + DISCARD_BYTES:
                    raise refused
                if read > limit:
                    over, body = True, bytearray()
                elif not over:
                    body += chunk
    except TimeoutError:
        raise (
            refused
            if over
            else RequestError(408, f"the body did not arrive within {timeout:g} seconds.")
        ) from None
    except ClientDisconnect:
        raise ClientGone(499, "the client went away before its body arrived.") from None
    if over:
        raise refused
    return bytes(body)


class ClientGone(RequestError):
    """The client closed its connection before its request was whole: no one to answer."""


def texts_of(body: bytes, limit: int) -> tuple[list[str], str, float | None]:
    """The texts of a TensorFlow Serving request, the key its answer goes under, and its
    "min_confidence" beside them (a probability; None if it has none).

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
    threshold = request.get("min_confidence")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(
            threshold, int | float) or not 0 <= threshold <= 1):  # fmt: skip
        shown = repr(threshold)[:40] if isinstance(threshold, int | float) and not isinstance(
            threshold, bool) else _kind(threshold)  # fmt: skip
        raise RequestError(400, f'"min_confidence" must be a probability from 0 to 1, not {shown}.')
    return texts, answer, None if threshold is None else float(threshold)


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
        self._running, self._lock = 0, threading.Lock()  # calls submitted and not yet done
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
        return await self._in_model_thread(work)

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
                outputs = await self._in_model_thread(self.score, texts)
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

    async def _in_model_thread(self, work: Callable, *args: object) -> object:
        with self._lock:
            self._running += 1
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._counted,
                                                                work, *args)  # fmt: skip

    def _counted(self, work: Callable, *args: object) -> object:
        try:
            return work(*args)
        finally:
            with self._lock:
                self._running -= 1

    @property
    def busy(self) -> bool:
        """Whether the model's thread is still at work (an explanation SIGTERM cut short)."""
        return self._running > 0

    def close(self) -> None:
        """Stop taking batches, without waiting for a call in progress: nobody waits for it."""
        if self._task is not None:
            self._task.cancel()
        self._thread.shutdown(wait=False, cancel_futures=True)
