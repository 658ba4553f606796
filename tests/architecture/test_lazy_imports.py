"""Services that do not compute on arrays do not load numpy (about 16 MB of RSS per process): their apps import without
it, and the scalar work they do (EdgeX events in both codecs, rules' peek at watched readings, Float32 formatting,
the suite codec, JSON depth checks, feature vectors for display) runs without loading it. cbor2 and google-re2
(about 3.5 MB) load at the first CBOR body and the first name pattern; ingest loads asyncua (about 23 MB) and pysoem
at the first OPC UA and EtherCAT device."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import edgewatch.core.app, edgewatch.rules.app, edgewatch.console.app, edgewatch.ingest.app
print(*[m for m in ("numpy", "cbor2", "re2", "asyncua", "pysoem") if m in sys.modules], sep=",")
from edgewatch.common.contracts.codec import pack, unpack
from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import CONTENT_CBOR, CONTENT_JSON, decode_add_event, encode_add_event
from edgewatch.common.contracts.featurevalues import decode_feature_values
from edgewatch.common.contracts.eventpeek import peek_readings
from edgewatch.common.contracts.limits import json_depth
readings = [Reading.simple("d", "p", "T", "Float32", 39.1), Reading.simple("d", "p", "B", "Bool", True)]
req = AddEventRequest.of(new_event("d", "p", "all", readings))
for ctype in (CONTENT_JSON, CONTENT_CBOR):
    back = decode_add_event(encode_add_event(req, ctype), ctype).event
    assert [r.typed_value() for r in back.readings] == [readings[0].typed_value(), True], back
assert readings[0].value == "3.91e+01" and unpack(pack({"a": [1.5]})) == {"a": [1.5]}
assert json_depth(b'{"a": [[1]]}') == 3
body = encode_add_event(req, CONTENT_JSON)
peeked = peek_readings(body, CONTENT_JSON, {"T", "B"})
assert peeked == ("d", [("T", float(readings[0].typed_value()), readings[0].origin), ("B", 1.0, readings[1].origin)])
vec = pack({"device": "d", "names": ["x"], "values": [2.5]})
assert decode_feature_values(vec).values == [2.5]
print("numpy" in sys.modules)
"""


def _run(probe: str) -> list[str]:
    """The lines a probe prints in a fresh interpreter (which imports nothing of this test process)."""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_light_services_import_without_stacks_they_may_not_need_and_do_scalar_work_without_numpy() -> None:
    at_import, numpy_after_work = _run(PROBE)
    assert at_import == "", f"loaded by importing the apps: {at_import}"
    assert numpy_after_work == "False"


CLI_PROBE = """
import sys
import edgewatch.common.service.host  # what `python -m edgewatch.<svc>` imports first
import edgewatch.rules.app, edgewatch.console.app, edgewatch.ingest.app, edgewatch.sync.app
import httpx
print(*[m for m in ("rich", "pygments") if m in sys.modules], sep=",")
print(httpx.AsyncClient.__name__, callable(httpx.main))
"""


def test_services_that_make_http_requests_load_httpx_without_its_command_line_client() -> None:
    """httpx imports its CLI (rich, pygments: about 3 MB RSS) unless ``edgewatch.common.service.nocli`` kept it out."""
    loaded, client = _run(CLI_PROBE)
    assert loaded == "", f"httpx's command-line client was loaded: {loaded}"
    assert client == "AsyncClient True"
