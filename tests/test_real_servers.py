"""`probe check` against real server software, case by case, beside curl's verdict.

Each server program is started once for the module (see realservers.py) with one TLS port per
certificate case; `probe check --json` runs once per server and set of options, with every URL of
that set, and each case is then judged from its line. The reference is curl (`curl -sS --cacert CA
-o FILE -w '%{http_code}'`, `-L` as probe follows redirects, `--compressed` where the server codes
the body) and, where curl and browsers differ, the browser: Chromium refuses a name found only in
the Common Name (ERR_CERT_COMMON_NAME_INVALID), where curl still reads the Common Name.

A case where probe disagrees is marked xfail(strict) with the disagreement as its reason: the fix
flips it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from realservers import LAST_MODIFIED, RSA_KX, SERVERS, Material

UP, DOWN = "up", "down"


@dataclass(frozen=True)
class Case:
    name: str
    port: str = "good"
    path: str = "/ok.txt"
    options: tuple = ()
    verdict: tuple = (UP, 200, None)  # (state, http_status, error_class) as curl and browsers judge
    body: str | None = "service is ok"  # the body must contain it
    host: str = "127.0.0.1"
    curl: tuple = ()  # curl's own options for the case
    curl_verdict: tuple | None = None  # where curl and browsers differ: curl's (the verdict is the browser's)
    tls_version: str | None = None
    tls_cipher: str | None = None
    servers: tuple | None = None  # the servers that serve the case, where not all

    @property
    def probe_options(self) -> tuple:
        """probe's options: the case's, and --expect-body where curl reads the body."""
        if self.body is None or self.verdict[0] != UP:
            return self.options
        return (*self.options, "--expect-body", self.body)

    def url(self, server) -> str:
        return f"https://{self.host}:{server.ports[self.port]}{self.path}"


CERT_REFUSED = (DOWN, None, "tls_cert")

CASES = (
    Case("plain"),
    Case("head", options=("--method", "head"), curl=("--head",), body=None),
    Case("redirect_relative_302", path="/r/relative"),
    Case("redirect_absolute_301", path="/r/absolute"),
    Case("redirect_cross_origin_307", path="/r/cross"),
    Case("redirect_relative_308", path="/r/perm"),
    Case("redirect_to_utf8_path", path="/r/utf8", body="caf\u00e9 ok"),
    Case("redirect_with_fragment", path="/r/fragment"),
    Case("redirect_with_raw_space", path="/r/space"),
    Case("redirect_scheme_relative", path="/r/scheme_relative"),
    Case("redirect_dot_segments", path="/r/dots"),
    Case("redirect_absolute_dot_segments", path="/r/absolute_dots"),
    Case("url_with_dot_segments", path="/../ok.txt"),
    Case("gzip", path="/gzip.txt", curl=("--compressed",)),
    Case("chunked", path="/chunked.txt"),
    Case("deflate_zlib", path="/deflate.txt", curl=("--compressed",), servers=("node",)),
    Case("deflate_raw", path="/rawdeflate.txt", curl=("--compressed",), servers=("node",)),
    Case("brotli", path="/br.txt", curl=("--compressed",), servers=("node",)),
    Case("chunked_with_trailer", path="/trailer.txt", servers=("node",)),
    Case("nocontent", path="/nocontent", options=("--expect-status", "204"), verdict=(UP, 204, None), body=None),
    Case("not_modified", options=("--expect-status", "304", "--header", f"If-Modified-Since: {LAST_MODIFIED}"),
         curl=("-H", f"If-Modified-Since: {LAST_MODIFIED}"), verdict=(UP, 304, None), body=None),
    Case("close", path="/close.txt"),
    Case("big_head", path="/big.txt"),
    Case("huge_head", path="/huge.txt"),
    Case("tls12", port="tls12", tls_version="TLSv1.2"),
    Case("tls13", port="tls13", tls_version="TLSv1.3"),
    # RSA key exchange, no forward secrecy: curl and Chromium connect
    Case("tls12_rsa_key_exchange", port="rsa_kx", tls_version="TLSv1.2", tls_cipher=RSA_KX),
    Case("cert_expired", port="expired", verdict=CERT_REFUSED, body=None),
    Case("cert_not_yet_valid", port="not_yet_valid", verdict=CERT_REFUSED, body=None),
    Case("cert_wrong_host", port="wrong_host", verdict=CERT_REFUSED, body=None),
    Case("cert_cn_only", port="cn_only", host="localhost", verdict=CERT_REFUSED, body=None,
         curl_verdict=(UP, 200, None)),
    Case("cert_self_signed", port="self_signed", verdict=CERT_REFUSED, body=None),
    Case("cert_untrusted_ca", port="untrusted", verdict=CERT_REFUSED, body=None),
    Case("cert_with_intermediate", port="chain"),
    Case("cert_missing_intermediate", port="leaf_only", verdict=CERT_REFUSED, body=None),
    Case("cert_signed_with_sha1", port="sha1", verdict=CERT_REFUSED, body=None),
    # curl (OpenSSL's security level 2) refuses a 1024-bit RSA key; Chromium, whose floor is 1024 bits,
    # shows the page when the CA is a local trust anchor (no public CA issues such keys since 2014)
    Case("cert_rsa_1024", port="rsa1024", verdict=CERT_REFUSED, body=None),
    Case("cert_ip_san", port="ip_san"),
    Case("cert_ip_san_by_name", port="ip_san", host="localhost", verdict=CERT_REFUSED, body=None),
    Case("h2_only", port="h2_only"),
)

# Where probe disagrees with curl and browsers: (server, case) -> the disagreement.
DISAGREES = {
    (server, "h2_only"): "an HTTP/2-only server is down for probe (it offers only http/1.1); curl and browsers "
                         "offer h2 by ALPN and get the page"
    for server in ("haproxy", "node")
}

# Servers that cannot serve a case (see realservers.py) leave it out.
SERVED = [(name, case) for name, server in SERVERS.items() for case in CASES
          if case.name not in server.cannot and case.port not in server.cannot
          and (case.servers is None or name in case.servers)]
PARAMS = [
    pytest.param(name, case, id=f"{name}-{case.name}",
                 marks=[pytest.mark.xfail(strict=True, reason=DISAGREES[name, case.name])]
                 if (name, case.name) in DISAGREES else [])
    for name, case in SERVED
]
CURL_PARAMS = [pytest.param(name, case, id=f"{name}-{case.name}") for name, case in SERVED]


@pytest.fixture(scope="module")
def material():
    # not under pytest's private temporary folder: Apache's children (www-data) read the site
    folder = Path(tempfile.mkdtemp(prefix="probe-real-servers-"))
    try:
        ca = trustme.CA(organization_name="probe real servers CA")
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        made = Material(folder, ca)
        made.ca_file = str(folder / "ca.pem")
        yield made
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def running(material):
    """The servers started so far, by name; each is started once, on first use."""
    started = {}

    def get(name):
        cls = SERVERS[name]
        if not cls.available():
            pytest.skip(f"{name} is not installed (.ci/run installs it)")
        for _ in range(3 if name not in started else 0):
            try:  # free ports are picked before the server binds them: another process may win one
                started[name] = cls(material).start()
                break
            except (RuntimeError, OSError) as exc:  # told once, then each of its cases fails at once
                started[name] = exc
        if isinstance(started[name], Exception):
            raise started[name]
        return started[name]

    yield get
    for server in started.values():
        if not isinstance(server, Exception):
            server.stop()


@pytest.fixture(scope="module")
def verdicts(running, material):
    """probe's JSON record per (server, case): one `probe check` per server and set of options."""
    found = {}

    def get(name, case):
        if (name, case.name) not in found:
            server = running(name)
            cases = [c for n, c in SERVED if n == name]
            for options in dict.fromkeys(c.probe_options for c in cases):
                batch = [c for c in cases if c.probe_options == options]
                done = subprocess.run(
                    [sys.executable, "-m", "probe", "check", "--json", "--workers", "1", "--timeout", "30s",
                     "--ca-file", material.ca_file, *options, *(c.url(server) for c in batch)],
                    capture_output=True, text=True, timeout=120)
                records = [json.loads(line) for line in done.stdout.splitlines()]
                assert len(records) == len(batch), done.stderr
                for c, record in zip(batch, records):
                    found[name, c.name] = record
        return found[name, case.name]

    return get


@pytest.mark.parametrize("name,case", PARAMS)
def test_probe_reaches_the_verdict_of_curl_and_browsers(verdicts, name, case):
    record = verdicts(name, case)
    assert (record["state"], record["http_status"], record["error_class"]) == case.verdict, record["error"]
    if case.tls_version:
        assert record["tls_version"] == case.tls_version
    if case.tls_cipher:
        assert record["tls_cipher"] == case.tls_cipher


# ------------------------------------------------------------------------------- curl itself

CURL = shutil.which("curl")


def curl_verdict(server, case, ca_file, tmp_path):
    """curl's verdict on the case, in probe's terms."""
    out = tmp_path / "body"
    done = subprocess.run(
        [CURL, "-sS", "-L", "--cacert", ca_file, "-o", str(out), "-w", "%{http_code}", *case.curl, case.url(server)],
        capture_output=True, text=True, timeout=60)
    if done.returncode == 60:  # the peer's certificate was not accepted
        return (DOWN, None, "tls_cert"), None
    assert done.returncode == 0, done.stderr
    status = int(done.stdout)
    expected = case.verdict[1] if case.verdict[0] == UP else 200
    body = out.read_bytes().decode("utf-8", "replace") if out.exists() else ""
    return (UP if status == expected else DOWN, status, None if status == expected else "http_status"), body


@pytest.mark.skipif(CURL is None, reason="curl is not installed (.ci/run installs it)")
@pytest.mark.parametrize("name,case", CURL_PARAMS)
def test_curl_reaches_the_reference_verdict(running, material, tmp_path, name, case):
    verdict, body = curl_verdict(running(name), case, material.ca_file, tmp_path)
    assert verdict == (case.curl_verdict or case.verdict)
    if case.body is not None and verdict[0] == UP:
        assert case.body in body
