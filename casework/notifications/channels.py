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
import os
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import requests
from requests.adapters import HTTPAdapter

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
    attempts: int = 0  # before this one


class DeliveryError(Exception):
    """A failed attempt, with what to record (the status or the error)."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


_sessions: dict[int, requests.Session] = {}


def _session() -> requests.Session:
    """This process's HTTP session: its connections to each receiver are kept alive from one
    webhook to the next. One per process, as a pool must not be shared across a fork. It
    reads no proxy or credentials from the environment, and retries nothing itself (the
    outbox's backoff does)."""
    session = _sessions.get(os.getpid())
    if session is None:
        _sessions.clear()
        session = requests.Session()
        session.trust_env = False
        adapter = HTTPAdapter(pool_connections=32, pool_maxsize=4, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _sessions[os.getpid()] = session
    return session


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
    headers = {"Content-Type": "application/json; charset=utf-8",
               "User-Agent": "Casework-Webhook/1",
               "Casework-Delivery": str(outgoing.id),
               "Casework-Event": outgoing.kind}
    if outgoing.secret:
        headers[SIGNATURE_HEADER] = sign(outgoing.secret, int(time.time()), body)
    try:
        # A redirect is not an acceptance: following it would re-send the body elsewhere.
        response = _session().post(outgoing.address, data=body, headers=headers,
                                   timeout=setting("CASEWORK_WEBHOOK_TIMEOUT_SECONDS"),
                                   allow_redirects=False)
        response.close()
    except (requests.RequestException, OSError, ValueError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}", status=str(response.status_code))
    return str(response.status_code)


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
