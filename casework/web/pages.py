"""What every page view shares: who is signed in, the answer to a form the operation refused,
and the redirect after a change (POST, redirect, GET)."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from pydantic import BaseModel, ValidationError

from casework.common.errors import ApiError, NotFound, ValidationFailed
from casework.common.requests import validation_details
from casework.web.labels import problem_text


def signed_in(view: Callable) -> Callable:
    """Every page but the sign-in page: an anonymous visitor is sent to sign in and comes back."""
    @login_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        g.user = current_user._get_current_object()
        return view(*args, **kwargs)
    return wrapper


def page_user() -> Any:
    return current_user._get_current_object()


def not_found() -> None:
    """What the user may not see looks exactly like what does not exist."""
    raise NotFound("No such page.")


def show_problems(form: FlaskForm, err: ApiError) -> None:
    """An operation's refusal, beside the fields it concerns (in the page's language), and
    everything else (a stale version, a rule about the whole record) above the form."""
    details = err.details if isinstance(err.details, list) else []
    form_errors = form.form_errors
    placed = False
    for detail in details:
        if not isinstance(detail, dict):
            continue
        name = detail.get("field")
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, problem_text(detail)]
            placed = True
        else:
            form_errors.append(problem_text(detail))
            placed = True
    if not placed:
        form_errors.append(err.message)


def form_failed(template: str, form: FlaskForm, err: ApiError, **context) -> tuple[str, int]:
    """The form again, with the problems, answered 422 (409 for a stale version): the request
    changed nothing. A refusal to see or do at all is the 404 page, as for the API."""
    if err.status in (403, 404):
        raise NotFound("No such page.") from err
    show_problems(form, err)
    return render_template(template, form=form, **context), 409 if err.status == 409 else 422


def done(endpoint: str, message: str, **values):
    flash(message, "success")
    return redirect(url_for(endpoint, **values), code=303)


def page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def list_filters(model: type[BaseModel], form: FlaskForm, names: tuple[str, ...]
                 ) -> tuple[Any, bool, int]:
    """A list page's filters from the address, checked by the API's own query model:
    ``(args, filtered, status)``. Only a hand-edited address has invalid values (the form
    offers valid ones alone): the list is then shown unfiltered, answered 422, with the
    problem beside the filter."""
    wanted = {name: request.args[name] for name in names if request.args.get(name)}
    try:
        return model.model_validate(wanted), bool(wanted), 200
    except ValidationError as exc:
        show_problems(form, ValidationFailed("The filters are not valid.", [
            {**detail, "field": str(detail.get("field") or "").split(".")[0],
             "message": _("Choose one of the values offered.")}
            for detail in validation_details(exc)]))
        return model(), False, 422
