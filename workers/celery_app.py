"""The Celery entry point: ``celery -A workers.celery_app worker -B`` (or ``worker`` and
``beat`` as separate processes in production)."""
from casework import create_app
from workers.schedule import beat_schedule

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.conf.beat_schedule = beat_schedule(flask_app.config)
celery_app.conf.include = ["workers.tasks"]

import workers.tasks  # noqa: E402,F401  (registers the tasks with this app)
