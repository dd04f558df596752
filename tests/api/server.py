"""The real `switchyard serve` on a fresh SQLite database, for the API
contract tests (schemathesis, the typed clients' examples), and a small
webhook receiver that records what it is sent."""

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def binary():
    if os.environ.get("SWITCHYARD_BIN"):
        return os.environ["SWITCHYARD_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(Path(target) / "debug" / "switchyard")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`switchyard serve` in `workdir`; `api_key` is the first account's."""

    def __init__(self, workdir, log_path, extra_args=()):
        self.port = free_port()
        self.database_url = f"sqlite://{workdir}/switchyard.db"
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [binary(), "serve", "--listen", f"127.0.0.1:{self.port}",
             "--database-url", self.database_url,
             "--plugin-artifact-dir", f"{workdir}/artifacts",
             # Receivers in these tests listen on loopback.
             "--outbound-allow-cidr", "127.0.0.0/8", *extra_args],
            cwd=workdir, stdout=subprocess.PIPE, stderr=self.log, text=True,
        )
        self.api_key = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.log.write(line)
            found = re.search(r"(sy_admin_[A-Za-z0-9]+)", line)
            if found:
                self.api_key = found.group(1)
            if "listening on" in line:
                break
        if self.api_key is None:
            self.stop()
            raise RuntimeError(f"the server printed no admin key; see {log_path}")
        # Nobody reads standard output from here on: drain it so that the
        # server never blocks writing to a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not answer /healthz")

    def _drain(self):
        for line in self.process.stdout:
            self.log.write(line)

    def api(self, method, path, body=None, token=None):
        """Calls the API (with the admin key unless `token` is given);
        returns the decoded answer."""
        request = urllib.request.Request(
            f"{self.url}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token or self.api_key}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    def new_account(self, name):
        """Creates an account as an operator would (the CLI, on the same
        database); returns its admin API key."""
        created = subprocess.run(
            [binary(), "account", "create", name, "--database-url", self.database_url],
            capture_output=True, text=True, check=True, timeout=60)
        return re.search(r"(sy_admin_[A-Za-z0-9]+)", created.stdout).group(1)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Receiver:
    """A webhook receiver on loopback that answers 200 and keeps every
    request: `(path, headers, body bytes)`."""

    def __init__(self):
        self.requests = []
        self.arrived = threading.Condition()
        received = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with received.arrived:
                    received.requests.append((self.path, dict(self.headers), body))
                    received.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET = _record

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count, timeout=30):
        """The first `count` requests, once they have arrived."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(
                    f"{len(self.requests)} of {count} webhook requests arrived in {timeout}s")
            return list(self.requests[:count])

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
