"""The measuring instruments: gunicorn servers, wrk, a peak-memory sampler and the page weight."""

import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent

# One setting for both servers, so the ratios compare the apps and not the setup: one sync
# worker per core on this 2-core machine, gunicorn's default worker class.
WORKERS = 2
GUNICORN = ["--workers", str(WORKERS), "--worker-class", "sync"]
# wrk shares the same 2 cores; 2 threads with 16 connections keep both workers busy.
WRK = ["-t2", "-c16"]
WARMUP_SECONDS = 1
SECONDS = 5
# Each load runs this many times, alternating with hello-world; the best run counts.
ROUNDS = 2
GZIP_LEVEL = 6


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn master serving `app` on a free loopback port, with the shared settings."""

    def __init__(self, name: str, app: str, env: dict, log: Path, options: list[str] = GUNICORN):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.worker_count = int(options[options.index("--workers") + 1])
        command = [sys.executable, "-m", "gunicorn", *options]
        command += ["--bind", f"127.0.0.1:{self.port}", "--error-logfile", str(log), app]
        # What the app itself logs (to stderr) goes in the same file, not over the report.
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=output, stderr=output
            )
        try:
            self._wait_until_ready(log)
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def _wait_until_ready(self, log: Path, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up; see {log}")
            if len(self.workers()) == self.worker_count:
                try:
                    urllib.request.urlopen(self.url + "/", timeout=2).close()
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout}s; see {log}")

    def workers(self) -> list[int]:
        """Pids of the master's worker processes (its children)."""
        children = []
        for entry in Path("/proc").iterdir():
            stat = _stat(int(entry.name)) if entry.name.isdigit() else None
            if stat and int(stat[1]) == self.process.pid:
                children.append(int(entry.name))
        return children

    def cpu_seconds(self) -> float:
        """User plus system CPU time its workers have used so far."""
        stats = [_stat(pid) for pid in self.workers()]
        ticks = sum(int(stat[11]) + int(stat[12]) for stat in stats if stat)  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Stop gracefully (SIGTERM to the master), or kill after 10 seconds."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from the state field on (fields 3...), or None once the process has gone."""
    try:
        # The command name may hold spaces or brackets: the fields start after the last ')'.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set size so far (VmHWM), in KiB; 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


@dataclass
class MemorySampler:
    """Samples every worker's peak RSS in the background; VmHWM also covers moments between."""

    servers: list[Server]
    peaks: dict[str, dict[int, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _pids: dict[str, list[int]] = field(default_factory=dict)

    def __enter__(self) -> "MemorySampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def _sample(self) -> None:
        for server in self.servers:
            # Finding the workers walks all of /proc, which in the load generator's process
            # would hold up its event loop (and its latencies): only when one has gone.
            pids = self._pids.get(server.name) or server.workers()
            peaks, gone = self.peaks.setdefault(server.name, {}), False
            for pid in pids:
                kib = peak_rss_kib(pid)
                peaks[pid] = max(peaks.get(pid, 0), kib)
                gone = gone or kib == 0
            self._pids[server.name] = [] if gone else pids


def wrk(server: Server, path: str, headers: dict[str, str] | None = None) -> dict:
    """Warm up, then load `path` for SECONDS: requests/second, workers' CPU/request, failures."""
    args = ["wrk", *WRK]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    url = server.url + path
    subprocess.run([*args, f"-d{WARMUP_SECONDS}s", url], check=True, capture_output=True)
    cpu_before = server.cpu_seconds()
    run = subprocess.run([*args, f"-d{SECONDS}s", url], check=True, capture_output=True, text=True)
    cpu = server.cpu_seconds() - cpu_before
    out = run.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": requests,
        "worker_cpu_us_per_request": round(cpu / requests * 1e6) if requests else None,
        "non_2xx_3xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sockets.group(1) if sockets else "",
    }


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """One GET: status, headers, body (a 304 or 4xx is an answer, not an exception)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class _References(HTMLParser):
    """Collects what a page makes the browser fetch: stylesheets, icons, scripts, images."""

    ATTRIBUTES = {"link": "href", "script": "src", "img": "src"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        value = dict(attrs).get(self.ATTRIBUTES.get(tag, ""))
        if value and not value.startswith("data:"):
            self.urls.append(value)


def page_weight(page_url: str) -> dict:
    """The page and everything it references, each gzipped as a server would; third-party URLs."""
    status, _headers, html = fetch(page_url)
    if status != 200:
        raise RuntimeError(f"{page_url} answered {status}")
    parser = _References()
    parser.feed(html.decode())
    host = urlsplit(page_url).netloc
    files, third_party = [{"url": page_url, **_sizes(html)}], []
    for reference in dict.fromkeys(parser.urls):
        url = urljoin(page_url, reference)
        if urlsplit(url).netloc != host:
            third_party.append(url)
            continue
        status, _headers, body = fetch(url)
        if status != 200:
            raise RuntimeError(f"{url}, referenced by the page, answered {status}")
        files.append({"url": url, **_sizes(body)})
    total = sum(f["gzip_bytes"] for f in files)
    return {"files": files, "total_gzip_bytes": total, "third_party": third_party}


def _sizes(body: bytes) -> dict:
    return {"bytes": len(body), "gzip_bytes": len(gzip.compress(body, GZIP_LEVEL, mtime=0))}


def clean_env(database_url: str) -> dict:
    """The environment both servers run in: development config, no debugger, our database."""
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_DEBUG", "FLASK_ENV")}
    return {**env, "PLUNGE_ENV": "development", "DATABASE_URL": database_url}
