"""serve.py under load: requests and texts per second, latency and memory, on 127.0.0.1.

Starts `python serve.py --model cnn --port 0` (train it first: python train_cnn.py),
then, for each load, clients that each send a request, wait for its answer and send
the next one, on a connection each keeps open, as long as --seconds allow and no more
than --max-requests in all:

* 1, 8 and 32 clients sending one text per request;
* 1 and 8 clients sending 100 texts per request.

It prints requests/s, texts/s, the median and 99th percentile of the latency (from
sending a request to having read its answer), how many texts the server scored per
model call on average (its micro-batches), the CPU time the server spent per request
(all its threads: the event loop, the model's thread and TensorFlow's) and its peak
memory (resident, since it started). The texts are short reviews made up from a list of words: no
download. The clients run in this process, one thread each, on the same cores.

Then it measures predict.py reading a file as a stream: for each size in --lines, it
writes a file of that many made-up reviews and runs `python predict.py --file FILE
--format json`, its output thrown away, and prints the seconds, lines per second and
the process's peak memory: flat, whatever the number of lines.

Between the two, 32 clients send one text 8 times each, and it prints how many distinct
answers they got: 1, since a text's output does not depend on its micro-batch.

    python benchmarks/serving.py
    python benchmarks/serving.py --model bow --seconds 5 --lines 10000,100000
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LOADS = [(1, 1), (8, 1), (32, 1), (1, 100), (8, 100)]  # (clients, texts per request)
WORDS = (
    "good bad great awful boring wonderful plot acting film movie story cast not very "
    "really never loved hated slow funny dull brilliant ending script"
).split()
SEED = 7


def made_up_reviews(count: int, rng: np.random.Generator) -> list[str]:
    """Short reviews of 5 to 30 words from WORDS."""
    return [" ".join(rng.choice(WORDS, size=rng.integers(5, 31))) for _ in range(count)]


def cpu_seconds(pid: int) -> float:
    """The CPU time the process has used so far, in all its threads (user and system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024


def drive(port: int, name: str, clients: int, per_request: int, seconds: float,
          max_requests: int, reviews: list[str]) -> dict:  # fmt: skip
    """Run one load; return its figures."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    path = f"/v1/models/{name}:predict"

    def client(number: int) -> None:
        # A raw socket and requests built beforehand: the clients share the server's
        # cores, and http.client would spend more of them than the server does.
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sent = number
        while time.perf_counter() < deadline:
            with lock:
                if len(latencies) >= max_requests:
                    break
            request = requests[sent % len(requests)]
            began = time.perf_counter()
            sock.sendall(request)
            status, answer = read_response(sock)
            took = time.perf_counter() - began
            if status != 200 or len(json.loads(answer)["predictions"]) != per_request:
                raise RuntimeError(f"the server answered {status}: {answer[:200]!r}")
            with lock:
                latencies.append(took)
            sent += clients
        sock.close()

    requests = []
    for start in range(0, len(reviews), per_request):
        body = json.dumps({"instances": (reviews * 2)[start : start + per_request]}).encode()
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        requests.append(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ms = np.array(latencies) * 1000
    return {
        "requests/s": len(ms) / elapsed,
        "texts/s": len(ms) * per_request / elapsed,
        "p50 ms": float(np.percentile(ms, 50)),
        "p99 ms": float(np.percentile(ms, 99)),
        "requests": len(ms),
    }


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One HTTP response off `sock`: its status and body (Content-Length bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1])
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1]), body


def batching(port: int, name: str) -> tuple[int, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", f"/v1/models/{name}")
    status = json.loads(connection.getresponse().read())
    connection.close()
    return status["batching"]["model_calls"], status["batching"]["texts"]


def same_text(port: int, name: str, clients: int = 32, each: int = 8) -> int:
    """How many distinct answers `clients` clients get for one text, sent `each` times by
    each at once: 1, whatever the micro-batches it was scored in."""
    answers: list[float] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(each):
            body = json.dumps({"instances": ["a good film"]})
            connection.request("POST", f"/v1/models/{name}:predict", body=body)
            answers.append(json.loads(connection.getresponse().read())["predictions"][0])
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len({json.dumps(answer) for answer in answers})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="cnn", help="the model to serve (default: cnn)")
    parser.add_argument("--models-dir", default="outputs", metavar="DIR",
                        help="where it was saved (default: outputs/)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="each load runs this long at most (default: 10)")  # fmt: skip
    parser.add_argument("--max-requests", type=int, default=20_000, metavar="N",
                        help="and sends at most N requests (default: 20,000)")  # fmt: skip
    parser.add_argument("--lines", type=lambda s: [int(n) for n in s.split(",")],
                        default=[10_000, 100_000, 1_000_000], metavar="N,N,...",
                        help="predict.py streams files of these many lines (default: "
                        "10000,100000,1000000; 0: none)")  # fmt: skip
    args = parser.parse_args()
    if not 0 < args.seconds <= 600 or args.max_requests < 1:
        parser.error("--seconds must be above 0 and at most 600; --max-requests at least 1")

    command = [sys.executable, str(ROOT / "serve.py"), "--model", args.model,
               "--models-dir", args.models_dir, "--port", "0"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL, text=True, cwd=ROOT)  # fmt: skip
    try:
        line = server.stdout.readline()
        found = re.search(r"at http://[^ ]+:(\d+)/ ", line)
        if not found:
            raise SystemExit(f"serve.py did not start; try: {' '.join(command)}")
        port = int(found[1])
        name = re.search(r"^Serving (\S+) ", line)[1]
        reviews = made_up_reviews(1_000, np.random.default_rng(SEED))
        print(f"serve.py --model {args.model}, on {os.cpu_count()} cores; each load "
              f"{args.seconds:g} s or {args.max_requests:,} requests at most\n")  # fmt: skip
        header = (f"{'clients':>7}  {'texts/req':>9}  {'requests/s':>10}  {'texts/s':>8}  "
                  f"{'p50 ms':>7}  {'p99 ms':>7}  {'texts/call':>10}  {'CPU ms/req':>10}  "
                  f"{'peak MiB':>8}")  # fmt: skip
        print(header)
        print("-" * len(header))
        for clients, per_request in LOADS:
            calls, texts = batching(port, name)
            cpu = cpu_seconds(server.pid)
            figures = drive(port, name, clients, per_request, args.seconds, args.max_requests,
                            reviews)  # fmt: skip
            cpu_ms = (cpu_seconds(server.pid) - cpu) * 1000 / figures["requests"]
            after_calls, after_texts = batching(port, name)
            per_call = (after_texts - texts) / max(after_calls - calls, 1)
            print(f"{clients:>7}  {per_request:>9}  {figures['requests/s']:>10.1f}  "
                  f"{figures['texts/s']:>8.0f}  {figures['p50 ms']:>7.1f}  "
                  f"{figures['p99 ms']:>7.1f}  {per_call:>10.1f}  {cpu_ms:>10.2f}  "
                  f"{peak_memory_mib(server.pid):>8.0f}", flush=True)  # fmt: skip
        distinct = same_text(port, name)
        print(f"\n32 clients sending 'a good film' 8 times each: {distinct} distinct answer"
              f"{'s' * (distinct != 1)}")  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    if any(args.lines):
        stream(args, made_up_reviews(10_000, np.random.default_rng(SEED)))


def stream(args: argparse.Namespace, reviews: list[str]) -> None:
    """predict.py --file on files of args.lines lines: seconds and peak memory."""
    print(f"\npredict.py --model {args.model} --file FILE --format json > /dev/null\n")
    header = f"{'lines':>9}  {'seconds':>7}  {'lines/s':>7}  {'peak MiB':>8}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as folder:
        for count in filter(None, args.lines):
            path = Path(folder) / "reviews.txt"
            with path.open("w", encoding="utf-8") as f:
                for i in range(count):
                    f.write(reviews[i % len(reviews)] + "\n")
            command = [sys.executable, str(ROOT / "predict.py"), "--model", args.model,
                       "--models-dir", args.models_dir, "--file", str(path),
                       "--format", "json"]  # fmt: skip
            # Peak memory from a process of its own, which runs predict.py and reports it.
            script = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
                      "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
                      "stderr=subprocess.DEVNULL).returncode; print(code, "
                      "time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN)"
                      ".ru_maxrss)")  # fmt: skip
            measured = subprocess.run([sys.executable, "-c", script, *command], cwd=ROOT,
                                      capture_output=True, text=True, check=True)  # fmt: skip
            code, seconds, peak_kib = measured.stdout.split()
            if code != "0":
                raise SystemExit(f"predict.py failed; try: {' '.join(command)}")
            seconds = float(seconds)
            print(f"{count:>9,}  {seconds:>7.1f}  {count / seconds:>7.0f}  "
                  f"{int(peak_kib) / 1024:>8.0f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
