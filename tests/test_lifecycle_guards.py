"""Spec sections 3, 8 and 9: what the lifecycle refuses, and that a refusal changes nothing.

A failed guard answers 422 ``guard_failed`` listing every rule that failed; a trigger that is
not valid from the current state answers 409 ``invalid_transition`` with the triggers that are;
a stale ``expected_version`` answers 409 ``stale_version``; the wrong role 403; a case outside
the user's zones 404. After each refusal the case and its history are exactly as before.
"""
from __future__ import annotations

import pytest

from casework.accounts.models import User
from tests.support import District, local_day


def seen(d: District, case_id: int) -> tuple[dict, list[dict]]:
    """The case and its history as its zone's supervisor sees them."""
    return d.case(case_id), d.events(case_id)


def refused(d: District, user: User, case_id: int, trigger: str, status: int, code: str,
            **fields) -> dict:
    """Fires a trigger that must be refused; returns the error after checking that the case,
    its version and its history did not change."""
    before = seen(d, case_id)
    response = d.as_(user).fire(case_id, trigger, **fields)
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert seen(d, case_id) == before, "a refused trigger changed the case"
    return body["error"]


def guard_failures(d: District, user: User, case_id: int, trigger: str, **fields) -> set[str]:
    error = refused(d, user, case_id, trigger, 422, "guard_failed", **fields)
    assert all(item["message"] for item in error["details"])
    rules = [item["rule"] for item in error["details"]]
    assert len(rules) == len(set(rules))
    return set(rules)


def day(days_from_today: int) -> str:
    """A deadline as a user gives it."""
    return local_day(days_from_today).isoformat()


@pytest.fixture
def d(api, make) -> District:
    return District(api, make)


# verify_ownership -------------------------------------------------------------------------

def test_verify_ownership_without_owner_or_evidence_lists_both_reasons(d):
    case_id = d.new_case()["id"]
    assert guard_failures(d, d.officer, case_id, "verify_ownership") == {
        "owner_identified", "ownership_evidence"}


def test_an_unknown_owner_needs_a_public_notice_not_just_a_document(d):
    case_id = d.new_case(owner_unknown=True)["id"]
    d.attach(case_id, "ownership_doc")
    assert guard_failures(d, d.officer, case_id, "verify_ownership") == {"owner_identified"}


def test_an_unknown_owner_with_a_public_notice_satisfies_the_owner_rule(d):
    case_id = d.new_case(owner_unknown=True)["id"]
    d.attach(case_id, "notice")
    assert d.fire(d.officer, case_id, "verify_ownership")["state"] == "ownership_verified"


# negotiate --------------------------------------------------------------------------------

@pytest.mark.parametrize("deadline, rule", [
    (None, "deadline_required"),
    (-1, "deadline_in_future"),
    (0, "deadline_in_future"),
    (91, "deadline_within_limit"),
], ids=["missing", "past", "today", "beyond_90_days"])
def test_negotiate_needs_a_future_deadline_within_90_days_and_an_agreement_or_notice(
        d, deadline, rule):
    case_id = d.case_in("ownership_verified")["id"]
    fields = {"deadline": day(deadline)} if deadline is not None else {}
    assert guard_failures(d, d.officer, case_id, "negotiate", **fields) == {
        rule, "agreement_or_notice"}
    d.attach(case_id, "notice")
    assert guard_failures(d, d.officer, case_id, "negotiate", **fields) == {rule}


# demolish and enforcement -----------------------------------------------------------------

def test_demolish_needs_an_after_photo_and_a_method(d):
    case_id = d.case_in("negotiated")["id"]
    assert guard_failures(d, d.officer, case_id, "demolish") == {"after_photo", "method_required"}


def test_enforced_demolition_before_the_deadline_and_without_approval_gives_both_reasons(d):
    case_id = d.case_in("negotiated")["id"]
    d.attach(case_id, "after_photo")
    assert guard_failures(d, d.officer, case_id, "demolish", method="enforced") == {
        "enforcement_deadline_passed", "enforcement_approved"}


def test_enforced_demolition_after_the_deadline_still_needs_a_supervisors_approval(d):
    case_id = d.case_in("negotiated")["id"]
    d.attach(case_id, "after_photo")
    d.make.set_due_at(case_id, -1)
    assert guard_failures(d, d.officer, case_id, "demolish", method="enforced") == {
        "enforcement_approved"}


def test_an_approval_given_before_a_reopen_does_not_count(d):
    case_id = d.case_in("negotiated")["id"]
    d.make.set_due_at(case_id, -1)
    d.fire(d.supervisor, case_id, "approve_enforcement", note="批准强制拆除")
    d.attach(case_id, "after_photo")
    d.fire(d.officer, case_id, "demolish", method="enforced")
    d.fire(d.supervisor, case_id, "reopen", note="复查不达标", deadline=day(5))
    d.make.set_due_at(case_id, -1)
    assert guard_failures(d, d.officer, case_id, "demolish", method="enforced") == {
        "enforcement_approved"}
    d.fire(d.supervisor, case_id, "approve_enforcement", note="再次批准")
    assert d.fire(d.officer, case_id, "demolish", method="enforced")["state"] == "demolished"


def test_approve_enforcement_waits_for_the_deadline_to_pass(d):
    case_id = d.case_in("negotiated")["id"]
    assert guard_failures(d, d.supervisor, case_id, "approve_enforcement") == {"deadline_passed"}


# close, reopen, dispute, resolve_dispute, dismiss -----------------------------------------

@pytest.mark.parametrize("note", ["", "   "], ids=["missing", "blank"])
def test_close_needs_an_inspection_note(d, note):
    case_id = d.case_in("demolished")["id"]
    assert guard_failures(d, d.supervisor, case_id, "close", note=note) == {"inspection_note"}


@pytest.mark.parametrize("start", ["demolished", "closed"])
def test_reopen_needs_a_reason_and_a_new_deadline(d, start):
    case_id = d.case_in(start)["id"]
    assert guard_failures(d, d.supervisor, case_id, "reopen") == {
        "note_required", "deadline_required"}
    assert guard_failures(d, d.supervisor, case_id, "reopen", note="不达标",
                            deadline=day(-3)) == {"deadline_in_future"}


@pytest.mark.parametrize("start, role, trigger", [
    ("ownership_verified", "officer", "dispute"),
    ("negotiated", "officer", "dispute"),
    ("disputed", "supervisor", "resolve_dispute"),
], ids=["verified-officer-dispute", "negotiated-officer-dispute",
        "disputed-supervisor-resolve_dispute"])
def test_dispute_and_its_resolution_need_a_note(d, start, role, trigger):
    case_id = d.case_in(start)["id"]
    user = d.officer if role == "officer" else d.supervisor
    assert guard_failures(d, user, case_id, trigger, note=" ") == {"note_required"}


def test_dismiss_needs_a_reason_and_a_supporting_attachment(d):
    case_id = d.new_case()["id"]
    d.attach(case_id, "before_photo")  # a photo of the structure does not prove it lawful
    assert guard_failures(d, d.supervisor, case_id, "dismiss") == {
        "note_required", "supporting_attachment"}
    d.attach(case_id, "other")
    assert guard_failures(d, d.supervisor, case_id, "dismiss") == {"note_required"}


# Wrong state, stale version, unknown trigger ----------------------------------------------

def test_a_trigger_from_the_wrong_state_is_409_with_the_triggers_this_user_may_fire(d):
    case_id = d.new_case()["id"]
    error = refused(d, d.officer, case_id, "demolish", 409, "invalid_transition",
                      method="self")
    assert error["details"]["allowed_triggers"] == ["verify_ownership"]
    error = refused(d, d.supervisor, case_id, "close", 409, "invalid_transition", note="x")
    assert sorted(error["details"]["allowed_triggers"]) == ["dismiss", "verify_ownership"]


def test_a_closed_case_only_reopens_and_a_dismissed_case_accepts_nothing(d):
    closed = d.case_in("closed")["id"]
    error = refused(d, d.supervisor, closed, "close", 409, "invalid_transition", note="再次验收")
    assert error["details"]["allowed_triggers"] == ["reopen"]
    dismissed = d.new_case()["id"]
    d.attach(dismissed, "ownership_doc")
    d.fire(d.supervisor, dismissed, "dismiss", note="合法建筑")
    error = refused(d, d.supervisor, dismissed, "reopen", 409, "invalid_transition",
                      note="重新调查", deadline=day(5))
    assert error["details"]["allowed_triggers"] == []


def test_a_stale_expected_version_is_409_and_changes_nothing(d):
    case_id = d.new_case(owner_name="演示户主")["id"]
    d.attach(case_id, "ownership_doc")
    seen_version = seen(d, case_id)[0]["version"]
    edit = d.as_(d.supervisor).patch(f"/api/v1/cases/{case_id}",
                                     json={"expected_version": seen_version,
                                           "description": "指挥部补充说明"})
    assert edit.status_code == 200, edit.get_json()
    error = refused(d, d.officer, case_id, "verify_ownership", 409, "stale_version",
                      expected_version=seen_version)
    assert error["details"]["current_version"] == seen_version + 1


def test_an_unknown_trigger_is_422(d):
    case_id = d.new_case()["id"]
    error = refused(d, d.supervisor, case_id, "demolish_everything", 422, "validation_failed")
    assert [item["rule"] for item in error["details"]] == ["known_trigger"]


# Who may act ------------------------------------------------------------------------------

def _overdue_negotiated(d: District) -> int:
    case_id = d.case_in("negotiated")["id"]
    d.make.set_due_at(case_id, -1)
    return case_id


def _dismissable(d: District) -> int:
    case_id = d.new_case()["id"]
    d.attach(case_id, "ownership_doc")
    return case_id


@pytest.mark.parametrize("start, trigger, fields", [
    (_overdue_negotiated, "approve_enforcement", {"note": "批准"}),
    (lambda d: d.case_in("demolished")["id"], "close", {"note": "验收合格"}),
    (lambda d: d.case_in("closed")["id"], "reopen", {"note": "不达标", "deadline": 5}),
    (lambda d: d.case_in("disputed")["id"], "resolve_dispute", {"note": "已调解"}),
    (_dismissable, "dismiss", {"note": "合法建筑"}),
], ids=["approve_enforcement", "close", "reopen", "resolve_dispute", "dismiss"])
def test_an_officer_cannot_fire_a_supervisors_trigger(d, start, trigger, fields):
    case_id = start(d)
    if "deadline" in fields:
        fields = {**fields, "deadline": day(fields["deadline"])}
    error = refused(d, d.officer, case_id, trigger, 403, "forbidden", **fields)
    assert error["details"]["roles"] == ["supervisor"]
    # the same request is fine for the supervisor: only the role was wrong
    d.fire(d.supervisor, case_id, trigger, **fields)


def test_an_officer_of_another_zone_cannot_see_or_move_the_case(d):
    case_id = d.new_case(owner_name="演示户主")["id"]
    d.attach(case_id, "ownership_doc")
    version = seen(d, case_id)[0]["version"]
    assert d.as_(d.stranger).get(f"/api/v1/cases/{case_id}").status_code == 404
    assert d.as_(d.stranger).get(f"/api/v1/cases/{case_id}/events").status_code == 404
    refused(d, d.stranger, case_id, "verify_ownership", 404, "not_found",
              expected_version=version)


def test_a_company_user_never_sees_or_moves_cases(d):
    case_id = d.new_case(owner_name="演示户主")["id"]
    d.attach(case_id, "ownership_doc")
    version = seen(d, case_id)[0]["version"]
    company = d.as_(d.company)
    listing = company.get("/api/v1/cases")
    assert listing.status_code == 403
    assert listing.get_json()["error"]["code"] == "forbidden"
    assert company.get(f"/api/v1/cases/{case_id}").status_code == 404
    refused(d, d.company, case_id, "verify_ownership", 404, "not_found",
              expected_version=version)


def test_allowed_triggers_depend_on_the_users_role(d):
    identified = d.new_case()["id"]
    negotiated = d.case_in("negotiated")["id"]

    def allowed(user: User, case_id: int) -> list[str]:
        return sorted(d.as_(user).get(f"/api/v1/cases/{case_id}").get_json()["allowed_triggers"])

    assert allowed(d.officer, identified) == ["verify_ownership"]
    assert allowed(d.supervisor, identified) == ["dismiss", "verify_ownership"]
    assert allowed(d.officer, negotiated) == ["demolish", "dispute"]
    assert allowed(d.supervisor, negotiated) == ["approve_enforcement", "demolish", "dispute"]


# what the declaration says, the API does --------------------------------------------------

def test_the_workflow_marks_final_exactly_the_states_a_case_cannot_be_edited_in(d):
    document = d.as_(d.officer).get("/api/v1/workflow").get_json()
    final = {s["name"] for s in document["states"] if s["final"]}
    assert final == {"closed", "dismissed"}
    assert {s["name"] for s in document["workorders"]["states"] if s["final"]} == {
        "verified", "cancelled"}
    closed, open_case = d.case_in("closed")["id"], d.case_in("demolished")["id"]
    for case_id, status in ((closed, 409), (open_case, 200)):
        version = seen(d, case_id)[0]["version"]
        response = d.as_(d.officer).patch(f"/api/v1/cases/{case_id}",
                                          json={"expected_version": version, "address": "新址"})
        assert response.status_code == status, response.get_json()
    assert response.get_json()["address"] == "新址"
    error = d.as_(d.officer).patch(f"/api/v1/cases/{closed}", json={
        "expected_version": seen(d, closed)[0]["version"], "address": "新址"}).get_json()["error"]
    assert error["code"] == "case_final"


def test_a_configured_deadline_limit_is_the_one_the_guard_applies_and_names(app, d):
    app.config["CASEWORK_MAX_DEADLINE_DAYS"] = 30
    case_id = d.case_in("ownership_verified")["id"]
    d.attach(case_id, "agreement")
    error = refused(d, d.officer, case_id, "negotiate", 422, "guard_failed",
                      deadline=day(31))
    [failure] = error["details"]
    assert failure["rule"] == "deadline_within_limit"
    assert "30 days" in failure["message"] and "90" not in failure["message"]
    triggers = {t["name"]: t for t in
                d.as_(d.officer).get("/api/v1/workflow").get_json()["triggers"]}
    limit = {g["rule"]: g["message"] for g in triggers["negotiate"]["guards"]}
    assert limit["deadline_within_limit"] == failure["message"]
    assert d.fire(d.officer, case_id, "negotiate", deadline=day(30))["state"] == "negotiated"
