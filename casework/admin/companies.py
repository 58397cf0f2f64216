"""The property companies' admin pages: the list, a new company, its name, contact and webhook
address, and its webhook signing secret, which is shown once (after the company is made or the
secret rotated) and never again: the operations return it only then."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from casework.accounts import operations, queries
from casework.accounts.models import Company
from casework.accounts.schemas import CompanyCreate, CompanyPatch
from casework.admin.forms import CompanyForm
from casework.admin.problems import checked, in_words, show_once, take_once
from casework.admin.views import bp
from casework.common.errors import ApiError
from casework.common.idempotency import idempotent
from casework.extensions import db
from casework.web.pages import done, form_failed, page_user, signed_in


def _list() -> dict:
    return {"companies": queries.companies(page_user())}


@bp.get("/companies")
@signed_in
def companies():
    return render_template("admin/companies.html", form=CompanyForm(formdata=None), **_list())


@bp.post("/companies")
@signed_in
@idempotent
def create_company():
    actor = page_user()
    form = CompanyForm()
    try:
        body = checked(CompanyCreate, form.fields())
        company, secret = operations.create_company_account(actor, **body.model_dump())
    except ApiError as err:
        db.session.rollback()
        return form_failed("admin/companies.html", form, in_words(err, "name"), **_list())
    show_once(f"secret:{company.id}", secret)
    return done("admin_pages.company", _("Company %(name)s created.", name=company.name),
                company_id=company.id)


def _company_page(company: Company, form: CompanyForm | None = None) -> str:
    return render_template(
        "admin/company.html", company=company,
        form=form or CompanyForm(formdata=None, obj=company),
        users=list(db.session.scalars(queries.filtered_users(page_user(),
                                                             company=company.id))),
        secret=take_once(f"secret:{company.id}"))


@bp.get("/companies/<int:company_id>")
@signed_in
def company(company_id: int):
    return _company_page(queries.get_company(page_user(), company_id))


@bp.post("/companies/<int:company_id>")
@signed_in
@idempotent
def update_company(company_id: int):
    actor = page_user()
    company = queries.get_company(actor, company_id)
    form = CompanyForm()
    try:
        changes = checked(CompanyPatch, form.fields()).model_dump(exclude_unset=True)
        operations.update_company_account(actor, company.id, changes)
    except ApiError as err:
        db.session.rollback()
        company = queries.get_company(actor, company_id)
        return form_failed("admin/company.html", form, in_words(err, "name"), company=company,
                           users=list(db.session.scalars(
                               queries.filtered_users(actor, company=company.id))),
                           secret=None)
    return done("admin_pages.company", _("Saved."), company_id=company.id)


@bp.post("/companies/<int:company_id>/secret")
@signed_in
@idempotent
def rotate_secret(company_id: int):
    """The old secret stops signing at once; the new one is shown on the next page only."""
    company, secret = operations.rotate_webhook_secret(page_user(), company_id)
    show_once(f"secret:{company.id}", secret)
    return done("admin_pages.company",
                _("A new secret replaces the old one: give it to the company now."),
                company_id=company.id)
