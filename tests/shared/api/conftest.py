"""A webhook receiver for the API tests: a real HTTP server on loopback."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture
def receiver():
    """A local HTTP server that keeps what it is sent; ``answers`` is the statuses it gives, in turn."""
    received, answers = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            status = answers.pop(0) if answers else 204
            self.send_response(status)
            if 300 <= status < 400:  # a redirect elsewhere on the same server, which must not be followed
                self.send_header("Location", "/elsewhere")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received, answers
    server.shutdown()
    server.server_close()
