"""The lifecycles' states, triggers, kinds and guard messages in the page's language.

The declarations carry Chinese titles for notifications; pages need both languages, so the
names are looked up here by their value, with English msgids and Chinese in the catalog."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext, lazy_gettext as _l

from casework.settings import setting

__all__ = ["state_label", "trigger_label", "kind_label", "attachment_label",
           "workorder_state_label", "workorder_kind_label", "method_label", "role_label",
           "problem_text"]

_STATES = {
    "identified": _l("Identified"),
    "ownership_verified": _l("Ownership verified"),
    "negotiated": _l("Negotiated"),
    "demolished": _l("Demolished"),
    "closed": _l("Closed"),
    "disputed": _l("Disputed"),
    "dismissed": _l("Dismissed"),
}
_TRIGGERS = {
    "verify_ownership": _l("Verify ownership"),
    "negotiate": _l("Negotiate / give notice"),
    "approve_enforcement": _l("Approve enforcement"),
    "demolish": _l("Record demolition"),
    "close": _l("Inspect and close"),
    "reopen": _l("Reopen"),
    "dispute": _l("Record a dispute"),
    "resolve_dispute": _l("Resolve the dispute"),
    "dismiss": _l("Dismiss (lawful structure)"),
    "accept": _l("Accept"),
    "complete": _l("Complete"),
    "verify": _l("Verify the work"),
    "reject": _l("Return for rework"),
    "cancel": _l("Cancel"),
}
_KINDS = {"illegal_structure": _l("Illegal structure"), "shed": _l("Shed")}
_ATTACHMENTS = {
    "before_photo": _l("Photo before"),
    "after_photo": _l("Photo after"),
    "ownership_doc": _l("Ownership document"),
    "agreement": _l("Agreement"),
    "notice": _l("Notice"),
    "other": _l("Other"),
}
_WORKORDER_STATES = {
    "assigned": _l("Assigned"),
    "accepted": _l("Accepted"),
    "completed": _l("Completed"),
    "verified": _l("Verified"),
    "rejected": _l("Returned for rework"),
    "cancelled": _l("Cancelled"),
}
_WORKORDER_KINDS = {
    "post_notice": _l("Post a notice"),
    "clear_debris": _l("Clear debris"),
    "restore_site": _l("Restore the site"),
    "assist_demolition": _l("Assist demolition"),
}
_METHODS = {"self": _l("By the owner"), "company": _l("By a company"),
            "enforced": _l("Enforced")}
_ROLES = {"officer": _l("Officer"), "supervisor": _l("Supervisor"), "company": _l("Company"),
          "admin": _l("Administrator")}
# Guard failures and other problems an operation reports, by rule; the rest keep the
# operation's own (English) message.
_PROBLEMS = {
    "note_required": _l("A note is required."),
    "deadline_required": _l("A deadline date is required."),
    "deadline_in_future": _l("The deadline must be a date after today."),
    "deadline_passed": _l("The negotiated deadline has not passed yet."),
    "workorders_finished": _l("Every work order of the case must be verified or cancelled first."),
    "owner_identified": _l("The owner must be identified (or marked unknown with a note)."),
    "ownership_evidence": _l("An ownership document or a notice must be attached first."),
    "agreement_or_notice": _l("An agreement or a notice must be attached first."),
    "after_photo": _l("A photo after the demolition must be attached first."),
    "method_required": _l("Choose how the structure was demolished."),
    "enforcement_deadline_passed": _l("An enforced demolition waits until the deadline has passed."),
    "enforcement_approved": _l("An enforced demolition needs a supervisor's approval first."),
    "inspection_note": _l("An inspection note is required."),
    "supporting_attachment": _l("A supporting document or photo must be attached first."),
    "photo_required": _l("A photo of the finished work must be attached."),
    "missing": _l("This field is required."),
}


def _lookup(table: dict[str, Any], value: Any) -> str:
    key = getattr(value, "value", value)
    return str(table.get(key, key if key is not None else ""))


def state_label(state: Any) -> str:
    return _lookup(_STATES, state)


def trigger_label(name: Any) -> str:
    return _lookup(_TRIGGERS, name)


def kind_label(kind: Any) -> str:
    return _lookup(_KINDS, kind)


def attachment_label(kind: Any) -> str:
    return _lookup(_ATTACHMENTS, kind)


def workorder_state_label(state: Any) -> str:
    return _lookup(_WORKORDER_STATES, state)


def workorder_kind_label(kind: Any) -> str:
    return _lookup(_WORKORDER_KINDS, kind)


def method_label(method: Any) -> str:
    return _lookup(_METHODS, method)


def role_label(role: Any) -> str:
    return _lookup(_ROLES, role)


def problem_text(detail: dict[str, Any]) -> str:
    """One problem of a 422 in the page's language; a limit named in the operation's own
    message (the configured deadline limit) says the configured value."""
    rule = detail.get("rule")
    if rule == "deadline_within_limit":
        return gettext("The deadline may be at most %(days)s days from today.",
                       days=setting("CASEWORK_MAX_DEADLINE_DAYS"))
    translated = _PROBLEMS.get(rule)
    return str(translated) if translated is not None else str(detail.get("message", ""))
