"""`probe tls-audit` against real local TLS servers: each protocol version offered alone, the
TLS 1.2 suites, the certificate, HSTS; the JSON verdict and the exit status."""

import json
import ssl
import subprocess
import sys

import pytest

from probe.check import audit
from probe.check.audit import parse_hsts
from servers import OpenSSLServer, refused_port, respond

HSTS = {"Strict-Transport-Security": "max-age=63072000; includeSubDomains"}
MODERN_SUITES = "ECDHE+AESGCM:ECDHE+CHACHA20"


def probe(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "probe", *args], capture_output=True, text=True, timeout=timeout)


def serve(servers, certs, which="good", low=None, high=None, suites=None, headers=HSTS):
    context = certs.context(which, min_version=low, max_version=high)
    if suites:
        context.set_ciphers(suites)
    return f"https://localhost:{servers.serve(respond(headers=headers), context)}/"


def audited(certs, url, *options):
    done = probe("tls-audit", "--json", "--ca-file", certs.ca_file, *options, url)
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def all_versions(servers, certs):
    return serve(servers, certs, low=ssl.TLSVersion.TLSv1, high=ssl.TLSVersion.TLSv1_3, suites="ALL:@SECLEVEL=0")


def test_a_server_accepting_tls_1_0_to_1_3_is_not_compliant(all_versions, certs):
    status, report = audited(certs, all_versions)
    assert status == 2
    assert report["protocols"] == {"TLSv1": True, "TLSv1.1": True, "TLSv1.2": True, "TLSv1.3": True}
    assert report["profile"] == "tls12+" and report["compliant"] is False
    critical = [f["text"] for f in report["findings"] if f["level"] == "critical"]
    assert critical == ["TLSv1 is accepted", "TLSv1.1 is accepted"]
    assert report["certificate"]["chain_verified"] and report["certificate"]["host_matches"]


def test_a_server_of_tls_1_2_only_with_modern_suites_is_compliant(servers, certs):
    url = serve(servers, certs, low=ssl.TLSVersion.TLSv1_2, high=ssl.TLSVersion.TLSv1_2, suites=MODERN_SUITES)
    status, report = audited(certs, url)
    assert report["protocols"] == {"TLSv1": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": False}
    assert report["weak_suites"] == []
    assert {s["name"] for s in report["tls12_suites"]} == {
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"}
    assert report["hsts"] == {"max_age": 63072000, "include_subdomains": True, "preload": False}
    assert report["ocsp_stapling"] is False  # asked for, none sent
    assert (status, report["compliant"], report["findings"]) == (0, True, [])
    assert report["certificate"]["key_type"] == "ECDSA secp256r1"
    assert report["certificate"]["signature_algorithm"] == "ecdsa-with-SHA256"
    # Mozilla's intermediate list holds these three suites: compliant there too
    status, report = audited(certs, url, "--profile", "intermediate")
    assert (status, report["profile"], report["findings"]) == (0, "intermediate", [])


def test_a_server_of_tls_1_3_only_is_compliant_and_has_no_tls_1_2_suites(servers, certs):
    url = serve(servers, certs, low=ssl.TLSVersion.TLSv1_3, high=ssl.TLSVersion.TLSv1_3)
    status, report = audited(certs, url)
    assert report["protocols"] == {"TLSv1": False, "TLSv1.1": False, "TLSv1.2": False, "TLSv1.3": True}
    assert report["negotiated"] == "TLSv1.3"
    assert (status, report["compliant"], report["tls12_suites"], report["findings"]) == (0, True, [], [])


def test_a_server_of_tls_1_0_and_1_1_only_is_audited_and_not_compliant(servers, certs):
    url = serve(servers, certs, low=ssl.TLSVersion.TLSv1, high=ssl.TLSVersion.TLSv1_1, suites="ALL:@SECLEVEL=0")
    status, report = audited(certs, url)
    assert report["protocols"] == {"TLSv1": True, "TLSv1.1": True, "TLSv1.2": False, "TLSv1.3": False}
    assert (status, report["negotiated"], report["tls12_suites"]) == (2, "TLSv1.1", [])
    assert [f["code"] for f in report["findings"] if f["level"] == "critical"] == [
        "old_protocol", "old_protocol", "no_modern_protocol"]
    assert report["certificate"]["chain_verified"] and report["hsts"]["max_age"] == 63072000


def test_weak_suites_are_flagged_as_warnings_and_break_the_intermediate_profile(servers, certs):
    url = serve(servers, certs, "rsa", ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2,
                "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0")
    status, report = audited(certs, url)
    assert report["weak_suites"] == [{"name": "AES128-SHA", "forward_secrecy": False, "cbc": True,
                                      "sha1_mac": True, "export": False, "anonymous": False,
                                      "null_encryption": False}]
    assert [f["text"] for f in report["findings"]] == [
        "TLS 1.2 suite AES128-SHA: no forward secrecy, CBC, SHA-1 MAC"]
    assert (status, report["compliant"]) == (1, True)
    assert report["certificate"]["key_type"] == "RSA" and report["certificate"]["key_bits"] == 2048
    status, report = audited(certs, url, "--profile", "intermediate")
    assert (status, report["compliant"]) == (2, False)
    assert [f["code"] for f in report["findings"]] == ["suite_outside_profile"]


@pytest.mark.parametrize("which, code", [("expired", "certificate_expired"), ("wrong_host", "host_name_mismatch"),
                                         ("untrusted", "chain_not_verified")])
def test_a_certificate_not_valid_for_the_host_name_is_not_compliant(servers, certs, which, code):
    url = serve(servers, certs, which, suites=MODERN_SUITES)
    status, report = audited(certs, url)
    assert (status, report["compliant"]) == (2, False)
    assert [f["code"] for f in report["findings"]] == [code]


def test_no_hsts_is_a_warning_and_the_table_says_so(servers, certs):
    url = serve(servers, certs, suites=MODERN_SUITES, headers={})
    done = probe("tls-audit", "--ca-file", certs.ca_file, url)
    assert done.returncode == 1
    assert "verdict         compliant, with warnings\n" in done.stdout  # a warning is no breach
    assert "HSTS            none" in done.stdout
    assert "warning: no Strict-Transport-Security header" in done.stdout


def ocsp_response(certs) -> bytes:
    """A good OCSP response for the `good` certificate, signed by the test CA."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    issuer = x509.load_pem_x509_certificate(certs.ca.cert_pem.bytes())
    key = serialization.load_pem_private_key(certs.ca.private_key_pem.bytes(), None)
    leaf = x509.load_pem_x509_certificate(certs.good.cert_chain_pems[0].bytes())
    now = dt.datetime.now(dt.timezone.utc)
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=leaf, issuer=issuer, algorithm=hashes.SHA256(), cert_status=ocsp.OCSPCertStatus.GOOD,
        this_update=now, next_update=now + dt.timedelta(days=1), revocation_time=None, revocation_reason=None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_a_stapled_ocsp_response_is_seen(tmp_path, certs):
    """OpenSSL's own server, stapling the response it is given when the client asks for one."""
    response = tmp_path / "ocsp.der"
    response.write_bytes(ocsp_response(certs))
    server = OpenSSLServer(tmp_path, certs.good, "-www", "-status_file", str(response))
    try:
        report = audit(f"https://localhost:{server.port}/", ca_file=certs.ca_file)
    finally:
        server.stop()
    assert report["ocsp_stapling"] is True
    assert report["protocols"]["TLSv1.2"] and report["protocols"]["TLSv1.3"]
    assert [f["code"] for f in report["findings"] if f["level"] == "critical"] == []


def test_a_server_that_cannot_be_audited_exits_3_and_says_why(certs):
    url = f"https://127.0.0.1:{refused_port()}/"
    done = probe("tls-audit", "--json", url)
    assert done.returncode == 3
    report = json.loads(done.stdout)
    assert report["url"] == url and report["error"].startswith("cannot connect to 127.0.0.1")


def test_a_bad_url_is_a_usage_error():
    done = probe("tls-audit", "http://example.com/")
    assert done.returncode == 3 and done.stderr.startswith("probe: ")


def test_the_library_call_gives_the_same_verdict(all_versions, certs):
    report = audit(all_versions, ca_file=certs.ca_file)
    assert report["level"] == "not_compliant"


@pytest.mark.parametrize("value, parsed", [
    ("max-age=31536000", {"max_age": 31536000, "include_subdomains": False, "preload": False}),
    ('max-age="600"; includeSubDomains; preload', {"max_age": 600, "include_subdomains": True, "preload": True}),
    ("MAX-AGE=0", {"max_age": 0, "include_subdomains": False, "preload": False}),
    ("includeSubDomains", None),
    ("max-age=soon", None),
])
def test_hsts_header_parsing(value, parsed):
    assert parse_hsts(value) == parsed
