"""Sending one outgoing notification: email over SMTP, or a signed webhook.

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
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app

from casework.accounts.models import Company
from casework.extensions import db
from casework.notifications.models import Notification

SIGNATURE_HEADER = "Casework-Signature"


class DeliveryError(Exception):
    """A failed attempt, with what to record (the status or the error)."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_body(notification: Notification) -> bytes:
    document = {"id": notification.id, "kind": notification.kind.value,
                "created_at": notification.created_at.isoformat(),
                "subject": notification.subject, "data": notification.payload}
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


def send_webhook(notification: Notification) -> str:
    company = db.session.get(Company, notification.company_id)
    body = webhook_body(notification)
    request = urllib.request.Request(notification.address, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Casework-Webhook/1",
        "Casework-Delivery": str(notification.id),
        "Casework-Event": notification.kind.value,
    })
    if company is not None and company.webhook_secret:
        request.add_header(SIGNATURE_HEADER, sign(company.webhook_secret, int(time.time()), body))
    timeout = current_app.config["CASEWORK_WEBHOOK_TIMEOUT_SECONDS"]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return str(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}", status=str(exc.code)) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None


def send_email(notification: Notification) -> str:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["CASEWORK_MAIL_FROM"]
    message["To"] = notification.address
    message["Subject"] = notification.subject
    message["Date"] = formatdate(localtime=False)
    domain = config["CASEWORK_MAIL_FROM"].rpartition("@")[2] or "casework.local"
    # A stable id per notification lets a mail client recognise a repeat.
    message["Message-ID"] = f"<notification-{notification.id}@{domain}>"
    message["X-Casework-Notification"] = str(notification.id)
    message.set_content(notification.body)
    try:
        with smtplib.SMTP(config["CASEWORK_SMTP_HOST"], config["CASEWORK_SMTP_PORT"],
                          timeout=config["CASEWORK_SMTP_TIMEOUT_SECONDS"]) as smtp:
            if config["CASEWORK_SMTP_STARTTLS"]:
                smtp.starttls()
            if config["CASEWORK_SMTP_USER"]:
                smtp.login(config["CASEWORK_SMTP_USER"], config["CASEWORK_SMTP_PASSWORD"])
            smtp.send_message(message)
        return "250"
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {exc.smtp_code}", status=str(exc.smtp_code)) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
