"""Who may do what is decided in the operations (issue 6): a caller that is not the API — the
command line, the demo loader, a worker, a page — gets the same refusal as the API, and a
refused operation changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casework import clock
from casework.accounts.queries import companies
from casework.cases import operations as cases
from casework.cases.models import Case, CaseEvent, CaseKind
from casework.cases.queries import filtered_cases
from casework.cases.schemas import CaseQuery
from casework.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from casework.evidence import samples
from casework.evidence.models import Attachment, AttachmentKind
from casework.evidence.operations import attach
from casework.extensions import db
from casework.places.operations import create_zone
from casework.places.queries import visible_zones
from casework.workorders import operations as workorders
from casework.workorders.models import WorkOrderKind


@pytest.fixture
def site(make):
    zone, elsewhere = make.zone(), make.zone()
    officer = make.user("officer", [zone])
    users = {"officer": officer, "supervisor": make.user("supervisor", [zone]),
             "stranger": make.user("officer", [elsewhere]), "admin": make.user("admin"),
             "company": make.user("company", company="测试物业甲"),
             "rival": make.user("company", company="测试物业乙")}
    case = cases.create_case(officer, {"compound_id": make.compound(zone).id,
                                       "kind": CaseKind.SHED})
    db.session.commit()
    return users, case


def photo(name: str) -> bytes:
    return samples.png(name)


def counts() -> tuple[int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(Attachment)),
            db.session.scalar(select(func.count()).select_from(CaseEvent)))


@pytest.mark.parametrize("who, refusal", [("admin", Forbidden), ("company", NotFound),
                                          ("stranger", NotFound)])
def test_attach_refuses_what_the_case_upload_refuses(site, who, refusal):
    users, case = site
    before = counts()
    with pytest.raises(refusal):
        attach(case, users[who], photo(who), "image/png", AttachmentKind.BEFORE_PHOTO)
    assert counts() == before
    attach(case, users["officer"], photo("ok"), "image/png", AttachmentKind.BEFORE_PHOTO)
    db.session.commit()
    assert counts() == (before[0] + 1, before[1] + 1)


def test_attach_to_a_work_order_refuses_what_its_upload_refuses(site):
    users, case = site
    company = users["company"]
    order = workorders.create_workorder(case, users["officer"], company.company_id,
                                        WorkOrderKind.CLEAR_DEBRIS,
                                        clock.local_today() + timedelta(days=5))
    db.session.commit()
    before = counts()
    for user, kind, refusal in [
            (users["rival"], AttachmentKind.AFTER_PHOTO, NotFound),
            (users["admin"], AttachmentKind.AFTER_PHOTO, Forbidden),
            (company, AttachmentKind.OWNERSHIP_DOC, ValidationFailed)]:
        with pytest.raises(refusal):
            attach(case, user, photo("x"), "image/png", kind, workorder_id=order.id)
        assert counts() == before
    attach(case, company, photo("done"), "image/png", AttachmentKind.AFTER_PHOTO,
           workorder_id=order.id)
    workorders.fire_trigger(order, company, "accept", expected_version=order.version)
    workorders.fire_trigger(order, company, "complete", expected_version=order.version)
    workorders.fire_trigger(order, users["officer"], "verify", expected_version=order.version)
    db.session.commit()
    before = counts()
    with pytest.raises(Conflict):
        attach(case, company, photo("late"), "image/png", AttachmentKind.AFTER_PHOTO,
               workorder_id=order.id)
    assert counts() == before


def test_case_operations_refuse_users_who_do_not_work_cases(site):
    users, case = site
    with pytest.raises(Forbidden):
        cases.edit_case(case, users["admin"], case.version, {"address": "改址"})
    with pytest.raises(NotFound):
        cases.edit_case(case, users["stranger"], case.version, {"address": "改址"})
    with pytest.raises(Forbidden):
        cases.create_case(users["company"], {"compound_id": case.compound_id,
                                             "kind": CaseKind.SHED})
    with pytest.raises(Forbidden):
        workorders.create_workorder(case, users["admin"], users["company"].company_id,
                                    WorkOrderKind.CLEAR_DEBRIS,
                                    clock.local_today() + timedelta(days=5))
    with pytest.raises(NotFound):
        cases.fire_trigger(case, users["stranger"], "dismiss", expected_version=case.version,
                           note="合法建筑")
    db.session.rollback()
    assert db.session.get(Case, case.id).address == ""


def test_lists_and_admin_work_ask_the_same_policies(site):
    users, _ = site
    with pytest.raises(Forbidden):
        filtered_cases(users["company"], CaseQuery())
    assert db.session.scalars(filtered_cases(users["officer"], CaseQuery())).all()
    for refused in (lambda: companies(users["company"]), lambda: visible_zones(users["company"]),
                    lambda: create_zone("ZX", "新片区", user=users["supervisor"])):
        with pytest.raises(Forbidden) as caught:
            refused()
        assert caught.value.details["roles"]
    assert create_zone("ZX", "新片区", user=users["admin"]).code == "ZX"
