"""serve.py: TensorFlow Serving's requests against predict.py's figures, bad requests,
many clients at once, a stalled client, shutdown, and the page in a real browser."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import common
from common.serving import Batcher

import numpy as np
import pytest
from conftest import ONE_THREAD, ROOT, chromium_page, needs_chromium

TEXTS = ["great wonderful film", "awful boring plot, the worst", "The camera loved the actor!"]
SERVING = re.compile(r"at http://[^ ]+:(\d+)/ ")


class Server:
    """serve.py in its own process, on a free port, with its standard error in a file."""

    def __init__(self, model: Path, log: Path, *args: str) -> None:
        self.log = log
        env = {**os.environ, **ONE_THREAD}
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "serve.py"), "--model", str(model), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=log.open("w"), stdin=subprocess.DEVNULL,
            text=True, cwd=ROOT, env=env,
        )  # fmt: skip
        line = self.banner = self.process.stdout.readline()  # printed once the model is loaded
        found = SERVING.search(line)
        assert found, f"serve.py did not start: {line!r}\n{log.read_text()[-3000:]}"
        self.port = int(found[1])

    def request(
        self, method: str, path: str, body: bytes | str | dict | None = None, **headers: str
    ) -> tuple[int, dict, dict]:
        """(status, JSON answer, headers) of one request on a connection of its own."""
        if isinstance(body, dict):
            body = json.dumps(body)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read()), dict(response.getheaders())
        finally:
            connection.close()

    def predict(self, texts: list[str], name: str = "cnn") -> list:
        status, answer, _ = self.request("POST", f"/v1/models/{name}:predict", {"instances": texts})
        assert status == 200, answer
        return answer["predictions"]

    def memory_kib(self) -> int:
        """The server's resident memory now."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1])

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        finally:
            self.process.kill()


@pytest.fixture(scope="module")
def server(trained: Path, tmp_path_factory: pytest.TempPathFactory):
    """One server for the module, with small limits so that the tests can reach them."""
    log = tmp_path_factory.mktemp("serve") / "stderr.txt"
    running = Server(trained, log, "--max-body-bytes", "65536", "--max-instances", "50",
                     "--body-timeout", "1")  # fmt: skip
    yield running
    assert running.stop() == 0, log.read_text()[-3000:]  # stopped by the last test, or now


@pytest.fixture(scope="module")
def predicted(trained: Path) -> list[dict]:
    """predict.py --explain --format json on TEXTS: the figures the server must give. In
    this process: a fresh one would spend seconds starting TensorFlow."""
    import predict

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        predict.main(["--model", str(trained), "--explain", "--format", "json", *TEXTS])
    return [json.loads(line) for line in printed.getvalue().splitlines()]


def test_predictions_match_predict_py(server: Server, predicted: list[dict]) -> None:
    expected = [record["probability_positive"] for record in predicted]
    np.testing.assert_allclose(server.predict(TEXTS), expected, rtol=0, atol=1e-6)
    # The columnar form, the input named, and a version in the path: the same figures.
    status, answer, _ = server.request(
        "POST", "/v1/models/cnn/versions/1:predict", {"inputs": {"texts": TEXTS}}
    )
    assert status == 200
    np.testing.assert_allclose(answer["outputs"], expected, rtol=0, atol=1e-6)
    rows = {"signature_name": "serving_default", "instances": [{"texts": t} for t in TEXTS]}
    status, answer, _ = server.request("POST", "/v1/models/cnn:predict", rows)
    np.testing.assert_allclose(answer["predictions"], expected, rtol=0, atol=1e-6)


def test_explanations_match_predict_py(server: Server, predicted: list[dict]) -> None:
    status, answer, _ = server.request("POST", "/v1/models/cnn:explain", {"instances": TEXTS})
    assert status == 200, answer
    for got, wanted in zip(answer["explanations"], predicted, strict=True):
        assert (got["label"], got["explains"], got["text"]) == (
            wanted["label"], wanted["explains"], wanted["text"]
        )  # fmt: skip
        assert [w for w, _ in got["words"]] == [w for w, _ in wanted["words"]]
        np.testing.assert_allclose([v for _, v in got["words"]], [v for _, v in wanted["words"]],
                                   rtol=0, atol=1e-6)  # fmt: skip


def test_status_and_metadata(server: Server, trained: Path) -> None:
    status, answer, _ = server.request("GET", "/v1/models/cnn")
    assert status == 200
    assert answer["model_version_status"][0]["state"] == "AVAILABLE"
    encoding = json.loads((trained / "encoding.json").read_text())
    assert answer["labels"] == ["negative", "positive"] and answer["maxlen"] == encoding["maxlen"]
    # Nothing that tells a client where the model lies on this machine.
    assert not [v for v in answer.values() if isinstance(v, str) and str(trained.parent) in v]
    assert "path" not in answer


BAD_REQUESTS = [  # method, path, body, status, a piece of the one sentence
    ("POST", "/v1/models/cnn:predict", "{not json", 400, "not JSON"),
    ("POST", "/v1/models/cnn:predict", "[1, 2]", 400, "must be a JSON object"),
    ("POST", "/v1/models/cnn:predict", "{}", 400, 'no "instances"'),
    ("POST", "/v1/models/cnn:predict", '{"instances": []}', 400, "is empty"),
    ("POST", "/v1/models/cnn:predict", '{"instances": "a film"}', 400, "must be a list"),
    ("POST", "/v1/models/cnn:predict", '{"instances": ["good", 7]}', 400, "[1] is a number"),
    ("POST", "/v1/models/cnn:predict", '{"instances": [["good"]]}', 400, "[0] is a list"),
    ("POST", "/v1/models/cnn:predict", '{"instances": [null]}', 400, "[0] is null"),
    ("POST", "/v1/models/cnn:predict", '{"instances": ["?!"]}', 400, "no words the model"),
    ("POST", "/v1/models/cnn:predict", '{"instances": ["a"], "inputs": ["b"]}', 400, "not both"),
    ("POST", "/v1/models/cnn:predict", '{"instances": ["a"], "signature_name": "x"}', 400,
     "no signature"),
    ("POST", "/v1/models/cnn:predict", "[" * 60_000, 400, "nested too deep"),
    ("POST", "/v1/models/cnn:predict", json.dumps({"instances": ["good"] * 51}), 400,
     "at most 50"),
    ("POST", "/v1/models/cnn:explain", json.dumps({"instances": ["good"] * 17}), 400,
     "at most 16"),
    ("POST", "/v1/models/cnn:predict", b'{"instances": ["\xff"]}', 400, "not UTF-8"),
    ("POST", "/v1/models/cnn:predict", "x" * 70_000, 413, "over the limit of 65,536"),
    ("POST", "/v1/models/bert:predict", '{"instances": ["good"]}', 404, "no such model"),
    ("POST", "/v1/models/cnn/versions/9:predict", '{"instances": ["good"]}', 404,
     "no such model"),
    ("POST", "/v1/models/cnn:classify", '{"instances": ["good"]}', 404, "there is no :classify"),
    ("GET", "/v1/models/cnn:predict", None, 405, "takes POST"),
    ("PUT", "/v1/models/cnn", "{}", 405, "takes GET"),
    ("POST", "/", "{}", 405, "takes GET"),
    ("GET", "/favicon.ico", None, 404, "nothing at /favicon.ico"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "expected"), BAD_REQUESTS,
                         ids=[f"{r[3]}-{r[4]}" for r in BAD_REQUESTS])  # fmt: skip
def test_bad_requests_get_their_status_and_one_sentence(
    server: Server, method: str, path: str, body, status: int, expected: str
) -> None:
    got, answer, headers = server.request(method, path, body)
    assert got == status and list(answer) == ["error"], answer
    assert expected in answer["error"] and answer["error"].endswith("."), answer
    if status == 405:
        assert headers["allow"] in ("POST", "GET, HEAD")
    assert server.predict(["good film"]) == server.predict(["good film"])  # and it goes on


def test_a_lone_surrogate_is_explained_as_it_is_predicted(server: Server) -> None:
    """JSON may carry half a surrogate pair ("\\ud800"): both verbs answer, and the text
    comes back escaped as it came."""
    body = '{"instances": ["good film \\ud800"]}'
    status, answer, _ = server.request("POST", "/v1/models/cnn:predict", body)
    assert status == 200, answer
    status, answer, _ = server.request("POST", "/v1/models/cnn:explain", body)
    assert status == 200, answer
    assert answer["explanations"][0]["text"] == "good film \ud800"
    assert "Traceback" not in server.log.read_text()


def test_a_python_client_sending_too_much_reads_the_413(server: Server) -> None:
    """urllib sends its whole body before it reads: the rest is read and thrown away, so
    that it reads the answer instead of a connection reset."""
    import urllib.error
    import urllib.request

    for length in (8 * 2**20, None):  # declared, and chunked (no length)
        body = b"x" * 8 * 2**20
        data = body if length else iter([body[i : i + 2**16] for i in range(0, len(body), 2**16)])
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/v1/models/cnn:predict",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 413
        assert "over the limit of 65,536 bytes" in json.loads(refused.value.read())["error"]
    assert server.predict(["good film"])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "evil.example"}, 403),  # a page that rebound its own name to 127.0.0.1
        ({"Host": "evil.example:8501"}, 403),
        ({"Host": "localhost"}, 200),
        ({"Host": "127.0.0.1:8501"}, 200),
        ({"Host": "[::1]:8501"}, 200),
        ({"Host": "localhost", "Origin": "http://evil.example"}, 403),
        ({"Host": "localhost", "Origin": "null"}, 403),  # a sandboxed or file:// page
        ({"Host": "localhost:8501", "Origin": "http://localhost:8501"}, 200),  # its own page
        ({"Host": "localhost", "Origin": "https://localhost"}, 200),  # behind a TLS proxy
        ({"Host": "localhost", "Origin": "https://localhost.evil.example"}, 403),
        ({"Content-Type": "text/plain"}, 415),  # what a page elsewhere may post unasked
        ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
        ({"Content-Type": "application/json; charset=utf-8"}, 200),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 200),  # curl -d
    ],
)
def test_only_its_own_names_and_its_own_page_are_answered(
    server: Server, headers: dict, status: int
) -> None:
    for method, path in (("POST", "/v1/models/cnn:predict"), ("GET", "/v1/models/cnn")):
        if method == "GET" and "Content-Type" in headers:
            continue
        got, answer, _ = server.request(method, path, {"instances": ["good"]}
                                        if method == "POST" else None, **headers)  # fmt: skip
        assert got == status, answer
        if status != 200:
            assert list(answer) == ["error"] and answer["error"].endswith("."), answer
    if "Origin" not in headers and "Content-Type" not in headers:  # the page: the same rule
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", "/", headers=headers)
        assert connection.getresponse().status == status
        connection.close()


def test_no_answer_skips_the_host_check(server: Server) -> None:
    """A page that rebound its name learns nothing: not the model's name from a 404."""
    for method, path in (("GET", "/nothing"), ("DELETE", "/"), ("GET", "/v1/models/other"),
                         ("POST", "/v1/models/cnn:nothing")):  # fmt: skip
        got, answer, _ = server.request(method, path, Host="evil.example")
        assert got == 403 and "does not answer to the name" in answer["error"], answer
        assert "cnn" not in answer["error"]


def test_http_1_1_without_a_host_is_refused_and_http_1_0_is_answered(server: Server) -> None:
    for line, status in ((b"GET /v1/models/cnn HTTP/1.1", b" 400 "),
                         (b"GET /v1/models/cnn HTTP/1.0", b" 200 ")):  # fmt: skip
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
            connection.sendall(line + b"\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        assert status in answer.split(b"\r\n", 1)[0], answer[:300]


def test_what_uvicorn_refuses_itself_is_a_400_and_a_closed_connection(server: Server) -> None:
    """What uvicorn refuses before the server sees it, in its own words: a request that is
    not HTTP, and a request line and headers that go on past their 64 KiB (uvicorn's
    `h11_max_incomplete_event_size`: what it holds of a head is bounded). The server goes
    on answering."""
    long_header = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"x" * 80_000
    endless = [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"] + [
        b"X-More: " + b"x" * 1000 + b"\r\n"
    ] * 100
    for parts in ([b"NOT HTTP AT ALL\r\n\r\n"], [long_header[:40_000], long_header[40_000:]],
                  [b"".join(endless)]):  # fmt: skip
        with raw_connection(server.port) as sock:
            for part in parts:
                sock.sendall(part)
                time.sleep(0.1)
            answer = b""
            while chunk := sock.recv(65536):  # until the server closes the connection
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    # A head just under the bound is read and answered.
    with raw_connection(server.port) as sock:
        padding = b"x" * 60_000
        sock.sendall(b"GET /v1/models/cnn HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + padding
                     + b"\r\nConnection: close\r\n\r\n")  # fmt: skip
        assert read_answer(sock).startswith("HTTP/1.1 200")
    assert server.predict(["good film"])


def test_a_client_that_goes_away_mid_body_is_one_line_in_the_log(server: Server) -> None:
    before = server.log.read_text().count("\n")
    with raw_connection(server.port) as sock:
        sock.sendall(b"POST /v1/models/cnn:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Length: 500\r\n\r\n{\"inst")  # fmt: skip
        time.sleep(0.2)
    for _ in range(50):  # the server notices at once
        time.sleep(0.1)
        added = server.log.read_text().splitlines()[before:]
        if added:
            break
    assert len(added) == 1 and "went away" in added[0], added
    assert server.predict(["good film"])


def raw_connection(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def read_answer(sock: socket.socket) -> str:
    """One HTTP response, read off a raw socket: its headers and its body of Content-Length."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536) or b"\r\n\r\n"
    head, body = answer.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE)[1])
    while len(body) < length:
        body += sock.recv(65536)
    return (head + b"\r\n\r\n" + body).decode()


def test_a_body_larger_than_declared_or_without_length_is_cut_off(server: Server) -> None:
    """A chunked body has no length to refuse it by: it is counted as it arrives."""
    with raw_connection(server.port) as sock:
        sock.sendall(b"POST /v1/models/cnn:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
        for _ in range(100):  # 100 chunks of 1 KiB: more than the 64 KiB allowed
            sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
        answer = read_answer(sock)
    assert answer.startswith("HTTP/1.1 413") and "over the limit" in answer


def test_a_stalled_client_times_out_while_others_are_served(server: Server) -> None:
    with raw_connection(server.port) as stalled:
        stalled.sendall(b"POST /v1/models/cnn:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Content-Length: 1000\r\n\r\n" + b'{"instances": ["go')  # fmt: skip
        started = time.monotonic()
        for _ in range(5):  # served meanwhile, each at once
            server.predict(TEXTS)
        assert time.monotonic() - started < 1.0  # the stalled one has 1 s (--body-timeout 1)
        answer = read_answer(stalled)  # it is told, then its connection closes
        assert time.monotonic() - started < 5
    assert answer.startswith("HTTP/1.1 408") and "did not arrive within 1 seconds" in answer


def test_connections_dropped_and_bad_requests_leave_memory_flat(server: Server) -> None:
    def abuse() -> None:
        for i in range(300):
            sock = raw_connection(server.port)
            if i % 3 == 1:  # half a request line
                sock.sendall(b"POST /v1/models/cnn:pre")
            elif i % 3 == 2:  # headers, then gone before the body
                sock.sendall(b"POST /v1/models/cnn:predict HTTP/1.1\r\nContent-Length: 50\r\n"
                             b"\r\n{")  # fmt: skip
            sock.close()
        for body in ("{", '{"instances": [1]}', "x" * 70_000):
            for _ in range(30):
                server.request("POST", "/v1/models/cnn:predict", body)

    abuse()  # once, so that whatever is allocated once is
    before = server.memory_kib()
    abuse()
    abuse()
    assert server.memory_kib() - before < 20 * 1024  # KiB: flat, not 2 x 600 connections' worth
    np.testing.assert_allclose(server.predict(TEXTS), server.predict(TEXTS), atol=1e-6)


def test_many_clients_at_once_get_the_answers_of_one_at_a_time(server: Server) -> None:
    texts = [f"{a} {b} film" for a in ("good", "bad", "dull", "great") for b in ("plot", "cast")]
    alone = [server.predict([text])[0] for text in texts]
    with ThreadPoolExecutor(32) as clients:
        together = list(clients.map(lambda i: server.predict([texts[i % len(texts)]])[0],
                                    range(256)))  # fmt: skip
    np.testing.assert_allclose(together, [alone[i % len(texts)] for i in range(256)], atol=1e-6)
    _, status, _ = server.request("GET", "/v1/models/cnn")
    assert status["batching"]["model_calls"] < status["batching"]["texts"]  # batches formed


def test_requests_that_wait_together_are_scored_in_one_call() -> None:
    """The Batcher alone: while the model scores one batch, the requests that come in
    wait, and the next call takes them all, up to its limit."""
    calls, gate = [], threading.Event()

    def score(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        gate.wait(5)  # the first call holds the model while the others arrive
        return np.array([[len(t)] for t in texts], dtype=np.float32)

    async def clients() -> list:
        batcher = Batcher(score, max_texts=4)
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await asyncio.sleep(0.05)  # the first call is under way
        others = [asyncio.ensure_future(batcher.submit(["b" * n] * 2)) for n in range(1, 4)]
        await asyncio.sleep(0.05)
        gate.set()
        answers = await asyncio.gather(first, *others)
        batcher.close()
        return answers

    answers = asyncio.run(clients())
    assert calls == [["a"], ["b", "b", "bb", "bb"], ["bbb", "bbb"]]  # 4 at most; in order
    assert [a[:, 0].tolist() for a in answers] == [[1], [1, 1], [2, 2], [3, 3]]


def test_a_port_in_use_is_one_sentence() -> None:
    import serve

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(common.UserError, match=r"cannot listen on 127\.0\.0\.1:\d+: "):
            serve.listen("127.0.0.1", taken.getsockname()[1])
    assert serve.is_loopback("127.0.0.1") and serve.is_loopback("::1")
    assert not serve.is_loopback("0.0.0.0") and not serve.is_loopback("example.org")


@pytest.mark.parametrize("host", ["127.1", "localhost", "::1"])
def test_every_spelling_of_loopback_is_not_warned_of(run_here, tmp_path: Path, host: str) -> None:
    """The address bound is what is checked, however it was written."""
    result = run_here("serve.py", "--host", host, "--port", "0", "--model", tmp_path / "none")
    assert result.returncode == 2 and "warning" not in result.stderr, result.stderr


def test_a_model_name_that_cannot_be_in_a_url_is_one_sentence(run_here, tmp_path: Path) -> None:
    for name, expected in (
        ("a/b", "may not hold a slash"),
        ("", "1 to 200 characters"),
        ("x" * 201, "1 to 200 characters"),
        ("tab\there", "control"),
    ):
        result = run_here("serve.py", "--port", "0", "--model-name", name, "--model", tmp_path)
        assert result.returncode == 2 and "--model-name" in result.stderr, result.stderr
        assert expected in result.stderr


def test_listening_beyond_this_machine_is_warned_of(run_here, tmp_path: Path) -> None:
    """Before the model loads (here: there is none), so the warning comes first."""
    result = run_here("serve.py", "--host", "0.0.0.0", "--port", "0", "--model", tmp_path / "none")
    assert result.returncode == 2
    assert result.stderr.startswith("warning: listening on 0.0.0.0: anyone who can reach")


def test_predict_streams_each_line_before_the_next_arrives(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tail -f tweets.txt | python predict.py`: each line is scored when it comes. In this
    process, with standard input and output real pipes, predict.py in a thread."""
    import predict

    into, out = os.pipe(), os.pipe()
    stdin, stdout = open(into[0], encoding="utf-8"), open(out[1], "w", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", stdout)
    failed = []

    def run() -> None:
        try:
            predict.main(["--model", str(trained), "--format", "json"])
        except BaseException as err:  # noqa: BLE001 (reported by the test below)
            failed.append(err)
        finally:
            stdout.close()

    thread = threading.Thread(target=run)
    thread.start()
    with open(into[1], "w", encoding="utf-8") as writer, open(out[0], encoding="utf-8") as reader:
        for text in TEXTS:
            writer.write(text + "\n")
            writer.flush()
            # The answer comes while the pipe stays open: the next line is not written yet.
            assert select.select([reader], [], [], 30)[0], "no answer within 30 s"
            assert json.loads(reader.readline())["text"] == text
        writer.close()
        thread.join(30)
        assert reader.read() == "" and not failed
    stdin.close()


@needs_chromium
def test_the_page_in_a_real_browser(server: Server, predicted, tmp_path: Path) -> None:
    """Type two reviews into the page in headless Chromium: the label each shows is the
    API's, its words are shaded, and nothing but this server was asked for anything."""
    screenshot = Path(os.environ.get("SERVE_SCREENSHOT", tmp_path / "serve.png"))
    with chromium_page(viewport={"width": 900, "height": 700}) as page:
        asked = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(f"http://127.0.0.1:{server.port}/")
        for text in ("not bad at all", "a waste of two hours"):
            page.fill("#text", "")
            page.type("#text", text, delay=20)  # as a person types: one answer at the end
            page.wait_for_function(
                "t => document.querySelector('#result').hidden === false && "
                "[...document.querySelectorAll('#words span')].map(s => s.textContent)"
                ".join(' ') === t", arg=text, timeout=15_000,
            )  # fmt: skip
            (p,) = server.predict([text])
            assert page.text_content("#label") == ("positive" if p >= 0.5 else "negative")
            shades = page.eval_on_selector_all(
                "#words span", "spans => spans.map(s => getComputedStyle(s).backgroundColor)"
            )
            assert len(shades) == len(text.split()) and any(
                not s.endswith(", 0)") for s in shades
            ), shades  # some word is shaded
        page.click("text=I loved every minute of it")
        page.wait_for_function(
            "() => document.querySelector('#words').textContent.includes('loved')"
        )
        page.fill("#text", "")
        page.type("#text", "a waste of two hours", delay=20)
        page.wait_for_function(
            "() => document.querySelector('#words').textContent.includes('waste')"
        )
        page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    port = f"http://127.0.0.1:{server.port}/"
    assert asked and all(url.startswith(port) for url in asked), asked


def test_shutdown_finishes_the_requests_in_flight(server: Server) -> None:
    """SIGTERM: no new connections, the request in progress is answered, exit 0. The
    module's server, so the module's last test."""
    body = json.dumps({"instances": TEXTS}).encode()
    with raw_connection(server.port) as in_flight:
        in_flight.sendall(b"POST /v1/models/cnn:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])  # fmt: skip
        time.sleep(0.3)  # the request has begun
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(OSError):  # the listening socket is closed
            raw_connection(server.port).close()
        in_flight.sendall(body[10:])
        answer = read_answer(in_flight)
    assert answer.startswith("HTTP/1.1 200") and '"predictions"' in answer
    assert server.process.wait(timeout=60) == 0, server.log.read_text()[-3000:]
    assert "Stopped." in server.log.read_text()


@pytest.fixture(scope="module")
def named(trained: Path, tmp_path_factory: pytest.TempPathFactory):
    """A second server: a model folder named with a colon, its own version 1 (a copy),
    at most 3 connections at once, and an hour for a body to arrive."""
    base = tmp_path_factory.mktemp("named") / "t10:00"
    shutil.copytree(trained, base / "1")
    log = base.parent / "stderr.txt"
    running = Server(base, log, "--max-connections", "3", "--body-timeout", "3600")
    running.base = base
    yield running
    running.stop()


def test_a_name_with_a_colon_is_served_at_the_url_it_prints(named: Server) -> None:
    printed = re.search(r"and http://[^/]+(/\S+:predict);", named.banner)[1]
    assert printed == "/v1/models/t10:00:predict"
    status, answer, _ = named.request("POST", printed, {"instances": ["good film"]})
    assert status == 200 and len(answer["predictions"]) == 1, answer
    for path in ("/v1/models/t10:00", "/v1/models/t10:00/versions/1", "/v1/models/t10%3A00"):
        status, answer, _ = named.request("GET", path)
        assert status == 200 and answer["name"] == "t10:00", (path, answer)
    status, answer, _ = named.request("POST", "/v1/models/t10:00/versions/1:explain",
                                      {"instances": ["good film"]})  # fmt: skip
    assert status == 200, answer


def test_the_version_served_is_kept_while_training_runs_add_more(named: Server) -> None:
    """Three trainings into the folder while it is served: none removes version 1, which
    the status still names; a fourth removes the oldest version not served."""
    for n in range(3):
        common.files.write_version(named.base, lambda f, n=n: (f / "model.txt").write_text(str(n)))
    assert common.files.versions(named.base) == [1, 2, 3, 4]
    assert (named.base / "1" / "model.keras").is_file()
    _, answer, _ = named.request("GET", "/v1/models/t10:00")
    assert answer["model_version_status"][0]["version"] == "1"
    common.files.write_version(named.base, lambda f: (f / "model.txt").write_text("4"))
    assert common.files.versions(named.base) == [1, 3, 4, 5]
    assert named.predict(["good film"], name="t10:00")


def test_connections_beyond_the_limit_get_a_503(named: Server) -> None:
    """uvicorn's `limit_concurrency`, in its own words (plain text)."""
    idle = [raw_connection(named.port) for _ in range(3)]
    try:
        time.sleep(0.2)  # each is taken
        with raw_connection(named.port) as sock:
            sock.sendall(b"GET /v1/models/t10:00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_answer(sock).startswith("HTTP/1.1 503")
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.2)
    assert named.predict(["good film"], name="t10:00")


def test_sigterm_during_a_long_request_answers_503_and_exits_at_once(named: Server) -> None:
    """A body still coming in 3 s after SIGTERM (the grace for requests in progress): its
    client is told in one sentence, the log holds no traceback, and the server exits,
    without waiting out the hour the body had to arrive. (How soon is the benchmarks'
    business: the bound here holds on a loaded machine.)"""
    with raw_connection(named.port) as slow:
        slow.sendall(b"POST /v1/models/t10:00:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Length: 100\r\n\r\n{")  # fmt: skip
        time.sleep(0.3)
        named.process.send_signal(signal.SIGTERM)
        answer = read_answer(slow)
    assert answer.startswith("HTTP/1.1 503") and "stopped before this request" in answer
    assert named.process.wait(timeout=120) == 0
    log = named.log.read_text()
    assert "Traceback" not in log and "CancelledError" not in log, log[-3000:]


def test_closing_does_not_wait_for_a_call_in_progress() -> None:
    """An explanation still running at shutdown: closing returns at once, and says the
    model's thread is busy (serve.py then exits without waiting for it)."""
    gate = threading.Event()

    async def run() -> bool:
        batcher = Batcher(lambda texts: np.zeros((len(texts), 1)), max_texts=4)
        asyncio.ensure_future(batcher.run_alone(lambda: gate.wait(10)))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        batcher.close()
        assert time.monotonic() - started < 1
        return batcher.busy

    try:
        assert asyncio.run(run())
    finally:
        gate.set()


@contextlib.contextmanager
def served_in_thread(app) -> Iterator[str]:
    """`app` served by uvicorn in a thread of this process; yields its /v1/models URL."""
    import uvicorn

    import serve

    sock = serve.listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, http="h11"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1/models"
    finally:
        server.should_exit = True
        thread.join(10)


def test_model_name_is_the_name_in_the_url(trained: Path) -> None:
    """`--model-name`, TensorFlow Serving's --model_name: the model answers under it (a
    space and all), and under no other. In a thread of this process."""
    import urllib.error
    import urllib.request

    import serve

    model, encoding = common.load_model(trained)
    app = serve.make_app(model, encoding, common.find_model(str(trained), "."), name="my reviews")
    with served_in_thread(app) as root:
        with urllib.request.urlopen(f"{root}/my%20reviews", timeout=30) as response:
            assert json.load(response)["name"] == "my reviews"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{root}/cnn", timeout=30)
        assert (
            refused.value.code == 404 and "/v1/models/my reviews" in refused.value.read().decode()
        )


def test_min_confidence_leaves_unsure_texts_unanswered(trained: Path) -> None:
    """serve.py --min-confidence 1: every text "abstained" beside TensorFlow Serving's
    predictions (which stay), label null in explanations; a request's own
    "min_confidence" takes its place; one that is not a probability is a 400."""
    import urllib.error
    import urllib.request

    import serve

    model, encoding = common.load_model(trained)
    files = common.find_model(str(trained), ".")
    app = serve.make_app(model, encoding, files, name="cnn", min_confidence=1.0)

    def post(verb: str, body: dict) -> dict:
        request = urllib.request.Request(f"{root}/cnn:{verb}", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    with served_in_thread(app) as root:
        unsure = post("predict", {"instances": TEXTS})
        assert unsure["abstained"] == [True] * len(TEXTS)
        sure = post("predict", {"instances": TEXTS, "min_confidence": 0})
        assert sure["abstained"] == [False] * len(TEXTS)
        assert sure["predictions"] == unsure["predictions"]
        (explained,) = post("explain", {"instances": TEXTS[:1]})["explanations"]
        assert explained["label"] is None and explained["abstained"] is True
        assert len(explained["probabilities"]) == 2
        for given, shown in ((1.5, "1.5"), (2, "2"), ("0.9", "a string"), (True, "true or false")):
            with pytest.raises(urllib.error.HTTPError) as refused:
                post("predict", {"instances": TEXTS, "min_confidence": given})
            said = json.loads(refused.value.read())["error"]
            assert refused.value.code == 400
            assert said == f'"min_confidence" must be a probability from 0 to 1, not {shown}.'
