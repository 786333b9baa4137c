"""An incident's cause in the reader's language.

A check records why it failed in English (`CheckResult.error`, kept as written in the database
and the JSON report: it is evidence). The report reads it in its own language: each message a
check can produce is recognised here by its pattern and said again in words; one that no
pattern knows is said by its error class alone, so no English sentence reaches a French page.
What people wrote (the summary of an incident recorded by hand) is shown as written.
"""

from __future__ import annotations

import re

from probe.labels import ERROR_LABELS, NBSP

# Operating-system and OpenSSL reasons that checks quote, in French.
_REASONS_FR = {
    "connection refused": "connexion refusée",
    "connection reset": "connexion réinitialisée",
    "connection reset by the server": "connexion coupée par le serveur",
    "no route to host": "aucune route vers l’hôte",
    "network is unreachable": "réseau injoignable",
    "connection timed out": "délai de connexion dépassé",
    "name or service not known": "nom inconnu",
    "no address associated with hostname": "aucune adresse pour ce nom",
    "temporary failure in name resolution": "échec temporaire de la résolution",
    "certificate has expired": "le certificat a expiré",
    "certificate is not yet valid": "le certificat n’est pas encore valide",
    "self-signed certificate": "certificat auto-signé",
    "self signed certificate": "certificat auto-signé",
    "self-signed certificate in certificate chain": "certificat auto-signé dans la chaîne",
    "self signed certificate in certificate chain": "certificat auto-signé dans la chaîne",
    "unable to get local issuer certificate": "autorité émettrice inconnue",
    "unable to verify the first certificate": "chaîne de certificats incomplète",
    "certificate revoked": "certificat révoqué",
    "hostname mismatch": "nom d’hôte non couvert par le certificat",
    "the server did not answer with tls (wrong version number)": "le serveur n’a pas répondu en TLS",
    "server closed the connection without answering": "le serveur a fermé la connexion sans répondre",
    "connection closed in the middle of the response head": "connexion fermée au milieu de l’en-tête de la réponse",
}

_PHASES_FR = {
    "DNS lookup": "résolution DNS",
    "TCP connect": "connexion TCP",
    "TLS handshake": "négociation TLS",
    "waiting for the response": "attente de la réponse",
    "reading the body": "lecture du corps de la réponse",
}


def _reason(text: str) -> str | None:
    return _REASONS_FR.get(text.strip().rstrip(".").lower())


def _with_reason(lead: str, reason: str) -> str:
    said = _reason(reason)
    return f"{lead}{NBSP}: {said}" if said else lead


def _timeout(m: re.Match[str]) -> str:
    rest = m["rest"]
    hop = re.match(r"redirect (\d+) to \S+: ", rest)
    where = ""
    if hop:
        where = f"à la redirection {hop[1]}, "
        rest = rest[hop.end():]
    interim = re.match(r"only an interim answer \(HTTP (\d+)\) came, ", rest)
    if interim:
        where += f"seule une réponse intermédiaire (HTTP {interim[1]}) est arrivée, "
        rest = rest[interim.end():]
    phase = _PHASES_FR.get(rest)
    seconds = m["after"].replace("ms", f"{NBSP}ms").replace(".", ",")
    if seconds.endswith("s") and not seconds.endswith("ms"):
        seconds = seconds[:-1] + f"{NBSP}s"
    return f"délai de {seconds} dépassé" + (f"{NBSP}: {where}{phase}" if phase else "")


def _bad_answer(m: re.Match[str]) -> str:
    detail = m["detail"]
    switched = re.fullmatch(r"the server switched protocols \(HTTP (\d+)\)", detail)
    if switched:
        return f"réponse HTTP invalide{NBSP}: le serveur a changé de protocole (HTTP {switched[1]})"
    interim = re.match(r"only an interim answer \(HTTP (\d+)\)", detail)
    if interim:
        return f"réponse HTTP invalide{NBSP}: seule une réponse intermédiaire (HTTP {interim[1]})"
    if detail.startswith("redirected to a bad URL"):
        return f"réponse HTTP invalide{NBSP}: redirection vers une adresse invalide"
    if detail.startswith("TLS error"):
        return f"réponse HTTP invalide{NBSP}: erreur TLS"
    return _with_reason("réponse HTTP invalide", detail)


# (pattern of the English message, its French wording): the first that matches wins.
_FRENCH: list[tuple[re.Pattern[str], object]] = [
    (re.compile(r"cannot resolve (?P<host>[^\s:]+): (?P<reason>.*)"),
     lambda m: _with_reason(f"le nom {m['host']} ne se résout pas", m["reason"])),
    (re.compile(r"cannot resolve (?P<rest>.*)"), lambda m: "le nom ne se résout pas"),
    (re.compile(r"cannot connect to (?P<where>\S+): (?P<reason>.*)"),
     lambda m: _with_reason(f"connexion impossible à {m['where']}", m["reason"])),
    (re.compile(r"the certificate names (?P<host>\S+) in no subjectAltName"),
     lambda m: f"le certificat ne nomme pas {m['host']} (aucun subjectAltName ne le contient)"),
    (re.compile(r"certificate rejected: (?P<reason>.*)"),
     lambda m: _with_reason("certificat refusé", m["reason"])),
    (re.compile(r"server offers (?P<version>.+) at most"),
     lambda m: f"le serveur n’offre au mieux que {m['version']}"),
    (re.compile(r"the server speaks only HTTP/2.*"),
     lambda m: "le serveur ne parle que HTTP/2 (HTTP/1.1 refusé)"),
    (re.compile(r"TLS handshake failed: (?P<reason>.*)"),
     lambda m: _with_reason("échec de la négociation TLS", m["reason"])),
    (re.compile(r"timed out after (?P<after>[\d.]+m?s): (?P<rest>.*)"), _timeout),
    (re.compile(r"bad HTTP answer: (?P<detail>.*)"), _bad_answer),
    (re.compile(r"body broken off: connection closed after (?P<size>\d+)(?: of (?P<of>\d+))?.*bytes"),
     lambda m: f"corps de la réponse interrompu{NBSP}: connexion fermée après {m['size']} octets"),
    (re.compile(r"redirected to a non-HTTPS URL: .*"), lambda m: "redirection vers une adresse non HTTPS"),
    (re.compile(r"more than (?P<n>\d+) redirects"), lambda m: f"plus de {m['n']} redirections"),
    (re.compile(r"cannot send the request: .*"), lambda m: "la requête n’a pas pu être envoyée"),
    (re.compile(r"connection failed: (?P<reason>.*)"),
     lambda m: _with_reason("connexion échouée", m["reason"])),
    (re.compile(r"HTTP (?P<status>\d+)"), lambda m: f"HTTP {m['status']}"),
    (re.compile(r"HTTP (?P<status>\d+), expected (?P<expected>[\d,-]+)"),
     lambda m: f"HTTP {m['status']}, attendu {m['expected']}"),
    (re.compile(r"the (?:first 1 MiB of the )?body(?: \((?P<size>\d+) bytes\))? does not contain (?P<text>.*)", re.S),
     lambda m: f"la réponse ne contient pas {m['text']}"),
    (re.compile(r".*: (?P<text>.*) cannot be looked for", re.S),
     lambda m: f"la réponse n’a pu être décodée pour y chercher {m['text']}"),
    (re.compile(r"took (?P<ms>\d+)ms, over max_latency (?P<limit>\S+)"),
     lambda m: f"réponse en {m['ms']}{NBSP}ms, au-delà du seuil de {_seconds_fr(m['limit'])}"),
    (re.compile(r"certificate expires in (?P<days>-?\d+) days \((?P<when>[\d-]+)\)"),
     lambda m: f"le certificat expire dans {m['days']}{NBSP}jours ({m['when']})"),
]


def _seconds_fr(text: str) -> str:
    if text.endswith("ms"):
        return text[:-2].replace(".", ",") + f"{NBSP}ms"
    return text.rstrip("s").replace(".", ",") + f"{NBSP}s"


_URL = re.compile(r"\b(?:https?)://\S+", re.I)


def cause_text(summary: str | None, error_class: str | None, lang: str, source: str = "detected",
               show_urls: bool = True) -> str:
    """The cause of an incident as the report shows it in ``lang``. ``summary`` is what the
    check recorded (English) or, for ``source == "manual"``, what a person wrote. Without
    ``show_urls``, a URL a check quoted (a redirect's target) is left out."""
    if source == "manual":
        return summary or ""
    if lang == "en":
        text = summary or ERROR_LABELS[lang].get(error_class or "", "")
        return text if show_urls else _URL.sub("…", text)
    if summary:
        text = summary.strip()
        for pattern, wording in _FRENCH:
            match = pattern.fullmatch(text)
            if match:
                return wording(match)  # type: ignore[operator]
    return ERROR_LABELS[lang].get(error_class or "", error_class or "")


# The English messages known to reach a report, for the test that no French page shows them.
ENGLISH_MARKERS = ("cannot resolve", "cannot connect", "in no subjectAltName",
                   "certificate rejected", "at most", "TLS handshake failed", "timed out after",
                   "bad HTTP answer", "body broken off", "redirected to", "redirects", "cannot send",
                   "connection failed", "expected", "does not contain", "took ", "max_latency",
                   "certificate expires", "connection refused")
