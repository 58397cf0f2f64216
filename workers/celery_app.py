"""The Celery entry point: ``celery -A workers.celery_app worker`` and, once,
``celery -A workers.celery_app beat``."""
import fcntl
import logging
import os

from celery.signals import beat_init

from casework import create_app
from workers.schedule import beat_schedule

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.conf.beat_schedule = beat_schedule(flask_app.config)
celery_app.conf.include = ["workers.tasks"]

import workers.tasks  # noqa: E402,F401  (registers the tasks with this app)

log = logging.getLogger(__name__)
_held = []  # the open lock file of this process's beat, kept open for its lifetime


@beat_init.connect
def _one_beat_per_schedule(sender, **_kwargs) -> None:
    """A second beat on the same schedule file (a restarted bin/serve whose old beat lives on,
    an operator's slip) would send every periodic task twice: it stops at once instead. The
    lock goes with the process, however it ends."""
    path = f"{sender.schedule_filename}.lock"
    handle = open(path, "a")  # noqa: SIM115 - held open on purpose
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.error("another beat already runs on %s; this one stops", sender.schedule_filename)
        logging.shutdown()
        os._exit(3)  # not an exception: Celery's signal dispatch would catch it
    _held.append(handle)
