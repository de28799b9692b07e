"""A tiny round-robin HTTP proxy: what nginx's `upstream` does, for the webhook in `bench.load`.

The sandbox, like Stripe, sends every webhook to one URL. In production that URL is the load
balancer; here this proxy stands in for it, so deliveries land on each app instance in turn.

    python -m bench.proxy --port 8080 http://127.0.0.1:8001 http://127.0.0.1:8002
"""

import argparse
import http.client
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Headers a webhook needs on the way through; Stripe-Signature above all.
_FORWARDED = ("Content-Type", "Stripe-Signature", "User-Agent")


class RoundRobin:
    """The upstreams in turn, and how many requests each has answered with which status."""

    def __init__(self, upstreams: list[str]):
        self.upstreams = upstreams
        self._next = itertools.cycle(range(len(upstreams)))
        self._lock = threading.Lock()
        self.answered: dict[str, dict[str, int]] = {url: {} for url in upstreams}

    def pick(self) -> str:
        """The next upstream's base URL."""
        with self._lock:
            return self.upstreams[next(self._next)]

    def count(self, upstream: str, status: int | str) -> None:
        """Remember one answer from `upstream`."""
        with self._lock:
            seen = self.answered[upstream]
            seen[str(status)] = seen.get(str(status), 0) + 1


def handler(pool: RoundRobin) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to one pool of upstreams."""

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - http.server's hook name
            """Only the counts, for the benchmark's report."""
            body = json.dumps(pool.answered).encode()
            self._reply(200, body, "application/json")

        def do_POST(self):  # noqa: N802 - http.server's hook name
            """Pass the request to the next upstream and its answer back."""
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            upstream = pool.pick()
            target = urlsplit(upstream)
            headers = {k: self.headers[k] for k in _FORWARDED if self.headers.get(k)}
            headers["X-Forwarded-For"] = self.client_address[0]
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                status, kind = response.status, response.getheader("Content-Type", "text/plain")
            except OSError as exc:
                status, answer, kind = 502, f"upstream: {exc}".encode(), "text/plain"
            finally:
                connection.close()
            pool.count(upstream, status)
            self._reply(status, answer, kind)

        def _reply(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):  # the benchmark counts; no access log
            pass

    return Forward


def main() -> None:
    """Serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("upstreams", nargs="+")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(RoundRobin(args.upstreams)))
    server.serve_forever()


if __name__ == "__main__":
    main()
