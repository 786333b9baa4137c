"""The verdict of a TLS audit against a profile. `tls12+` is the contract's "TLS 1.2": no protocol
below TLS 1.2 accepted, a certificate valid for the host name (chain verified, not expired).
`intermediate` is Mozilla's Server Side TLS "intermediate" configuration (version 5): TLS 1.2 and
1.3 only, its TLS 1.2 suites only, an RSA key of 2048 bits or more or an ECDSA key.

A finding is `critical` (the server is not compliant) or `warning` (compliant, but worth
fixing: weak suites, no HSTS, a certificate about to expire)."""

from __future__ import annotations

PROFILES = ("tls12+", "intermediate")

# Mozilla Server Side TLS 5.x, intermediate: the TLS 1.2 suites (OpenSSL names)
MOZILLA_INTERMEDIATE_SUITES = frozenset({
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
})
CERT_WARN_DAYS = 14
MIN_RSA_BITS = 2048
# RFC 6797 sets no floor; a year is what browsers' preload lists ask for
HSTS_MIN_SECONDS = 365 * 86400


def _finding(level: str, code: str, text: str, subject: str | None = None) -> dict:
    """A finding: its level, a code (the report words it per language), the text in English,
    and what it is about (a protocol, a suite, a date...), quoted as it is in any language."""
    return {"level": level, "code": code, "text": text, "subject": subject}


def _weakness(suite: dict) -> str:
    """What makes a TLS 1.2 suite weak, in words, or "" when nothing does."""
    flags = [label for flagged, label in ((not suite["forward_secrecy"], "no forward secrecy"),
                                          (suite["cbc"], "CBC"), (suite["sha1_mac"], "SHA-1 MAC"),
                                          (suite["export"], "export-grade"),
                                          (suite["anonymous"], "anonymous"),
                                          (suite["null_encryption"], "no encryption")) if flagged]
    return ", ".join(flags)


def _protocol_findings(facts: dict, profile: str) -> list[dict]:
    found = []
    for name in ("TLSv1", "TLSv1.1"):
        if facts["protocols"].get(name):
            found.append(_finding("critical", "old_protocol", f"{name} is accepted", name))
    if not facts["protocols"].get("TLSv1.2") and not facts["protocols"].get("TLSv1.3"):
        found.append(_finding("critical", "no_modern_protocol", "neither TLS 1.2 nor TLS 1.3 is accepted"))
    return found


def _suite_findings(facts: dict, profile: str) -> list[dict]:
    found = []
    for suite in facts["tls12_suites"]:
        if profile == "intermediate" and suite["name"] not in MOZILLA_INTERMEDIATE_SUITES:
            found.append(_finding("critical", "suite_outside_profile",
                                  f"TLS 1.2 suite {suite['name']} is not in Mozilla's intermediate list",
                                  suite["name"]))
        elif weakness := _weakness(suite):
            found.append(_finding("warning", "weak_suite", f"TLS 1.2 suite {suite['name']}: {weakness}",
                                  suite["name"]))
    return found


def _certificate_findings(cert: dict, profile: str) -> list[dict]:
    found = []
    if cert["expired"]:
        found.append(_finding("critical", "certificate_expired", f"the certificate expired on {cert['not_after'][:10]}",
                              cert["not_after"][:10]))
    elif not cert["chain_verified"]:
        what = "the chain is incomplete or its issuer unknown" if cert["chain_incomplete"] else "the chain does not verify"
        found.append(_finding("critical", "chain_not_verified", f"{what}: {cert['chain_problem']}",
                              cert["chain_problem"]))
    elif cert["days_left"] < CERT_WARN_DAYS:
        found.append(_finding("warning", "certificate_expires_soon",
                              f"the certificate expires on {cert['not_after'][:10]}", cert["not_after"][:10]))
    if not cert["host_matches"]:
        found.append(_finding("critical", "host_name_mismatch", "the certificate is not valid for the host name"))
    if cert["key_type"] == "RSA" and (cert["key_bits"] or 0) < MIN_RSA_BITS:
        level = "critical" if profile == "intermediate" else "warning"
        found.append(_finding(level, "weak_key", f"RSA key of {cert['key_bits']} bits", f"RSA {cert['key_bits']}"))
    signature = (cert["signature_algorithm"] or "").lower()
    if "sha1" in signature or "md5" in signature:
        found.append(_finding("warning", "weak_signature", f"certificate signed with {cert['signature_algorithm']}",
                              cert["signature_algorithm"]))
    return found


def _hsts_findings(hsts: dict | None) -> list[dict]:
    if hsts is None:
        return [_finding("warning", "no_hsts", "no Strict-Transport-Security header")]
    if hsts["max_age"] < HSTS_MIN_SECONDS:
        return [_finding("warning", "short_hsts", f"HSTS max-age of {hsts['max_age']} s is under a year",
                         f"max-age={hsts['max_age']}")]
    return []


def judge(facts: dict, profile: str) -> dict:
    """facts with the profile, the findings, `compliant` (no critical finding) and `level`
    (compliant, warning or not_compliant)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (one of {', '.join(PROFILES)})")
    findings = [*_protocol_findings(facts, profile), *_suite_findings(facts, profile),
                *_certificate_findings(facts["certificate"], profile), *_hsts_findings(facts["hsts"])]
    compliant = not any(f["level"] == "critical" for f in findings)
    level = "not_compliant" if not compliant else "warning" if findings else "compliant"
    return {**facts, "profile": profile, "compliant": compliant, "level": level, "findings": findings}
