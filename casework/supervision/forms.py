"""The inspection forms: one per trigger a supervisor fires from the inspection page. Fields
are named as the lifecycle's guards report their failures (``note``, ``deadline``), so a
refusal lands beside the field it concerns; the rules stay in the lifecycle."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

NOTE_LIMIT = 5_000  # as the API's transition body

# The note's label says what the note is for in each step.
NOTE_LABELS = {"close": _l("Inspection note"), "reopen": _l("Why the work must be redone"),
               "approve_enforcement": _l("Note on the approval")}
# The triggers fired from this page, in the order their buttons appear.
INSPECTION_TRIGGERS = ("close", "reopen", "approve_enforcement")


class InspectionForm(FlaskForm):
    """A step with a note; the version the user saw, so that a change meanwhile is refused."""

    expected_version = HiddenField(validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_LIMIT)],
                         render_kw={"rows": 2})


class ReopenForm(InspectionForm):
    deadline = DateField(_l("New deadline"), validators=[Optional()])


def inspection_form(trigger: str, case_id: int, **kwargs) -> InspectionForm:
    """The form of ``trigger`` for one case; the prefix keeps its fields' ids apart from the
    other cases' forms on the same page."""
    form_class = ReopenForm if trigger == "reopen" else InspectionForm
    form = form_class(prefix=f"{trigger}-{case_id}", **kwargs)
    form.note.label.text = NOTE_LABELS[trigger]
    return form
