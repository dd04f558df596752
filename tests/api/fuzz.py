"""Schemathesis against the real server: starts `switchyard serve` on a
fresh SQLite database and a webhook receiver, makes an active webhook
import for the inbound endpoints, then runs schemathesis with the admin key
and the import's token over every operation of the served document, for at
most --max-time seconds. Exits with schemathesis' status.

Run it inside a network namespace of its own (scripts/test-api does) so
that nothing the fuzzer creates can make the server call out."""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from server import Server, Receiver

HERE = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-time", type=int, default=120,
                        help="seconds schemathesis may run (default 120)")
    parser.add_argument("--seed", type=int, help="schemathesis' random seed")
    parser.add_argument("--output", default=None,
                        help="folder for the server log and the reports")
    parser.add_argument("--checks", default="not_a_server_error,status_code_conformance,"
                        "content_type_conformance,response_schema_conformance")
    args, extra = parser.parse_known_args()
    output = Path(args.output or tempfile.mkdtemp(prefix="switchyard-fuzz-output-"))
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="switchyard-fuzz-") as workdir:
        receiver = Receiver()
        server = Server(workdir, output / "server.log")
        try:
            imported = server.api("POST", "/api/v1/webhook-imports", {"name": "fuzz"})
            server.api("POST", f"/api/v1/webhook-imports/{imported['id']}/activate")
            server.api("POST", "/api/v1/funnel-stages", {"title": "Inquiry"})
            env = dict(os.environ,
                       SWITCHYARD_FUZZ_ADMIN_KEY=server.api_key,
                       SWITCHYARD_FUZZ_IMPORT_TOKEN=imported["token"],
                       SWITCHYARD_FUZZ_SINK_URL=f"{receiver.url}/hook",
                       SCHEMATHESIS_HOOKS="fuzz_hooks",
                       PYTHONPATH=f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file", str(HERE / "schemathesis.toml"),
                "run", f"{server.url}/api/openapi.json",
                "--checks", args.checks,
                "--max-time", str(args.max_time),
                # One worker: CPython 3.11's parser is not thread-safe
                # ("AST constructor recursion depth mismatch" when
                # hypothesis parses sources in two threads at once).
                "--workers", "1",
                "--request-timeout", "30",
                "--report", "junit", "--report-dir", str(output),
                *([f"--seed={args.seed}"] if args.seed is not None else []),
                *extra,
            ]
            print("==> " + " ".join(command[3:]), flush=True)
            status, counts = run_and_count(command, env)
        finally:
            server.stop()
            receiver.stop()
        print(f"    the server log and schemathesis' reports are in {output}")
        if counts:
            # The plain closing line CI reads, whatever the runner.
            print(f"schemathesis: {counts[0]} passed, {counts[1]} failed")
        return status


def run_and_count(command, env):
    """Runs schemathesis, echoing its output; returns its exit status and
    the (passed, failed) test cases its summary reports, if it does."""
    counts = None
    with subprocess.Popen(command, env=env, cwd=HERE, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            summary = re.search(r"(\d+) generated, (\d+) passed(?:, (\d+) failed)?", line)
            if summary:
                counts = (int(summary.group(2)), int(summary.group(3) or 0))
    return process.returncode, counts


if __name__ == "__main__":
    sys.exit(main())
