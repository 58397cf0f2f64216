"""The beat schedule, in one place."""
from __future__ import annotations

from celery.schedules import crontab


def beat_schedule(config) -> dict:
    return {
        "sweep-deadlines": {
            "task": "workers.tasks.sweep_deadlines",
            "schedule": float(config["CASEWORK_SWEEP_INTERVAL_SECONDS"]),
        },
        # The rescan that makes the broker a mere doorbell: rows whose ring was lost, whose
        # retry time has come, or whose worker died holding them are delivered here.
        "deliver-outbox": {
            "task": "workers.tasks.deliver_notifications",
            "schedule": float(config["CASEWORK_DELIVERY_INTERVAL_SECONDS"]),
        },
        "housekeeping": {
            "task": "workers.tasks.housekeeping",
            "schedule": crontab(hour=3, minute=17),
        },
        # A signed checkpoint of every case history's head, that audit verify holds them to.
        "audit-checkpoint": {
            "task": "workers.tasks.sign_audit_checkpoint",
            "schedule": crontab(hour=config["CASEWORK_CHECKPOINT_HOUR"],
                                minute=config["CASEWORK_CHECKPOINT_MINUTE"]),
        },
        "morning-digest": {
            "task": "workers.tasks.send_digests",
            "schedule": crontab(hour=config["CASEWORK_DIGEST_HOUR"],
                                minute=config["CASEWORK_DIGEST_MINUTE"]),
        },
    }
