"""The work-order pages' forms. Their fields carry the names the operations report problems
under (``note``, ``attachment``, ``company_id``, ``due_date``), so that a refusal lands beside
the field it concerns; the rules themselves stay in the operations."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, MultipleFileField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from casework.web.labels import workorder_kind_label, workorder_state_label
from casework.workorders.models import WorkOrderKind, WorkOrderState

NOTE_LIMIT = 5_000  # as the API's WorkOrderTransition and WorkOrderCreate


class TransitionForm(FlaskForm):
    """One trigger of a work order; the version the user saw, so that a change meanwhile is
    refused instead of overwritten."""

    expected_version = HiddenField(validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_LIMIT)],
                         render_kw={"rows": 3})


class CompleteForm(TransitionForm):
    """Completing takes photos of the finished work, straight from the phone's camera."""

    attachment = MultipleFileField(
        _l("Photos of the finished work"),
        render_kw={"accept": "image/*", "capture": "environment"})


class IssueForm(FlaskForm):
    """A new work order for a company, from the case page."""

    company_id = SelectField(_l("Company"), coerce=int, validate_choice=False,
                             validators=[InputRequired()])
    kind = SelectField(_l("Kind of work"), validators=[InputRequired()])
    due_date = DateField(_l("Due date"), validators=[InputRequired()])
    note = TextAreaField(_l("Instructions"), validators=[Optional(), Length(max=NOTE_LIMIT)],
                         render_kw={"rows": 3})

    def __init__(self, companies, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.company_id.choices = [(c.id, c.name) for c in companies]
        self.kind.choices = [(k.value, workorder_kind_label(k)) for k in WorkOrderKind]


class FilterForm(FlaskForm):
    """The list's filters, kept in the address (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    state = SelectField(_l("State"), validators=[Optional()])
    kind = SelectField(_l("Kind of work"), validators=[Optional()])
    overdue = SelectField(_l("Deadline"), validators=[Optional()])
    company = SelectField(_l("Company"), validators=[Optional()])

    def __init__(self, companies, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _l("All"))]
        self.state.choices = everything + [(s.value, workorder_state_label(s))
                                           for s in WorkOrderState]
        self.kind.choices = everything + [(k.value, workorder_kind_label(k))
                                          for k in WorkOrderKind]
        self.overdue.choices = everything + [("true", _l("Overdue")),
                                             ("false", _l("Not overdue"))]
        self.company.choices = everything + [(str(c.id), c.name) for c in companies]
