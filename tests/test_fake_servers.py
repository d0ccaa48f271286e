"""The packaged fakes run alone (``python -m <plugin>.fake``), as the demo and users run them:
one line with the URL to point the plugin at, a server answering there, a clean exit on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

# module, the root it prints, a request under it, the status and a piece of the body expected
FAKES = [
    ("tom_broker_alerce.fake", "/ztf/v1", "/objects/?page_size=1", 200, b'"items": [{'),
    ("tom_broker_antares.fake", "/v2", "/loci?page[limit]=1", 200, b'"locus_id": "ANT'),
    # the fake parses only the plugin's queries; anything else gets SIMBAD's own error VOTable
    ("tom_catalog_simbad.fake", "/simbad/sim-tap", "/sync?REQUEST=doQuery&LANG=ADQL&FORMAT=votable"
     "&QUERY=SELECT%20TOP%201%20main_id%20FROM%20basic", 400, b'<INFO name="QUERY_STATUS" value="ERROR">'),
    ("tom_catalog_jplhorizons.fake", "/api/horizons.api",
     "?format=json&COMMAND=%27499%27&EPHEM_TYPE=ELEMENTS&MAKE_EPHEM=YES&OBJ_DATA=NO", 200, b"Mean anomaly"),
]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:  # an answer all the same: the fake is serving
        return error.code, error.read()


@pytest.mark.parametrize(("module", "root", "query", "status", "piece"), FAKES, ids=[f[0].split(".")[0] for f in FAKES])
def test_fake_serves_until_interrupted(module: str, root: str, query: str, status: int, piece: bytes) -> None:
    child = subprocess.Popen([sys.executable, "-m", module, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith(root), url
        answer, body = _get(url + query)
        assert answer == status and piece in body, (answer, body[:300])
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
