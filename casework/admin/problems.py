"""What the admin pages share: the same request schemas as the admin API check the typed
values, the operations' refusals worded in the page's language, and a value (a webhook secret,
a generated password) that the next page shows once and no page shows again."""
from __future__ import annotations

from typing import Any, TypeVar

from flask import session
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel

from casework.common.errors import ApiError, ValidationFailed
from casework.common.requests import validate

M = TypeVar("M", bound=BaseModel)

# By field and rule first, then by rule alone: the operation's or schema's rule, in words.
_BY_FIELD = {
    ("username", "string_pattern_mismatch"):
        _l("Use letters, digits and . _ @ - only, starting with a letter or digit."),
    ("username", "duplicate"): _l("This username is taken."),
    ("password", "string_too_short"): _l("At least 8 characters."),
    ("email", "string_pattern_mismatch"): _l("This is not an email address."),
    ("webhook_url", "string_pattern_mismatch"):
        _l("An address starting with http:// or https://."),
    ("code", "string_pattern_mismatch"): _l("Use letters, digits, _ and - only."),
    ("code", "duplicate"): _l("A zone with this code already exists."),
    ("name", "duplicate"): _l("This name is already used."),
    ("zone_id", "greater_than_equal"): _l("Choose a zone."),
    ("zone_id", "exists"): _l("Choose a zone."),
    ("zone_ids", "required_for_role"): _l("An officer needs at least one zone."),
    ("zone_ids", "not_for_role"): _l("Only officers and supervisors belong to zones."),
    ("company_id", "required_for_role"): _l("A company user needs a company."),
    ("company_id", "not_for_role"): _l("Only company users belong to a company."),
    ("active", "not_self"): _l("You cannot deactivate yourself."),
    ("role", "not_self"): _l("You cannot change your own role."),
}
_BY_RULE = {
    "missing": _l("This field is required."),
    "string_too_short": _l("This field is required."),
    "string_too_long": _l("This is too long."),
    "enum": _l("Choose one of the values offered."),
    "literal_error": _l("Choose one of the values offered."),
    "exists": _l("Choose one of the values offered."),
    "not_empty": _l("Nothing was changed."),
    "not_null": _l("This field is required."),
}
_INVALID = _l("This value is not valid.")


def in_words(err: ApiError, duplicate_field: str | None = None) -> ApiError:
    """The refusal with every problem worded for the page. A duplicate (409 from the
    operation) is a problem of the field that names the record, answered as a 422."""
    if err.status == 409 and err.code == "duplicate" and duplicate_field:
        err = ValidationFailed(err.message, [{"field": duplicate_field, "rule": "duplicate",
                                              "message": err.message}])
    details = err.details if isinstance(err.details, list) else []
    err.details = [_worded(detail) for detail in details if isinstance(detail, dict)]
    return err


def _worded(detail: dict[str, Any]) -> dict[str, Any]:
    field, rule = detail.get("field"), detail.get("rule")
    text = _BY_FIELD.get((field, rule)) or _BY_RULE.get(rule) or _INVALID
    return {**detail, "message": str(text)}


def checked(schema: type[M], data: dict[str, Any]) -> M:
    """The typed values, checked by the admin API's own request schema."""
    return validate(schema, data)


def show_once(key: str, value: str) -> None:
    """Kept for the page the redirect leads to, which takes it (``take_once``)."""
    session["shown_once"] = {"key": key, "value": value}


def take_once(key: str) -> str | None:
    """The value for this page, if it is the one the last change left; gone once read."""
    held = session.get("shown_once")
    if not isinstance(held, dict) or held.get("key") != key:
        return None
    session.pop("shown_once", None)
    return held.get("value")


def invalid_form(form: Any) -> ValidationFailed:
    """WTForms' own refusals (a hand-edited value that is no number), placed as the
    operations' are."""
    return ValidationFailed("The form is not valid.", [
        {"field": name, "rule": "invalid", "message": "invalid"}
        for name, errors in form.errors.items() if errors])
