"""The command line: users create, demo, and the demo's histories verifying."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from casework import clock
from casework.accounts.models import Company, Role, User
from casework.campaign.models import CampaignChange
from casework.cases.models import Case, CaseEvent, CaseState
from casework.evidence.models import Attachment
from casework.extensions import db
from casework.places.models import Compound, Zone


def test_users_create_makes_missing_zones_and_logs_in(runner, client):
    result = runner.invoke(args=["users", "create", "li.officer", "--role", "officer",
                                 "--password", "secret-pass-1", "--zone", "Z7", "--zone", "Z8"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "li.officer"))
    assert user.role is Role.OFFICER
    assert sorted(z.code for z in user.zones) == ["Z7", "Z8"]
    assert "secret-pass-1" not in user.password_hash
    response = client.post("/api/v1/auth/login",
                           json={"username": "li.officer", "password": "secret-pass-1"})
    assert response.status_code == 200
    assert [z["code"] for z in response.get_json()["user"]["zones"]] == ["Z7", "Z8"]


def test_users_create_company_user_creates_the_company(runner):
    result = runner.invoke(args=["users", "create", "anju", "--role", "company",
                                 "--password", "secret-pass-1", "--company", "安居物业"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "anju"))
    assert user.company.name == "安居物业"
    assert db.session.scalar(select(func.count()).select_from(Company)) == 1


def test_users_create_refuses_bad_combinations(runner):
    duplicate = ["users", "create", "dup", "--role", "admin", "--password", "secret-pass-1"]
    assert runner.invoke(args=duplicate).exit_code == 0
    again = runner.invoke(args=duplicate)
    assert again.exit_code != 0 and "already exists" in again.output
    no_company = runner.invoke(args=["users", "create", "c1", "--role", "company",
                                     "--password", "secret-pass-1"])
    assert no_company.exit_code != 0 and "company" in no_company.output
    short = runner.invoke(args=["users", "create", "s1", "--role", "officer", "--password", "x"])
    assert short.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_demo_loads_a_district_in_every_state_with_verifiable_histories(runner):
    result = runner.invoke(args=["demo", "--password", "demo-pass-1", "--structures", "300"])
    assert result.exit_code == 0, result.output
    assert "Every demo user has the password: demo-pass-1" in result.output
    assert db.session.scalar(select(func.count()).select_from(Zone)) == 9
    assert db.session.scalar(select(func.count()).select_from(Compound)) == 93
    assert db.session.scalar(select(func.count()).select_from(Case)) == 300
    states = set(db.session.scalars(select(Case.state).distinct()))
    assert states == set(CaseState)
    roles = set(db.session.scalars(select(User.role).distinct()))
    assert roles == set(Role)
    # Histories were made by the real operations: a closed case has the full path.
    closed = db.session.scalar(select(Case).where(Case.state == CaseState.CLOSED).limit(1))
    triggers = list(db.session.scalars(select(CaseEvent.trigger)
                                       .where(CaseEvent.case_id == closed.id)
                                       .order_by(CaseEvent.seq)))
    assert [t for t in triggers if t != "attach"] == [
        "create", "verify_ownership", "negotiate", "demolish", "close"]
    assert db.session.scalar(select(func.count()).select_from(Attachment)
                             .where(Attachment.case_id == closed.id)) >= 3
    # Some deadlines have passed and some have not, as on a real board.
    open_cases = db.session.scalars(select(Case).where(Case.state.not_in(
        [CaseState.CLOSED, CaseState.DISMISSED]))).all()
    assert any(c.overdue for c in open_cases) and not all(c.overdue for c in open_cases)

    # The demo campaign: ten weeks in, eight to go; some zones ahead of it, some at risk, and
    # closures spread over the past weeks.
    progress = json.loads(runner.invoke(args=["report", "progress", "--format", "json"]).output)
    today = clock.local_today()
    assert progress["campaign"]["start"] == (today - timedelta(weeks=10)).isoformat()
    assert progress["campaign"]["end"] == (today + timedelta(weeks=8)).isoformat()
    risks = [zone["at_risk"] for zone in progress["zones"]]
    assert True in risks and False in risks
    weekly = [week["closed"] for week in progress["overall"]["series"]]
    assert len(weekly) == 11 and sum(1 for closed in weekly if closed) >= 6
    assert db.session.scalar(select(func.count()).select_from(CampaignChange)) == 2

    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "All 300 case histories verify." in verify.output

    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "already has cases" in again.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == 300
