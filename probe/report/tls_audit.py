"""An endpoint's TLS audits of the month, as the report shows them: how many were made and how
many were compliant with the profile, the findings (each with the audits it was found in), the
certificate's renewals, and the share of checks by negotiated TLS version."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from probe.store import Store, tls_audits

from .calendar import iso_local


def _share(counts: dict[str, int]) -> list[dict]:
    total = sum(counts.values())
    # newest version first; percent truncated (never rounded up) to one decimal
    return [{"version": version, "checks": count, "percent": int(count * 1000 / total) / 10}
            for version, count in sorted(counts.items(), reverse=True)]


WEAKNESSES = ("no_forward_secrecy", "cbc", "sha1_mac", "export", "anonymous", "null_encryption")


def _weaknesses(report: dict, suite: object) -> list[str]:
    """What makes a weak TLS 1.2 suite weak, as the audit recorded it (its flags), in order."""
    for facts in report.get("tls12_suites") or ():
        if isinstance(facts, dict) and facts.get("name") == suite:
            flags = {**facts, "no_forward_secrecy": facts.get("forward_secrecy") is False}
            return [weakness for weakness in WEAKNESSES if flags.get(weakness) is True]
    return []


def tls_audit_section(store: Store, name: str, counted: tuple[float, float], zone: ZoneInfo) -> dict:
    """The `tls_audit` object of an endpoint's section: the audits made in the counted part of
    the month (as of its end), and the checks' negotiated versions over the same span."""
    conn = store.db.conn
    audits = tls_audits.tls_audits(conn, name, counted[0], counted[1])
    made = [a for a in audits if a.outcome != "failed"]
    findings: dict[tuple[str, str], dict] = {}
    renewals = []
    serial = None
    for audit in made:
        for finding in audit.report.get("findings", []):
            key = (finding.get("level"), finding.get("text"))
            entry = findings.setdefault(key, {**finding, "audits": 0, "first_seen": iso_local(audit.at, zone)})
            if finding.get("code") == "weak_suite":
                entry["weaknesses"] = _weaknesses(audit.report, finding.get("subject"))
            entry["audits"] += 1
            entry["last_seen"] = iso_local(audit.at, zone)
        certificate = audit.report.get("certificate") or {}
        if serial is not None and certificate.get("serial") != serial:
            renewals.append({"date": iso_local(audit.at, zone), "not_after": certificate.get("not_after")})
        serial = certificate.get("serial", serial)
    last = made[-1].report if made else None
    return {
        "profile": audits[-1].profile if audits else None,
        "audits": len(made),
        "compliant_audits": sum(a.report.get("compliant") is True for a in made),
        "failed_audits": len(audits) - len(made),
        "first_audit": iso_local(audits[0].at, zone) if audits else None,
        "last_audit": iso_local(audits[-1].at, zone) if audits else None,
        "protocols": last["protocols"] if last else None,
        "certificate_not_after": (last.get("certificate") or {}).get("not_after") if last else None,
        "certificate_renewals": renewals,
        "findings": sorted(findings.values(), key=lambda f: (f["level"] != "critical", f["first_seen"])),
        "failures": [{"at": iso_local(a.at, zone), "error": a.report.get("error")} for a in audits
                     if a.outcome == "failed"][-10:],
        "negotiated_versions": _share(tls_audits.negotiated_versions(conn, name, counted[0], counted[1])),
    }
