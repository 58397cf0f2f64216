"""The admin pages: users (this module), companies (``companies``), zones and compounds
(``places``). They call the operations of the admin API (``casework.accounts.operations``,
``casework.places.operations``), which decide who may; a user the administration policy
refuses sees the 404 page on every admin address, as for anything else it may not see."""
from __future__ import annotations

import secrets

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError

from casework.accounts import operations, queries
from casework.accounts.models import User
from casework.accounts.schemas import UserCreate, UserPatch, UserQuery
from casework.admin.forms import ActiveForm, PasswordForm, UserCreateForm, UserEditForm
from casework.admin.problems import checked, in_words, invalid_form, show_once, take_once
from casework.common.errors import ApiError, Forbidden, ValidationFailed
from casework.common.idempotency import idempotent
from casework.common.paging import paginate
from casework.common.policy import require_administrator
from casework.common.requests import validation_details
from casework.extensions import db
from casework.places.queries import visible_zones
from casework.web.pages import (done, form_failed, not_found, page_number, page_user,
                                show_problems, signed_in)

bp = Blueprint("admin_pages", __name__, template_folder="templates", url_prefix="/admin")

PER_PAGE = 50


@bp.before_request
def administrators_only() -> None:
    """Asks the administration policy before any admin page: a signed-in user it refuses gets
    the 404 page; a visitor not signed in is sent to sign in by the view."""
    if not current_user.is_authenticated:
        return
    try:
        require_administrator(current_user._get_current_object())
    except Forbidden:
        not_found()


def _choices(user: User) -> tuple[list, list]:
    return list(db.session.scalars(visible_zones(user))), queries.companies(user)


# The list ------------------------------------------------------------------------------------

@bp.get("/users")
@signed_in
def users():
    user = page_user()
    wanted = {name: request.args[name] for name in ("q", "role") if request.args.get(name)}
    status, problem = 200, None
    try:
        args = UserQuery.model_validate(wanted)
    except ValidationError as exc:
        # Only a hand-edited address gets here: the form offers valid values alone.
        problem = validation_details(exc)
        args, status = UserQuery(), 422
    query = queries.filtered_users(user, role=args.role, q=args.q)
    page = paginate(query, page_number(), PER_PAGE, lambda row: row)
    return render_template("admin/users.html", page=page, q=args.q or "",
                           role=args.role.value if args.role else "",
                           problem=_("Choose one of the values offered.") if problem else None,
                           filtered=bool(wanted)), status


# Creating a user -----------------------------------------------------------------------------

@bp.get("/users/new")
@signed_in
def new_user():
    zones, companies = _choices(page_user())
    return render_template("admin/user_new.html", form=UserCreateForm(zones, companies))


@bp.post("/users/new")
@signed_in
@idempotent
def create_user():
    actor = page_user()
    zones, companies = _choices(actor)
    form = UserCreateForm(zones, companies)
    try:
        if not form.validate_on_submit():
            raise invalid_form(form)
        body = checked(UserCreate, {"username": form.username.data or "",
                                    "password": form.password.data or "",
                                    **form.account_fields()})
        user = operations.create_account(actor, **body.model_dump())
    except ApiError as err:
        return form_failed("admin/user_new.html", form, in_words(err, "username"))
    return done("admin_pages.user", _("User %(name)s created.", name=user.username),
                user_id=user.id)


# One user ------------------------------------------------------------------------------------

def _stored_form(account: User, zones: list, companies: list) -> UserEditForm:
    """The user's form filled from the account as it is stored."""
    return UserEditForm(zones, companies, formdata=None, obj=account, role=account.role.value,
                        zone_ids=sorted(account.zone_ids), company_id=account.company_id)


def _acting_on(user_id: int) -> tuple[User, User]:
    """The signed-in administrator and the account they change (else the 404 page)."""
    actor = page_user()
    return actor, queries.get_user(actor, user_id)


def _user_page(user: User, form: UserEditForm | None = None,
               password_form: PasswordForm | None = None, status: int = 200):
    zones, companies = _choices(page_user())
    if form is None:
        form = _stored_form(user, zones, companies)
    return render_template(
        "admin/user.html", account=user, form=form,
        password_form=password_form or PasswordForm(formdata=None),
        active_form=ActiveForm(formdata=None, active="false" if user.active else "true"),
        new_password=take_once(f"password:{user.id}")), status


@bp.get("/users/<int:user_id>")
@signed_in
def user(user_id: int):
    return _user_page(queries.get_user(page_user(), user_id))


@bp.post("/users/<int:user_id>")
@signed_in
@idempotent
def update_user(user_id: int):
    actor, account = _acting_on(user_id)
    zones, companies = _choices(actor)
    form = UserEditForm(zones, companies)
    try:
        if not form.validate_on_submit():
            raise invalid_form(form)
        changes = checked(UserPatch, form.account_fields()).model_dump(exclude_unset=True)
        operations.update_account(actor, account.id, changes)
    except ApiError as err:
        return _refused(account, in_words(err), form=form)
    return done("admin_pages.user", _("Saved."), user_id=account.id)


@bp.post("/users/<int:user_id>/active")
@signed_in
@idempotent
def set_active(user_id: int):
    actor, account = _acting_on(user_id)
    form = ActiveForm()
    try:
        if form.active.data not in ("true", "false"):
            raise ValidationFailed("The form is not valid.",
                                   [{"field": None, "rule": "enum", "message": "enum"}])
        active = form.active.data == "true"
        operations.update_account(actor, account.id, {"active": active})
    except ApiError as err:
        return _refused(account, in_words(err))
    return done("admin_pages.user", _("The user can sign in again.") if active
                else _("The user is deactivated and signed out everywhere."), user_id=account.id)


@bp.post("/users/<int:user_id>/password")
@signed_in
@idempotent
def reset_password(user_id: int):
    """A new password, typed or generated; a generated one is shown once, on the next page."""
    actor, account = _acting_on(user_id)
    form = PasswordForm()
    try:
        if not form.validate_on_submit():
            raise invalid_form(form)
        password = secrets.token_urlsafe(12) if form.generate.data else form.password.data or ""
        body = checked(UserPatch, {"password": password})
        operations.update_account(actor, account.id, {"password": body.password})
    except ApiError as err:
        return _refused(account, in_words(err), password_form=form)
    if form.generate.data:
        show_once(f"password:{account.id}", password)
    return done("admin_pages.user", _("The password is changed."), user_id=account.id)


def _refused(account: User, err: ApiError, *, form: UserEditForm | None = None,
             password_form: PasswordForm | None = None):
    """The user's page again, as it is stored, with the problem beside its field: 422."""
    db.session.rollback()
    account = queries.get_user(page_user(), account.id)
    if err.status in (403, 404):
        not_found()
    target = password_form if password_form is not None else form
    zones, companies = _choices(page_user())
    if target is None:  # the active button: its problem goes above the page's forms
        target = form = _stored_form(account, zones, companies)
    show_problems(target, err)
    return _user_page(account, form=form, password_form=password_form, status=422)


from casework.admin import companies as _companies, places as _places  # noqa: E402,F401  routes
