"""Celery, the Flask way: every task runs inside an application context.

The broker is only a doorbell (spec section 12): deadlines live in columns and notifications in
the outbox, and beat rescans both, so a lost or repeated message changes nothing.
"""
from __future__ import annotations

import logging

from celery import Celery, Task
from flask import Flask

log = logging.getLogger(__name__)

DELIVER_TASK = "workers.tasks.deliver_notifications"


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        task_default_queue=app.config["CASEWORK_CELERY_QUEUE"],
        task_ignore_result=True,
        # A task is acknowledged only when done, and given back if its worker dies; tasks are
        # idempotent, so running one twice is harmless and losing one is not.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        timezone=app.config["CASEWORK_TIMEZONE"],
        enable_utc=True,
        worker_hijack_root_logger=False,
    )
    if app.config["CELERY_BROKER_URL"].startswith(("redis://", "rediss://")):
        # An unacknowledged task goes back to the queue after this long (the sweep and the
        # outbox rescan make a late or repeated task harmless). The SQLAlchemy transport
        # would pass this option on to create_engine, so it is set for Redis only.
        celery_app.conf.broker_transport_options = {"visibility_timeout": 3600}
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def ring_doorbell(app: Flask) -> None:
    """Asks a worker to deliver the outbox now. Failing to ask is only logged: the beat's
    periodic rescan delivers the rows anyway, once the broker is back."""
    if not app.config["CASEWORK_RING_DOORBELL"]:
        return
    try:
        app.extensions["celery"].send_task(DELIVER_TASK, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure is survivable here
        log.warning("could not reach the broker to ask for delivery: %s", type(exc).__name__)
