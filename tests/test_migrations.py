"""Migrations on a database that holds data, not only on an empty one: a district upgrades the
database it has been working in."""
from __future__ import annotations

import pytest
from flask_migrate import check, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from casework import create_app
from casework.extensions import db
from casework.notifications.models import Channel, Notification, NotificationKind
from tests.conftest import BACKENDS, POSTGRES_URL, _drop_postgres_database
from tests.support import Api, Factory


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgraded.db'}"
        return
    url = POSTGRES_URL.replace("_test_", "_upgraded_")
    _drop_postgres_database(url, create=True)
    yield url
    _drop_postgres_database(url, create=False)


def test_work_orders_that_notifications_point_at_take_their_case_zone_in_0017(
        empty_database, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True,
                      "CASEWORK_UPLOAD_DIR": str(tmp_path / "uploads")})
    with app.app_context():
        upgrade(revision="0016")
        make = Factory(app)
        zone = make.zone()
        officer = make.user("officer", [zone])
        zone_id, officer_id = zone.id, officer.id
        company_id = make.user("company", company="迁移测试物业").company_id
        case = Api(app.test_client(), make).as_(officer).create_case(make.compound(zone))
        # A work order as 0016 wrote it (no zone), and an inbox row that points at it: on
        # SQLite, rebuilding the table under that row failed its foreign key.
        order_id = db.session.execute(text(
            "INSERT INTO workorders (case_id, company_id, kind, state, note, created_by_id, "
            "version, created_at, updated_at) VALUES (:case, :company, 'clear_debris', "
            "'assigned', '', :officer, 1, :now, :now) RETURNING id"),
            {"case": case["id"], "company": company_id, "officer": officer_id,
             "now": case["created_at"]}).scalar_one()
        db.session.add(Notification(channel=Channel.INBOX, kind=NotificationKind.TRANSITION,
                                    user_id=officer_id, workorder_id=order_id, subject="派单",
                                    body="派单"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

        upgrade()

        assert db.session.execute(text("SELECT zone_id FROM workorders WHERE id = :id"),
                                  {"id": order_id}).scalar_one() == zone_id
        assert db.session.execute(text("SELECT count(*) FROM notifications "
                                       "WHERE workorder_id = :id"), {"id": order_id}).scalar() == 1
        with pytest.raises(IntegrityError, match="zone_id"):
            db.session.execute(text(
                "INSERT INTO workorders (case_id, company_id, kind, state, note, created_by_id, "
                "version, created_at, updated_at) VALUES (:case, :company, 'clear_debris', "
                "'assigned', '', :officer, 1, :now, :now)"),
                {"case": case["id"], "company": company_id, "officer": officer_id,
                 "now": case["created_at"]})
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_the_models_and_the_migrations_describe_the_same_schema(empty_database, tmp_path):
    """``flask db check``: on a database migrated from empty, autogenerate finds nothing to
    add (a column NOT NULL in the model is NOT NULL in the migrated table, and so on)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True,
                      "CASEWORK_UPLOAD_DIR": str(tmp_path / "uploads")})
    with app.app_context():
        upgrade()
        check()  # exits with status 1 when it finds a difference
        db.engine.dispose()
