"""The client's status page, `[web] public = true`: / and /feed.atom served without the bearer
token (/metrics and /status.json keep it), with display names and no URLs, control endpoints
left out; current incidents and maintenance as banners, 90 days of bars; French or English
(``?lang=``, else `[report] language`)."""

from __future__ import annotations

import asyncio
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from aiohttp import web

from probe.config import Config
from probe.labels import ERROR_LABELS, format_duration
from probe.render import LANGUAGES, MESSAGES, PUBLIC_MESSAGES, make_environment
from probe.report import public
from probe.store import Store
from probe.text import local_stamp, printable

PUBLIC_PATHS = frozenset({"/", "/feed.atom"})  # served without the token in public mode
ATOM = "http://www.w3.org/2005/Atom"
TTL = 30.0  # seconds a computed model is served again
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def is_public(config: Config, path: str) -> bool:
    return config.web.public and path in PUBLIC_PATHS


def language(request: web.Request, config: Config) -> str:
    asked = request.query.get("lang", "")
    return asked if asked in LANGUAGES else config.report.language


class PublicCache:
    """The public model, over the status page's (``status``: its coroutine), every TTL at most."""

    def __init__(self, view: object, status: Callable[[], Awaitable[dict]], ttl: float = TTL) -> None:
        self.view = view
        self.status = status
        self.ttl = ttl
        self._model: dict | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> dict:
        async with self._lock:
            if self._model is not None and time.monotonic() - self._at < self.ttl:
                return self._model
            rows = (await self.status())["endpoints"]
            cfg = self.view.config  # type: ignore[attr-defined]
            model = await asyncio.to_thread(self._compute, cfg, self.view.store_path, rows)  # type: ignore[attr-defined]
            self._model, self._at = model, time.monotonic()
            return model

    @staticmethod
    def _compute(cfg: Config, path: str, rows: list[dict]) -> dict:
        with Store.open(path) as store:
            return public.collect(store, cfg, time.time(), rows)


def add_routes(app: web.Application, view: object, cache: PublicCache, template_dir=None) -> None:
    async def feed(request: web.Request) -> web.Response:
        if not view.config.web.public:  # type: ignore[attr-defined]
            raise web.HTTPNotFound(text="no feed: the status page is not public ([web] public = true)\n")
        cfg = view.config  # type: ignore[attr-defined]
        # the self link is relative: the listener's own address (behind a proxy) is no one's business
        lang = language(request, cfg)
        asked = "lang" in request.query and request.query["lang"] == lang
        body = atom_feed(await cache.get(), cfg, lang, f"feed.atom?lang={lang}" if asked else "feed.atom")
        return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")

    app.router.add_get("/feed.atom", feed)


async def page(request: web.Request, view: object, cache: PublicCache, template_dir=None) -> web.Response:
    cfg: Config = view.config  # type: ignore[attr-defined]
    lang = language(request, cfg)
    model = await cache.get()
    env = make_environment(lang, template_dir, cfg.sla.timezone)
    words = {**MESSAGES[lang], **PUBLIC_MESSAGES[lang]}
    html = env.get_template("public.html").render(
        model=model, lang=lang, t=words, causes=ERROR_LABELS[lang],
        title=cfg.report.title_in(lang) or words["status_title"], provider=cfg.report.provider,
    )
    return web.Response(text=html, content_type="text/html", headers={"Content-Security-Policy": CSP})


# ---------------------------------------------------------------- the Atom feed (RFC 4287)


def atom_feed(model: dict, cfg: Config, lang: str, self_url: str) -> bytes:
    """Incidents and maintenance windows as Atom 1.0 entries, newest first. Ids are stable
    URNs (UUIDs derived from the site and the record), times UTC, every text escaped."""
    words = PUBLIC_MESSAGES[lang]
    title = cfg.report.title_in(lang) or words["status_title"]
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": lang})
    _text(feed, "id", _urn(cfg, "feed"))
    _text(feed, "title", title)
    entries = [_incident_entry(item, cfg, lang) for item in model["incidents"]]
    entries += [_maintenance_entry(item, cfg, lang) for item in model["maintenance"]]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    _text(feed, "updated", _utc(entries[0][0] if entries else _epoch(model["generated"])))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", cfg.report.provider or title)
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": self_url, "type": "application/atom+xml"})
    page = "./" + self_url[len("feed.atom"):]  # the status page, in the feed's language
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "href": page, "type": "text/html"})
    _text(feed, "generator", "probe")
    for _, entry in entries:
        feed.append(entry)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _incident_entry(item: dict, cfg: Config, lang: str) -> tuple[float, ET.Element]:
    words = PUBLIC_MESSAGES[lang]
    cause = item["summary"] or ERROR_LABELS[lang].get(item["cause"] or "", "")
    head = words["feed_incident"] if item["ongoing"] else words["feed_resolved"]
    title = f"{head}{_colon(lang)}{item['endpoint']}" + (f" ({cause})" if cause else "")
    lines = [f"{words['since'].capitalize()} {_local(item['start'], cfg)}" if item["ongoing"] else
             f"{_local(item['start'], cfg)} – {_local(item['end'], cfg)} "
             f"({words['lasted']} {format_duration(item['duration_seconds'], lang)})",
             f"{words[item['severity']]}" + (f" · {words['cause']}{_colon(lang)}{cause}" if cause else "")]
    updated = _epoch(item["updated"])
    return updated, _entry(_urn(cfg, f"incident/{item['source']}/{item['id']}"), title, updated, _epoch(item["start"]),
                           "\n".join(lines))


def _maintenance_entry(item: dict, cfg: Config, lang: str) -> tuple[float, ET.Element]:
    words = PUBLIC_MESSAGES[lang]
    head = words["feed_cancelled"] if item["cancelled"] else words["feed_maintenance"]
    who = ", ".join(item["endpoints"]) if item["endpoints"] is not None else words["all_services"]
    lines = [f"{_local(item['start'], cfg)} – {_local(item['end'], cfg)}", who]
    updated = _epoch(item["updated"])
    key = f"maintenance/{item['id']}/{int(_epoch(item['start']))}"
    return updated, _entry(_urn(cfg, key), f"{head}{_colon(lang)}{item['reason'] or who}", updated,
                           _epoch(item["start"]),
                           "\n".join(lines))


def _entry(urn: str, title: str, updated: float, published: float, content: str) -> ET.Element:
    entry = ET.Element(f"{{{ATOM}}}entry")
    _text(entry, "id", urn)
    _text(entry, "title", title)
    _text(entry, "updated", _utc(updated))
    _text(entry, "published", _utc(min(published, updated)))
    content_element = _text(entry, "content", content)
    content_element.set("type", "text")
    return entry


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    # control characters would make the XML invalid; line breaks are kept
    element.text = "\n".join(printable(line) for line in text.split("\n"))
    return element


def _colon(lang: str) -> str:
    return "\u00a0: " if lang == "fr" else ": "  # French puts a space before a colon


def _urn(cfg: Config, key: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"probe:{cfg.probe.site}:{key}").urn


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(iso: str, cfg: Config) -> str:
    return local_stamp(_epoch(iso), cfg.sla.timezone)
