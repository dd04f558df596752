"""Browser tests of the admin UI: the real `switchyard serve` on a fresh
SQLite database, driven by Playwright through Debian's Chromium.

Environment:
  SWITCHYARD_BIN           the built server binary (scripts/test passes it)
  SWITCHYARD_UI_OUTPUT     folder for screenshots and the server log
  SWITCHYARD_UI_DATABASE   a database URL to run on instead of a fresh
                           SQLite file (scripts/test passes an empty
                           PostgreSQL database for its second run)
  CHROMIUM                 the browser (default /usr/bin/chromium)
"""

import json
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One server for the whole run; tests use distinct names."""

    def __init__(self, binary, workdir, log_path):
        self.binary = binary
        self.database_url = (os.environ.get("SWITCHYARD_UI_DATABASE")
                             or f"sqlite://{workdir}/switchyard.db")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{self.port}",
             "--database-url", self.database_url,
             "--plugin-artifact-dir", f"{workdir}/artifacts",
             # Webhook receivers in the tests listen on loopback.
             "--outbound-allow-cidr", "127.0.0.0/8"],
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
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not answer /healthz")

    def new_account(self, name):
        """Creates an account as an operator would (the CLI, on the same
        database); returns its admin API key."""
        created = subprocess.run(
            [self.binary, "account", "create", name, "--database-url", self.database_url],
            capture_output=True, text=True, check=True, timeout=60)
        return re.search(r"(sy_admin_[A-Za-z0-9]+)", created.stdout).group(1)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def output_dir():
    folder = Path(os.environ.get("SWITCHYARD_UI_OUTPUT")
                  or ROOT / "target" / "ui-test-output")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def server(output_dir):
    binary = os.environ.get("SWITCHYARD_BIN")
    if not binary:
        target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
        binary = str(Path(target) / "debug" / "switchyard")
    with tempfile.TemporaryDirectory(prefix="switchyard-ui-") as workdir:
        running = Server(binary, workdir, output_dir / "server.log")
        yield running
        running.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser, server):
    made = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    made.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    made.set_default_timeout(10_000)
    yield made
    made.close()


@pytest.fixture
def page(context):
    opened = context.new_page()
    dialogs = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    # Script errors and CSP violations; a 4xx page is sometimes the point.
    opened.on("console", lambda message: errors.append(f"{message.text} (on {opened.url})")
              if message.type == "error"
              and not message.text.startswith("Failed to load resource: the server responded")
              else None)
    opened.dialogs = dialogs
    opened.errors = errors
    yield opened
    # No page may open a dialog (a sign of injected script) or break the CSP.
    assert dialogs == [], f"unexpected dialogs: {dialogs}"
    assert errors == [], f"errors in the browser console: {errors}"


@pytest.fixture
def shot(page, output_dir, request):
    """shot("name") saves a full-page screenshot named after the test."""
    def take(name):
        path = output_dir / f"{request.node.name}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take


@pytest.fixture
def key(server, request):
    """The admin key of an account of this test's own, so that tests sharing
    the server do not see each other's stages and leads."""
    return server.new_account(request.node.name[:60])


def api(server, key, method, path, body=None):
    """Calls the JSON API with an admin key; returns the decoded answer."""
    request = urllib.request.Request(
        f"{server.url}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}",
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def sign_in(page, key):
    page.goto("/")
    page.get_by_label("Admin API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Funnel stages").wait_for()
