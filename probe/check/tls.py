"""TLS facts and failures: the peer certificate's facts, and a verification failure told in words."""

from __future__ import annotations

import ssl


class _HandshakeFailed(Exception):
    """The TLS handshake failed with `exc` (an ssl.SSLError or an OSError)."""

    def __init__(self, exc: BaseException):
        super().__init__(str(exc))
        self.exc = exc


# X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_NAME_MISMATCH = (62, 64)


def _cert_reason(exc: ssl.SSLCertVerificationError, host: str) -> str:
    if exc.verify_code in _NAME_MISMATCH:  # a name in the Common Name alone does not count
        return f"the certificate names {host} in no subjectAltName"
    reason = exc.verify_message or exc.reason or str(exc)
    return f"certificate rejected: {reason.rstrip('.')}"


def _name(rdns) -> str | None:
    """An X.509 name as OpenSSL-style 'CN=example.com, O=Example'."""
    if not rdns:
        return None
    short = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU",
             "countryName": "C", "localityName": "L", "stateOrProvinceName": "ST"}
    parts = [f"{short.get(key, key)}={value}" for rdn in rdns for key, value in rdn]
    return ", ".join(parts)


_CERT_FACTS_MAX = 1024


_cert_facts_by_der: dict[bytes, dict] = {}


def tls_facts(ssl_object) -> dict:
    """The TLS facts of a verified connection. A certificate's facts depend on its bytes alone,
    so they are decoded once per distinct certificate (decoding costs more than the rest)."""
    der = ssl_object.getpeercert(binary_form=True)
    cert_facts = _cert_facts_by_der.get(der) if der else None
    if cert_facts is None:
        cert_facts = _cert_facts(ssl_object.getpeercert() or {})
        if der:
            if len(_cert_facts_by_der) >= _CERT_FACTS_MAX:
                _cert_facts_by_der.clear()
            _cert_facts_by_der[der] = cert_facts
    cipher = ssl_object.cipher()
    return {
        "tls_version": ssl_object.version(),
        "tls_cipher": cipher[0] if cipher else None,
        **cert_facts,
    }


def _cert_facts(cert: dict) -> dict:
    not_after = ssl.cert_time_to_seconds(cert["notAfter"]) if "notAfter" in cert else None
    return {
        "cert_not_after": float(not_after) if not_after is not None else None,
        "cert_issuer": _name(cert.get("issuer")),
        "cert_subject": _name(cert.get("subject")),
    }
