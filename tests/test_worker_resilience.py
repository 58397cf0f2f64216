"""A real Celery worker process, a Redis of the test's own and a real SMTP server: notifications
survive Redis going away and a worker being killed in the middle of deliveries."""
from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.notifications.models import Channel, Notification
from tests.servers import CeleryWorker, RedisServer, SmtpSink, wait_until


@pytest.fixture
def wired(app, database_url, tmp_path):
    """The application and worker environment pointing at one database, a private Redis and a
    real SMTP server."""
    redis = RedisServer().start()
    sink = SmtpSink()
    app.config.update(CASEWORK_SMTP_HOST="127.0.0.1", CASEWORK_SMTP_PORT=sink.port,
                      CASEWORK_RING_DOORBELL=True)
    app.extensions["celery"].conf.broker_url = redis.url
    env = {
        "DATABASE_URL": database_url, "CELERY_BROKER_URL": redis.url,
        "CASEWORK_UPLOAD_DIR": app.config["CASEWORK_UPLOAD_DIR"],
        "CASEWORK_INSTANCE_DIR": str(tmp_path), "CASEWORK_SMTP_HOST": "127.0.0.1",
        "CASEWORK_SMTP_PORT": str(sink.port), "CASEWORK_DELIVERY_INTERVAL_SECONDS": "1",
        "CASEWORK_SWEEP_INTERVAL_SECONDS": "3600", "CASEWORK_DELIVERY_LEASE_SECONDS": "4",
        "CASEWORK_DELIVERY_BACKOFF_SECONDS": "1",
    }
    workers: list[CeleryWorker] = []

    def worker() -> CeleryWorker:
        started = CeleryWorker(env, tmp_path / f"worker{len(workers)}.log").start()
        workers.append(started)
        return started

    yield redis, sink, worker
    for started in workers:
        started.stop()
    sink.stop()
    redis.stop()


def _email_rows() -> list[int]:
    db.session.expire_all()
    ids = sorted(db.session.scalars(select(Notification.id).where(
        Notification.channel == Channel.EMAIL)))
    db.session.commit()  # end the read so SQLite's writer lock is free for the worker
    return ids


def _sent() -> int:
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.channel == Channel.EMAIL, Notification.sent_at.is_not(None)))
    db.session.commit()  # end the read so SQLite's writer lock is free for the worker
    return count


def _busy_district(api, make, officers: int = 6) -> tuple[list[dict], object, object]:
    """Cases whose steps, taken by the zone's supervisor, email their officers."""
    zone = make.zone()
    boss = make.user("supervisor", [zone], email="boss@district.test")
    cases = []
    for n in range(officers):
        officer = make.user("officer", [zone], email=f"officer{n}@district.test")
        case = api.as_(officer).create_case(make.compound(zone), owner_name="演示户主")
        api.as_(officer).attach(case["id"], "ownership_doc")
        cases.append(case)
    return cases, boss, zone


def _verify_all(api, boss, cases) -> None:
    for case in cases:
        response = api.as_(boss).fire(case["id"], "verify_ownership")
        assert response.status_code == 200, response.get_json()


def test_nothing_is_lost_while_redis_is_down(api, make, wired):
    redis, sink, worker = wired
    sink.start()
    running = worker()
    cases, boss, _ = _busy_district(api, make)

    redis.stop()
    started = time.monotonic()
    _verify_all(api, boss, cases)  # the requests succeed: the outbox is in the database
    assert time.monotonic() - started < 30
    expected = _email_rows()
    assert len(expected) == len(cases)
    time.sleep(3)
    assert sink.messages == [] and _sent() == 0, "with no broker nothing can have been sent"

    redis.start()  # same port: the worker and beat reconnect by themselves
    wait_until(lambda: _sent() == len(expected), 90,
               lambda: f"delivery after Redis came back\n{running.output()[-3000:]}")
    time.sleep(3)  # a late duplicate would show up here
    assert Counter(sink.notification_ids()) == Counter({nid: 1 for nid in expected})
    assert sorted(m["To"] for m in sink.messages) == sorted(
        f"officer{n}@district.test" for n in range(len(cases)))


def test_a_killed_worker_s_rows_are_delivered_after_the_lease_and_none_twice(api, make, wired):
    redis, sink, worker = wired
    sink.hold_at = 3  # the server stalls on the third message: the worker is mid-delivery
    sink.start()
    cases, boss, _ = _busy_district(api, make, officers=8)
    _verify_all(api, boss, cases)
    expected = _email_rows()

    first = worker()
    wait_until(sink.holding.is_set, 60, lambda: f"the worker to start delivering\n{first.output()[-4000:]}")
    first.kill()  # SIGKILL to the worker and its beat, in the middle of deliveries
    sink.release()
    delivered_before = sink.notification_ids()
    assert len(delivered_before) == 2, "only the two messages the server answered are delivered"
    db.session.expire_all()
    claimed = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.channel == Channel.EMAIL, Notification.sent_at.is_(None),
        Notification.claimed_until.is_not(None)))
    db.session.commit()
    assert claimed == len(expected) - 2, "the dead worker still holds the rest of its batch"

    second = worker()
    wait_until(lambda: _sent() == len(expected), 90,
               lambda: f"delivery after the lease\n{second.output()[-3000:]}")
    time.sleep(3)
    assert Counter(sink.notification_ids()) == Counter({nid: 1 for nid in expected})
