"""Signing in and out of the pages, and each role's start page.

The pages sign in with the same credentials check and the same throttle as
``POST /api/v1/auth/login``; the session cookie replaces the bearer token."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from casework.accounts import operations
from casework.accounts.forms import SignInForm
from casework.accounts.throttle import login_throttled
from casework.extensions import db

bp = Blueprint("accounts_pages", __name__, template_folder="templates")

# Where each role starts its day (spec section 14).
HOME = {"officer": "/today", "company": "/workorders", "supervisor": "/dashboard",
        "admin": "/admin/users"}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: a link that sends a signed-in user elsewhere is refused."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts_pages.login"))
    return redirect(HOME.get(current_user.role.value, "/inbox"))


@bp.route("/login", methods=["GET", "POST"])
@login_throttled
def login():
    form = SignInForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("accounts_pages.home"))
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 422 if form.errors else 200
    user = operations.check_credentials(form.username.data, form.password.data)
    if user is None:
        # Kept even though the sign-in fails: the owner is told when failures pile up.
        operations.record_login_failure(form.username.data)
        db.session.commit()
        form.form_errors.append(_("Wrong username or password."))
        return render_template("accounts/login.html", form=form), 401
    operations.clear_login_failures(user.username)
    # A language picked on the sign-in page wins over the account's own.
    language = session.get("lang") or (user.locale if user.locale in ("zh", "en") else "zh")
    session.clear()
    session.permanent = True
    login_user(user)
    session["lang"] = language
    return redirect(_safe_next(request.args.get("next")) or url_for("accounts_pages.home"),
                    code=303)


@bp.get("/logout")
def confirm_logout():
    """A link cannot sign anyone out (a page elsewhere could); the button on this page can."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts_pages.login"))
    return render_template("accounts/logout.html")


@bp.post("/logout")
def logout():
    logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    return redirect(url_for("accounts_pages.login"), code=303)
