"""Spec section 3: every trigger of the case lifecycle, fired by the role that may fire it.

After each step the case must be in the right state, have entered it when the trigger fired,
carry the deadline the spec sets on entry, have a new version, and have exactly one new event
(who, which role, from where to where, the note) chained to the one before.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pytest

from casework import clock
from casework.accounts.models import User
from tests.support import District, local_day

GENESIS = "0" * 64


def end_of_local_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min,
                            clock.local_zone()).astimezone(timezone.utc)


def parse(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None


@dataclass
class Step:
    before: dict
    after: dict
    event: dict
    fired_from: datetime
    fired_until: datetime


def fired(d: District, user: User, case_id: int, trigger: str, **fields) -> Step:
    """Fires one trigger and checks what every successful trigger must do."""
    before, events_before = d.case(case_id), d.events(case_id)
    fired_from = datetime.now(timezone.utc)
    response = d.as_(user).fire(case_id, trigger, expected_version=before["version"], **fields)
    fired_until = datetime.now(timezone.utc)
    assert response.status_code == 200, response.get_json()
    after = response.get_json()
    assert after == {**d.case(case_id), "allowed_triggers": after["allowed_triggers"]}
    assert after["version"] == before["version"] + 1
    events = d.events(case_id)
    assert len(events) == len(events_before) + 1, "exactly one event per trigger"
    event = events[-1]
    assert event["seq"] == events_before[-1]["seq"] + 1
    assert event["trigger"] == trigger
    assert (event["from_state"], event["to_state"]) == (before["state"], after["state"])
    assert (event["actor"], event["role"]) == (user.username, user.role.value)
    assert event["note"] == fields.get("note", "")
    assert event["prev_hash"] == events_before[-1]["hash"]
    assert event["hash"] not in {e["hash"] for e in events_before}
    return Step(before, after, event, fired_from, fired_until)


@pytest.fixture
def district(api, make) -> District:
    return District(api, make)


def assert_entered_now(step: Step) -> datetime:
    entered = parse(step.after["state_entered_at"])
    assert step.fired_from <= entered <= step.fired_until
    return entered


def assert_due_in_days(step: Step, days: int) -> None:
    entered = assert_entered_now(step)
    assert parse(step.after["due_at"]) == entered + timedelta(days=days)


def assert_due_end_of(step: Step, day: date) -> None:
    assert_entered_now(step)
    assert parse(step.after["due_at"]) == end_of_local_day(day)
    assert step.event["data"]["deadline"] == day.isoformat()


def assert_no_deadline(step: Step) -> None:
    assert_entered_now(step)
    assert step.after["due_at"] is None
    assert step.after["overdue"] is False


# Bringing a case to a state along the spec's own path, every step checked -----------------

def walked_to(d: District, state: str) -> int:
    return d.case_in(state, owner_name="演示户主",
                     fire=lambda *given, **fields: fired(d, *given, **fields).after)["id"]


def verified(d: District) -> int:
    return walked_to(d, "ownership_verified")


def negotiated(d: District) -> int:
    return walked_to(d, "negotiated")


def demolished(d: District) -> int:
    return walked_to(d, "demolished")


def closed(d: District) -> int:
    return walked_to(d, "closed")


def disputed(d: District) -> int:
    return walked_to(d, "disputed")


# The walks ---------------------------------------------------------------------------------

def test_a_new_case_is_identified_with_seven_days_to_verify_ownership(district):
    before = datetime.now(timezone.utc)
    case = district.new_case(owner_name="演示户主")
    after = datetime.now(timezone.utc)
    assert case["state"] == "identified"
    entered = parse(case["state_entered_at"])
    assert before <= entered <= after
    assert parse(case["due_at"]) == entered + timedelta(days=7)
    [event] = district.events(case["id"])
    assert (event["seq"], event["trigger"], event["from_state"], event["to_state"]) == (
        1, "create", None, "identified")
    assert event["prev_hash"] == GENESIS
    assert (event["actor"], event["role"]) == (district.officer.username, "officer")


def test_verify_ownership_gives_fourteen_days_to_negotiate(district):
    case_id = district.new_case(owner_name="演示户主")["id"]
    district.attach(case_id, "ownership_doc")
    step = fired(district, district.officer, case_id, "verify_ownership", note="房产证已核对")
    assert step.after["state"] == "ownership_verified"
    assert_due_in_days(step, 14)


def test_verify_ownership_of_an_unknown_owner_with_a_public_notice(district):
    case_id = district.new_case(owner_unknown=True)["id"]
    district.attach(case_id, "notice")
    step = fired(district, district.supervisor, case_id, "verify_ownership", note="公告无人认领")
    assert step.after["state"] == "ownership_verified"
    assert_due_in_days(step, 14)


def test_negotiate_sets_the_given_deadline_to_the_end_of_that_day_in_the_district(district):
    case_id = verified(district)
    district.attach(case_id, "notice")
    day = local_day(20)
    step = fired(district, district.officer, case_id, "negotiate", note="已送达限期拆除通知书",
                         deadline=day.isoformat())
    assert step.after["state"] == "negotiated"
    assert_due_end_of(step, day)


def test_the_longest_allowed_deadline_is_ninety_days(district):
    case_id = verified(district)
    district.attach(case_id, "agreement")
    day = local_day(90)
    step = fired(district, district.officer, case_id, "negotiate", deadline=day.isoformat())
    assert_due_end_of(step, day)


@pytest.mark.parametrize("method", ["self", "company"])
def test_demolish_gives_three_days_to_inspect(district, method):
    case_id = negotiated(district)
    district.attach(case_id, "after_photo")
    step = fired(district, district.officer, case_id, "demolish", method=method, note="已拆除")
    assert step.after["state"] == "demolished"
    assert step.event["data"]["method"] == method
    assert_due_in_days(step, 3)


def test_enforced_demolition_after_the_deadline_and_a_supervisors_approval(district):
    case_id = negotiated(district)
    district.make.set_due_at(case_id, -1)
    past_due = district.case(case_id)
    assert past_due["overdue"] is True
    assert "approve_enforcement" in past_due["allowed_triggers"]

    approval = fired(district, district.supervisor, case_id, "approve_enforcement",
                             note="逾期未拆，批准强制拆除")
    assert approval.after["state"] == "negotiated"
    assert approval.after["due_at"] == past_due["due_at"], "approval leaves the deadline alone"
    assert approval.after["state_entered_at"] == past_due["state_entered_at"]

    district.attach(case_id, "after_photo")
    step = fired(district, district.officer, case_id, "demolish", method="enforced",
                         note="依法强制拆除")
    assert step.after["state"] == "demolished"
    assert step.event["data"]["method"] == "enforced"
    assert_due_in_days(step, 3)


def test_close_ends_the_deadline(district):
    case_id = demolished(district)
    step = fired(district, district.supervisor, case_id, "close", note="验收合格")
    assert step.after["state"] == "closed"
    assert_no_deadline(step)
    assert step.after["allowed_triggers"] == ["reopen"]


@pytest.mark.parametrize("start", [demolished, closed], ids=["from_demolished", "from_closed"])
def test_reopen_returns_to_negotiated_with_the_new_deadline(district, start):
    case_id = start(district)
    day = local_day(15)
    step = fired(district, district.supervisor, case_id, "reopen", note="复查不达标，重新施工",
                         deadline=day.isoformat())
    assert step.after["state"] == "negotiated"
    assert_due_end_of(step, day)


@pytest.mark.parametrize("start", [verified, negotiated],
                         ids=["from_ownership_verified", "from_negotiated"])
def test_dispute_gives_thirty_days_to_resolve(district, start):
    case_id = start(district)
    step = fired(district, district.officer, case_id, "dispute", note="户主对产权有异议")
    assert step.after["state"] == "disputed"
    assert_due_in_days(step, 30)


def test_resolve_dispute_returns_to_ownership_verified_with_fourteen_days(district):
    case_id = disputed(district)
    step = fired(district, district.supervisor, case_id, "resolve_dispute", note="经调解产权明确")
    assert step.after["state"] == "ownership_verified"
    assert_due_in_days(step, 14)


@pytest.mark.parametrize("start", [lambda d: d.new_case()["id"], verified, disputed],
                         ids=["from_identified", "from_ownership_verified", "from_disputed"])
def test_dismiss_a_lawful_structure_for_good(district, start):
    case_id = start(district)
    district.attach(case_id, "ownership_doc")
    step = fired(district, district.supervisor, case_id, "dismiss", note="已取得规划许可，属合法建筑")
    assert step.after["state"] == "dismissed"
    assert_no_deadline(step)
    assert step.after["allowed_triggers"] == []


def test_a_full_history_is_one_unbroken_hash_chain_that_audit_verify_accepts(district, runner):
    case_id = closed(district)
    day = local_day(5)
    fired(district, district.supervisor, case_id, "reopen", note="复查不达标", deadline=day.isoformat())
    events = district.events(case_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["prev_hash"] for e in events] == [GENESIS] + [e["hash"] for e in events[:-1]]
    assert [e["trigger"] for e in events if e["trigger"] != "attach"] == [
        "create", "verify_ownership", "negotiate", "demolish", "close", "reopen"]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "All 1 case histories verify." in result.output
