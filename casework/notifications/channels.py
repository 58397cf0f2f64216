"""Sending one outgoing notification: email over SMTP, or a signed webhook.

Senders get an ``Outgoing`` snapshot, not a database row: a send happens outside any
transaction, so a slow mail server or webhook never holds a database lock.

Webhooks carry ``Casework-Signature: t=<unix time>,v1=<hex>`` where ``v1`` is
HMAC-SHA256, keyed with the company's webhook secret, over ``"<t>." + body`` (the raw bytes).
A receiver recomputes it, compares in constant time and refuses a ``t`` older than a few
minutes (README: "Verifying webhooks").
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from casework.settings import setting, settings

SIGNATURE_HEADER = "Casework-Signature"


@dataclass(frozen=True)
class Outgoing:
    id: int
    channel: str
    kind: str
    address: str
    subject: str
    body: str
    payload: dict[str, Any]
    created_at: datetime
    secret: str | None


class DeliveryError(Exception):
    """A failed attempt, with what to record (the status or the error)."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not an acceptance: following it would re-send the body as a GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_body(outgoing: Outgoing) -> bytes:
    document = {"id": outgoing.id, "kind": outgoing.kind,
                "created_at": outgoing.created_at.isoformat(),
                "subject": outgoing.subject, "data": outgoing.payload}
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


def send_webhook(outgoing: Outgoing) -> str:
    body = webhook_body(outgoing)
    try:
        request = urllib.request.Request(outgoing.address, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Casework-Webhook/1",
            "Casework-Delivery": str(outgoing.id),
            "Casework-Event": outgoing.kind,
        })
        if outgoing.secret:
            request.add_header(SIGNATURE_HEADER, sign(outgoing.secret, int(time.time()), body))
        timeout = setting("CASEWORK_WEBHOOK_TIMEOUT_SECONDS")
        with _opener.open(request, timeout=timeout) as response:
            return str(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}", status=str(exc.code)) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None


def send_email(outgoing: Outgoing) -> str:
    config = settings()
    try:
        message = EmailMessage()
        message["From"] = config["CASEWORK_MAIL_FROM"]
        message["To"] = outgoing.address
        message["Subject"] = outgoing.subject
        message["Date"] = formatdate(localtime=False)
        domain = config["CASEWORK_MAIL_FROM"].rpartition("@")[2] or "casework.local"
        # A stable id per notification lets a mail client recognise a repeat.
        message["Message-ID"] = f"<notification-{outgoing.id}@{domain}>"
        message["X-Casework-Notification"] = str(outgoing.id)
        message.set_content(outgoing.body)
    except (ValueError, TypeError) as exc:
        raise DeliveryError(f"cannot build the message: {exc}") from None
    try:
        with smtplib.SMTP(config["CASEWORK_SMTP_HOST"], config["CASEWORK_SMTP_PORT"],
                          timeout=config["CASEWORK_SMTP_TIMEOUT_SECONDS"]) as smtp:
            if config["CASEWORK_SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["CASEWORK_SMTP_USER"]:
                smtp.login(config["CASEWORK_SMTP_USER"], config["CASEWORK_SMTP_PASSWORD"])
            smtp.send_message(message)
        return "250"
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {exc.smtp_code}", status=str(exc.smtp_code)) from None
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None


SENDERS = {"email": send_email, "webhook": send_webhook}
