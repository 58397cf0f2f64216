"""Two real Celery worker processes on this machine's Redis each run a deadline sweep at the
same moment: every reminder and escalation still happens once."""
from __future__ import annotations

import os
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.deadlines.models import Alert
from casework.notifications.models import Channel, Notification
from tests.servers import CeleryWorker, wait_until

MACHINE_REDIS = os.environ.get("CASEWORK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(MACHINE_REDIS, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def machine_redis():
    if not _redis_answers():
        if os.environ.get("CI") == "true" or os.environ.get("CASEWORK_REQUIRE_SERVICES"):
            pytest.fail(f"Redis at {MACHINE_REDIS} is unreachable")
        pytest.skip(f"no Redis at {MACHINE_REDIS}")
    return MACHINE_REDIS


def _notifications() -> Counter:
    db.session.expire_all()
    rows = db.session.execute(select(Notification.user_id, Notification.kind).where(
        Notification.channel == Channel.INBOX)).all()
    db.session.commit()  # release SQLite's writer lock for the workers
    return Counter((user_id, kind.value) for user_id, kind in rows)


def test_two_workers_sweeping_at_once_raise_each_alert_once(app, api, make, database_url,
                                                             machine_redis, tmp_path):
    zone = make.zone()
    officer = make.user("officer", [zone])
    chiefs = [make.user("supervisor", [zone]) for _ in range(2)]
    elsewhere = make.user("supervisor", [make.zone()])
    cases = [api.as_(officer).create_case(make.compound(zone), owner_name="演示户主")
             for _ in range(5)]
    for case in cases:  # deadlines passed more than the second-escalation delay ago
        make.set_due_at(case["id"], -4)
    ids = {"officer": officer.id, "chiefs": [c.id for c in chiefs], "elsewhere": elsewhere.id}
    db.session.commit()

    queue = f"casework-test-{uuid.uuid4().hex[:12]}"  # this test's own queue on the shared Redis
    env = {"DATABASE_URL": database_url, "CELERY_BROKER_URL": machine_redis,
           "CASEWORK_CELERY_QUEUE": queue, "CASEWORK_INSTANCE_DIR": str(tmp_path),
           "CASEWORK_UPLOAD_DIR": app.config["CASEWORK_UPLOAD_DIR"]}
    workers = [CeleryWorker(env, tmp_path / f"sweeper{n}.log", beat=False).start()
               for n in range(2)]
    try:
        # Both must be listening before the sweeps are sent, or the first could take them all.
        wait_until(lambda: all(" ready." in w.output() for w in workers), 60,
                   lambda: "\n".join(w.output()[-2000:] for w in workers))
        celery = app.extensions["celery"]
        celery.conf.broker_url = machine_redis
        for _ in range(4):  # two each: the workers race on the same due cases
            celery.send_task("workers.tasks.sweep_deadlines", queue=queue)

        def all_raised() -> bool:
            db.session.expire_all()
            count = len(db.session.scalars(select(Alert.id)).all())
            db.session.commit()
            return count == len(cases) * 3
        wait_until(all_raised, 90, lambda: "\n".join(w.output()[-2000:] for w in workers))
        wait_until(lambda: all("succeeded" in w.output() for w in workers), 60,
                   "both workers to run a sweep")
        wait_until(lambda: sum(w.output().count("sweep_deadlines") for w in workers) >= 8, 60,
                   "every sweep to finish")
    finally:
        for worker in workers:
            worker.stop()

    counts = _notifications()
    expected = Counter()
    for case in cases:
        expected[(ids["officer"], "overdue")] += 1
        for chief in ids["chiefs"]:
            expected[(chief, "escalation")] += 1
            expected[(chief, "second_escalation")] += 1
    assert counts == expected
    assert not any(user == ids["elsewhere"] for user, _ in counts)


def test_a_delivery_run_that_used_all_its_batches_hands_the_backlog_on_without_beat(
        app, make, database_url, machine_redis, tmp_path):
    """No beat runs here: only the first run is sent, and each run that ends with a full batch
    enqueues the next, until the outbox is empty."""
    from casework import clock
    from casework.notifications.models import NotificationKind
    from tests.servers import WebhookReceiver

    receiver = WebhookReceiver("whsec-test-0002").start()
    company = make.user("company", company="安居物业").company
    company.webhook_url, company.webhook_secret = receiver.url, "whsec-test-0002"
    now = clock.now()
    rows = [Notification(channel=Channel.WEBHOOK, kind=NotificationKind.REMINDER,
                         company_id=company.id, address=receiver.url, subject=f"Reminder {n}",
                         body="Due soon.", payload={"n": n}, created_at=now, next_attempt_at=now)
            for n in range(7)]
    db.session.add_all(rows)
    db.session.commit()
    ids = sorted(row.id for row in rows)
    db.session.commit()  # end the read so SQLite's writer lock is free for the worker

    queue = f"casework-test-{uuid.uuid4().hex[:12]}"
    env = {"DATABASE_URL": database_url, "CELERY_BROKER_URL": machine_redis,
           "CASEWORK_CELERY_QUEUE": queue, "CASEWORK_INSTANCE_DIR": str(tmp_path),
           "CASEWORK_UPLOAD_DIR": app.config["CASEWORK_UPLOAD_DIR"]}
    worker = CeleryWorker(env, tmp_path / "deliverer.log", beat=False).start()
    try:
        wait_until(lambda: " ready." in worker.output(), 60, lambda: worker.output()[-2000:])
        celery = app.extensions["celery"]
        celery.conf.broker_url = machine_redis
        celery.send_task("workers.tasks.deliver_notifications", queue=queue,
                         kwargs={"batch": 2, "max_batches": 1})
        wait_until(lambda: len(receiver.accepted) == len(ids), 60,
                   lambda: worker.output()[-3000:])
        # 2 + 2 + 2 + 1: the fourth run's batch is not full, so it enqueues no fifth.
        wait_until(lambda: worker.output().count("deliver_notifications") >= 8, 30,
                   lambda: worker.output()[-3000:])
    finally:
        worker.stop()
        receiver.stop()
    assert sorted(int(hook["delivery"]) for hook in receiver.accepted) == ids
    runs = [line for line in worker.output().splitlines()
            if "deliver_notifications" in line and "succeeded" in line]
    assert len(runs) == 4
