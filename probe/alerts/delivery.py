"""Sending one message: a JSON POST to a webhook, or an e-mail over SMTP; `probe alert test`."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # annotations only: the client is imported when a message is sent
    import aiohttp
from probe.config import AlertSettings, Email, Webhook
from probe.spec import tls_context

from .messages import trial_message

log = logging.getLogger("probe.alerts")


class DeliveryError(Exception):
    """A failed attempt; ``permanent`` when trying again cannot help (a 4xx, a 5xx SMTP reply)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


async def deliver(channel: Webhook | Email, message: dict, session: aiohttp.ClientSession) -> None:
    """One attempt to send one message through one channel; DeliveryError says why not."""
    if isinstance(channel, Webhook):
        await _post(channel, message, session)
    else:
        try:
            await asyncio.to_thread(_send_mail, channel, message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"every recipient refused: {_smtp_reasons(exc.recipients)}", True) from None
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise DeliveryError(f"SMTP {exc.smtp_code} {reply}".strip(), exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise DeliveryError(_describe(exc)) from None


async def _post(channel: Webhook, message: dict, session: aiohttp.ClientSession) -> None:
    import aiohttp  # here: reading a config must not load the HTTP client

    payload = {"text": message["text"], **message["fields"]}
    try:
        async with session.post(
            channel.url,
            json=payload,
            headers=dict(channel.headers),
            ssl=tls_context(channel.ca_file, "1.2"),
            timeout=aiohttp.ClientTimeout(total=channel.timeout),
            allow_redirects=False,  # a redirect must not carry the headers elsewhere
        ) as response:
            if 200 <= response.status < 300:
                return
            permanent = 400 <= response.status < 500 and response.status not in (408, 425, 429)
            raise DeliveryError(f"HTTP {response.status} {response.reason or ''}".strip(), permanent)
    except asyncio.TimeoutError:
        raise DeliveryError(f"no answer within {channel.timeout:g}s") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise DeliveryError(_describe(exc)) from None


def _send_mail(channel: Email, message: dict) -> None:
    mail = EmailMessage()
    mail["Subject"] = header_text(message["subject"])  # a name's line break must not refuse it
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.recipients)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=parseaddr(channel.sender)[1].rpartition("@")[2] or None)
    mail.set_content(message["body"])
    with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout) as smtp:
        smtp.ehlo()
        if channel.starttls:
            smtp.starttls(context=tls_context(channel.ca_file, "1.2"))
            smtp.ehlo()
        if channel.username is not None:
            smtp.login(channel.username, cast(str, channel.password))  # the config has both or neither
        refused = smtp.send_message(mail)
    if refused:
        log.warning("alert mail via %s: some recipients refused: %s", channel.name, _smtp_reasons(refused))


def header_text(text: str) -> str:
    """A header value on one line: line breaks and other control characters become spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _smtp_reasons(recipients: dict) -> str:
    return "; ".join(f"{who}: {code}" for who, (code, _) in recipients.items())


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:300]


def send_test(settings: AlertSettings) -> list[tuple[str, bool, str]]:
    """``probe alert test``: one test message through each channel, now, without the outbox.
    Returns (channel, ok, "sent" or why not) per channel."""

    import aiohttp

    async def all_channels():
        async with aiohttp.ClientSession() as session:
            async def one(channel):
                try:
                    await deliver(channel, trial_message(), session)
                except DeliveryError as exc:
                    return channel.name, False, str(exc)
                return channel.name, True, "sent"

            return await asyncio.gather(*(one(c) for c in settings.channels.values()))

    return list(asyncio.run(all_channels()))
