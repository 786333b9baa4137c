"""The certificate of a TLS audit: key type and size, signature algorithm, validity dates, the
names it covers, and whether its chain verifies against the trust store."""

from __future__ import annotations

import ipaddress
import ssl
import warnings
from collections.abc import Callable
from datetime import timezone

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

# X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, _UNABLE_TO_GET_ISSUER_CERT: the server sent no
# intermediate that leads to a trusted root (or the root is not trusted here)
_INCOMPLETE = (20, 2)
_EXPIRED = 10


def verification_problem(handshake: Callable[[ssl.SSLContext], ssl.SSLSocket],
                         ca_file: str | None) -> dict | None:
    """None when the chain the server sends verifies against the trust store (ca_file, else the
    system's), else {"code", "reason", "incomplete"}. The host name is judged apart."""
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():  # an old version is allowed here when the server speaks no other
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    try:
        handshake(context).close()
    except ssl.SSLCertVerificationError as exc:
        reason = (exc.verify_message or exc.reason or str(exc)).rstrip(".")
        return {"code": exc.verify_code, "reason": reason, "incomplete": exc.verify_code in _INCOMPLETE}
    return None


def _key(cert: x509.Certificate) -> tuple[str, int | None]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, None


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [*san.get_values_for_type(x509.DNSName),
            *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))]


def host_matches(host: str, names: list[str]) -> bool:
    """RFC 9525: the host is one of the subjectAltNames, a wildcard standing for exactly one
    whole left-most label; an IP address matches an IP entry only."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return any(name == str(address) for name in names)
    host = host.rstrip(".").lower()
    for name in names:
        name = name.rstrip(".").lower()
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def certificate_facts(der: bytes, host: str, problem: dict | None, now: float) -> dict:
    cert = x509.load_der_x509_certificate(der)
    key_type, key_bits = _key(cert)
    not_after = cert.not_valid_after_utc
    names = _names(cert)
    signature = cert.signature_algorithm_oid._name  # e.g. sha256WithRSAEncryption, ecdsa-with-SHA256
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "key_type": key_type,
        "key_bits": key_bits,
        "signature_algorithm": signature,
        "not_before": cert.not_valid_before_utc.astimezone(timezone.utc).isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": int((not_after.timestamp() - now) // 86400),
        "expired": not_after.timestamp() < now,
        "names": names[:20],
        "host_matches": host_matches(host, names),
        "chain_verified": problem is None,
        "chain_incomplete": bool(problem and problem["incomplete"]),
        "chain_problem": None if problem is None else problem["reason"],
    }
