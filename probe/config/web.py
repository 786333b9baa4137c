"""The ``[web]`` section: what `probe run --listen` serves to whom."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .fields import Where, read_bool, read_value, reject_unknown

WEB_KEYS = {"public"}


@dataclass(frozen=True)
class WebSettings:
    # true: the status page (/) and its feed (/feed.atom) are the client's, served without the
    # bearer token, with display names and no URLs; /metrics and /status.json keep the token
    public: bool = False


def parse_web(table: dict[str, Any], where: Where) -> WebSettings:
    reject_unknown(table, WEB_KEYS, where, "web")
    return WebSettings(public=read_value(table, "public", read_bool, where, "web", False))
