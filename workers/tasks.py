"""Thin tasks: call an operation, commit, and ring for delivery when something was written.

Every task is idempotent (the sweep's alerts and the outbox's claims make a repeat harmless),
acknowledged late and retried with exponential backoff when the database or broker fails.
"""
from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from casework.accounts.operations import purge_expired_tokens, purge_login_failures
from casework.cases.checkpoints import sign_checkpoint
from casework.common.idempotency import purge_records
from casework.deadlines.operations import send_digests as write_digests
from casework.deadlines.operations import sweep
from casework.extensions import db
from casework.notifications.delivery import BATCH, MAX_BATCHES, deliver_batches

RETRY = dict(autoretry_for=(OperationalError, ConnectionError), retry_backoff=True,
             retry_backoff_max=600, retry_jitter=True, max_retries=None)


@shared_task(name="workers.tasks.sweep_deadlines", **RETRY)
def sweep_deadlines() -> dict:
    report = sweep()
    db.session.commit()
    if report.raised:
        deliver_notifications.delay()
    return report.raised


@shared_task(name="workers.tasks.send_digests", **RETRY)
def send_digests() -> int:
    written = write_digests()
    db.session.commit()
    if written:
        deliver_notifications.delay()
    return written


@shared_task(name="workers.tasks.deliver_notifications", **RETRY)
def deliver_notifications(batch: int = BATCH, max_batches: int = MAX_BATCHES) -> int:
    # Each sent row is committed on its own inside deliver_batches: a send is an outside
    # effect, and its record must not wait for the rest of the batch. A run that used all its
    # batches hands the backlog to the next run at once instead of leaving it to beat.
    sent, more = deliver_batches(batch, max_batches)
    if more:
        deliver_notifications.delay(batch=batch, max_batches=max_batches)
    return sent


@shared_task(name="workers.tasks.housekeeping", **RETRY)
def housekeeping() -> dict:
    """Drops what only mattered for a while: idempotency keys a week old, stale login failures,
    expired API tokens."""
    purged = {"idempotency_records": purge_records(older_than_days=7),
              "login_failures": purge_login_failures(),
              "expired_tokens": purge_expired_tokens()}
    db.session.commit()
    return purged


@shared_task(name="workers.tasks.sign_audit_checkpoint", **RETRY)
def sign_audit_checkpoint() -> int:
    """Signs the head of every case history (see casework.cases.checkpoints)."""
    checkpoint = sign_checkpoint()
    db.session.commit()
    return checkpoint.case_count
