"""The typed clients' tests: one real `switchyard serve` on a fresh SQLite
database for the session, an account of its own for each test, and
webhook receivers on loopback.

Environment:
  SWITCHYARD_BIN         the built server binary (scripts/test-api passes it)
  SWITCHYARD_API_OUTPUT  folder for the server log
"""

import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server import ROOT, Receiver, Server  # noqa: E402


@pytest.fixture(scope="session")
def server():
    output = Path(os.environ.get("SWITCHYARD_API_OUTPUT") or tempfile.mkdtemp(prefix="switchyard-api-"))
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="switchyard-api-") as workdir:
        running = Server(workdir, output / "clients-server.log")
        yield running
        running.stop()


@pytest.fixture
def key(server, request):
    """The admin key of an account of this test's own."""
    return server.new_account(request.node.name[:60])


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def root():
    return ROOT
