"""Schemathesis hooks for fuzzing Switchyard (loaded through
SCHEMATHESIS_HOOKS by tests/api/fuzz.py)."""

import os

import schemathesis

# The plugin upload takes a module's bytes or a script's text under these
# media types; send them the way schemathesis sends bytes and text.
schemathesis.serializer.alias(["application/wasm"], "application/octet-stream")
schemathesis.serializer.alias(["text/javascript", "application/typescript"], "text/plain")

SINK_URL = os.environ["SWITCHYARD_FUZZ_SINK_URL"]


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Points every webhook a case creates or changes at the run's own
    receiver on loopback: a fuzzer must never make the server call a host
    on the internet (the run is also in a network namespace of its own
    where the machine allows one)."""
    if (case.operation.path.startswith("/api/v1/webhooks")
            and isinstance(case.body, dict)
            and isinstance(case.body.get("url"), str)):
        case.body["url"] = SINK_URL
