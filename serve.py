"""Serve a trained model over HTTP: TensorFlow Serving's REST API, and a page to try it on.

    python serve.py --model cnn
    # then open http://127.0.0.1:8501/ and type a review

    curl -d '{"instances": ["not bad at all", "a waste of two hours"]}' \\
        http://127.0.0.1:8501/v1/models/cnn:predict
    {"predictions":[P1,P2]}            # the probability that each text is positive

The requests and answers are TensorFlow Serving's, so that a client written for it
works unchanged here, and the model's export (saved_model.pb, in the same folder)
can move to TensorFlow Serving later:

    POST /v1/models/NAME:predict   {"instances": [texts]} -> {"predictions": [...]}, or
                                   {"inputs": [texts]} -> {"outputs": [...]}: P(positive)
                                   per text; with more than two labels, one per label
    GET  /v1/models/NAME           the model's status, labels and input length
    POST /v1/models/NAME:explain   each word's contribution, as predict.py --explain
                                   --format json gives it: {"explanations": [...]}
    GET  /                         the page: type a review, see the label and the words

NAME is the model's folder name (cnn), or --model-name. Requests that arrive together
are scored in one call of the model, as TensorFlow Serving's batching does
(common/serving.py). The version served is held for as long as it is served: training
runs meanwhile add newer versions but never remove it; restart serve.py to serve the
newest. A bad request gets its HTTP status and {"error": "one sentence"}; the server
goes on. Only this server's own page may call it from a browser, under a name it
knows (localhost, an address; --allow-host adds more). Ctrl-C or SIGTERM: it stops
taking connections, finishes the requests in progress (3 s at most) and exits.
docs/serving.md has more.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import re
import signal
import socket
import sys
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING

import common
from common.page import page_html
from common.serving import (
    JSON,
    LOG,
    MAX_HEAD_BYTES,
    AnsweredAtShutdown,
    Batcher,
    CheckedRequests,
    ClientGone,
    RequestError,
    allowed_hosts,
    check_json,
    error,
    read_body,
    texts_of,
)

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    import keras  # loaded with the model, after the flags

MAX_BODY_BYTES = 4 * 2**20  # a request's body: 4 MiB holds a thousand long reviews
MAX_INSTANCES = 1_000  # texts per :predict request
MAX_EXPLAIN = 16  # texts per :explain request: each costs one model input per word
BODY_TIMEOUT = 10.0  # seconds for a request's body to arrive whole
MAX_CONNECTIONS = 1_000  # open at once; more are answered 503 at once
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# What follows the model's name: "", ":predict", "/versions/3", "/versions/3:explain". The
# name is matched as the server knows it, so that it may hold a colon itself (t10:00).
AFTER_NAME = re.compile(r"(?:/versions/(?P<version>[^/:]+))?(?::(?P<verb>[^/]*))?")
MAX_NAME = 200  # characters in a model's name


def make_app(
    model: keras.Model,
    encoding: common.saving.TextEncoding,
    files: common.saving.ModelFiles,
    *,
    name: str | None = None,
    hosts: frozenset[str] | None = None,
    max_body: int = MAX_BODY_BYTES,
    max_instances: int = MAX_INSTANCES,
    body_timeout: float = BODY_TIMEOUT,
    min_confidence: float | None = None,
) -> Starlette:
    """The server's routes around one loaded model, served as `name` (default: its folder's)
    to requests whose Host is one of `hosts` (default: those of a loopback address);
    `min_confidence`: the threshold below which a text is left unanswered, where a
    request gives none."""
    labels = encoding.labels
    name = name or files.name
    hosts = allowed_hosts("127.0.0.1") if hosts is None else hosts
    version = files.folder.name if common.files.is_version_name(files.folder.name) else "1"
    batcher = Batcher(lambda texts: common.scoring.score_texts(model, encoding, texts),
                      max_texts=common.texts.BATCH_SIZE)  # fmt: skip

    def status() -> dict:
        return {
            "model_version_status": [  # TensorFlow Serving's answer, then what it lacks
                {
                    "version": version,
                    "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""},
                }
            ],
            "name": name,
            "learned_from": encoding.learned_from,  # IMDB, or your own data's file name
            "labels": labels,
            "output": "P(positive) per text" if len(labels) == 2 else "P(label) per label",
            "positive_label": labels[1] if len(labels) == 2 else None,
            "min_confidence": min_confidence,  # below it a text is left unanswered
            "maxlen": encoding.maxlen,
            "num_words": encoding.num_words,
            "batching": {"model_calls": batcher.calls, "texts": batcher.texts},
        }

    async def models(request: Request) -> Response:
        rest = request.path_params["rest"]
        match = AFTER_NAME.fullmatch(rest[len(name) :]) if rest.startswith(name) else None
        if not match or match["version"] not in (None, version):
            raise RequestError(
                404,
                f"there is no such model here: this server serves /v1/models/{shown_name} "
                f"(version {version}).",
            )
        verb = match["verb"]
        if verb not in (None, "predict", "explain"):
            raise RequestError(404, f"there is no :{verb[:40]}; there are :predict and :explain.")
        wanted = "GET" if verb is None else "POST"
        if request.method not in (wanted, "HEAD" if wanted == "GET" else wanted):
            allowed = "GET, HEAD" if wanted == "GET" else "POST"
            raise RequestError(405, f"{request.url.path[:80]} takes {wanted}, not "
                               f"{request.method[:20]}.", {"Allow": allowed})  # fmt: skip
        if verb is None:
            return JSON(status())
        check_json(request.headers)
        body = await read_body(request.stream(), request.headers, max_body, body_timeout)
        texts, key, threshold = texts_of(body, max_instances if verb == "predict" else MAX_EXPLAIN)
        threshold = min_confidence if threshold is None else threshold  # the request's first
        if verb == "predict":
            outputs = await batcher.submit(texts)
            answer = {key: (outputs[:, 0] if len(labels) == 2 else outputs).tolist()}
            if threshold is not None:  # beside TensorFlow Serving's answer, which it keeps
                top = common.scoring.probabilities(outputs).max(axis=-1)
                answer["abstained"] = (top < threshold).tolist()
            return JSON(answer)
        explained = await batcher.run_alone(
            lambda: common.scoring.explained_records(model, encoding, texts)
        )
        if threshold is not None:
            common.scoring.abstain(explained, threshold)
        return JSON({"explanations": explained})

    shown_name = common.cli.printable(name)
    page = page_html(name)  # web/page.html, which asks this server

    async def index(request: Request) -> Response:
        # Nothing from elsewhere: the page must work offline, and no script it did not
        # bring can run in it.
        policy = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                  "connect-src 'self'; img-src data:")  # fmt: skip
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})

    async def refused(request: Request, err: Exception) -> Response:
        if isinstance(err, ClientGone):  # nobody to answer: one line in the log
            client = f"{request.client.host}:{request.client.port}" if request.client else "?"
            LOG.warning("A client (%s) went away before its request's body arrived.", client)
        if isinstance(err, RequestError):
            return error(err.status, err.message, err.headers)
        path = common.cli.printable(request.url.path[:80])
        if isinstance(err, HTTPException) and err.status_code == 405:  # "/" takes GET only
            return error(405, f"{path} takes GET, not {request.method[:20]}.",
                         {"Allow": "GET, HEAD"})  # fmt: skip
        if isinstance(err, HTTPException):  # a path that is not here
            where = f"/v1/models/{shown_name} (:predict, :explain), its page at /"
            return error(err.status_code, f"there is nothing at {path}; the model is at {where}.")
        # A fault of ours: uvicorn logs it; the client gets one sentence, and the server goes on.
        return error(500, "the server failed on this request.")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        batcher.close()

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            # Every method: `models` answers a wrong one with what the endpoint takes.
            Route("/v1/models/{rest:path}", models, methods=METHODS),
        ],
        # Every request, whatever its path, passes the Host and Origin checks first; one
        # cut short by the end of shutdown's grace is told so.
        middleware=[Middleware(AnsweredAtShutdown), Middleware(CheckedRequests, hosts=hosts)],
        exception_handlers={RequestError: refused, HTTPException: refused, Exception: refused},
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    return app


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or one sentence on why it cannot be (port 0: any free)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP by name: asyncio then sets TCP_NODELAY on each connection (it checks
        # the protocol), without which an answer waits 40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # from now on connections wait in line, until the server takes them
    except (OSError, OverflowError) as err:
        reason = getattr(err, "strerror", None) or err
        raise common.UserError(f"cannot listen on {host}:{port}: {reason}.") from None
    return sock


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common.cli.add_model_flags(parser)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default: 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=common.cli.non_negative_int,
        default=8501,
        help="the port; TensorFlow Serving's REST port is 8501 (default: 8501; "
        "0: any free port, printed)",
    )
    parser.add_argument(
        "--model-name",
        metavar="NAME",
        help="the name in the URL, /v1/models/NAME (TensorFlow Serving's --model_name; "
        "default: the model's folder name, e.g. cnn)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests that name this server NAME in their Host header (a "
        "proxy's name, this machine's name on a network; '*': any); localhost and IP "
        "addresses always are. Repeat for more",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=common.cli.positive_int,
        default=MAX_BODY_BYTES,
        metavar="N",
        help=f"a larger request body is refused with 413 (default: {MAX_BODY_BYTES:,})",
    )
    parser.add_argument(
        "--max-instances",
        type=common.cli.positive_int,
        default=MAX_INSTANCES,
        metavar="N",
        help=f"texts per request at most (default: {MAX_INSTANCES:,})",
    )
    parser.add_argument(
        "--max-connections",
        type=common.cli.positive_int,
        default=MAX_CONNECTIONS,
        metavar="N",
        help=f"connections open at once; a request on one more is answered 503 "
        f"(default: {MAX_CONNECTIONS:,})",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=BODY_TIMEOUT,
        metavar="SECONDS",
        help="a body that has not arrived whole by then is refused with 408 "
        f"(default: {BODY_TIMEOUT:g})",
    )
    parser.add_argument(
        "--min-confidence", type=common.cli.probability, metavar="P",
        help='leave a text unanswered when its top probability is below P, where a request '
        'gives no "min_confidence" of its own: "abstained" beside the predictions, label '
        "null in an explanation (docs/trust.md)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 0 < args.body_timeout <= 3600:
        parser.error("--body-timeout must be above 0 and at most 3600 seconds")
    if args.port > 65535:
        parser.error(f"--port must be at most 65535, got {args.port}")
    if args.model_name is not None and (problem := name_problem(args.model_name)):
        parser.error(f"--model-name {problem}")

    sock = listen(args.host, args.port)  # before the model loads: a port in use costs nothing
    host, port = sock.getsockname()[:2]
    if not is_loopback(host):  # the address bound: 127.1 and localhost are loopback
        print(
            f"warning: listening on {args.host}: anyone who can reach this machine can use "
            "the model; there is no authentication.",
            file=sys.stderr,
        )
    files = common.find_model(args.model, args.models_dir)
    name = args.model_name or files.name
    if problem := name_problem(name):  # the folder's name: --model-name was checked above
        raise common.UserError(
            f"the model's folder name {common.cli.printable(name)!r} {problem}: "
            "serve it under another with --model-name NAME."
        )
    # Held for as long as it is served: training runs meanwhile never remove it.
    with common.saving.held_model(files) as (model, encoding, files):
        common.scoring.score_texts(model, encoding, ["warm up"] * 2)  # the first call traces
        common.scoring.score_texts(model, encoding, ["warm up"])  # the model: no client waits
        app = make_app(
            model,
            encoding,
            files,
            name=name,
            hosts=allowed_hosts(args.host, args.allow_host),
            max_body=args.max_body_bytes,
            max_instances=args.max_instances,
            body_timeout=args.body_timeout,
            min_confidence=common.scoring.confidence_threshold(args.min_confidence, encoding),
        )
        root = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        path = urllib.parse.quote(f"/v1/models/{name}", safe="/:@!$&'()*+,;=")
        print(
            f"Serving {common.cli.printable(name)} ({common.cli.printable(str(files.folder))}, "
            f"learned from {common.saving.describe(encoding)}) at {root}/ and "
            f"{root}{path}:predict; Ctrl-C stops.",
            flush=True,
        )
        config = uvicorn.Config(
            app,
            http="h11",  # the parser whose request line and headers uvicorn can bound:
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,  # a longer head is a 400
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # no X-Forwarded-For to trust: one layer less per request
            limit_concurrency=args.max_connections,
            timeout_graceful_shutdown=3,  # requests in progress get 3 s to finish
        )
        # uvicorn stops on Ctrl-C and SIGTERM, then raises the signal again for the handler
        # it found; stopping so is how serve.py ends, so that handler does nothing (exit 0).
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, lambda signum, frame: None)
        uvicorn.Server(config).run(sockets=[sock])
        print("Stopped.", file=sys.stderr, flush=True)
        if app.state.batcher.busy:  # an explanation cut short: its thread would hold the exit
            sys.stdout.flush()
            os._exit(0)


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a model in a URL (as the end of a sentence), or None."""
    if not name or len(name) > MAX_NAME:
        return f"must be 1 to {MAX_NAME} characters long"
    if "/" in name or not name.isprintable():
        return "may not hold a slash or a control character"
    return None


if __name__ == "__main__":
    common.run(main)
