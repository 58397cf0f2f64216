"""The case pages' forms. Fields carry the names the operations report problems under
(``note``, ``deadline``, ``method``, ``attachment``, ``owner_name``, the case's own field
names), so a refusal lands beside the field it concerns; the rules stay in the operations."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, FileField, HiddenField, RadioField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import InputRequired, Length, Optional

from casework.cases.models import AttachmentKind, CaseKind, CaseState
from casework.common.lifecycle import Trigger
from casework.web.labels import attachment_label, kind_label, method_label, state_label

NOTE_LIMIT = 10_000  # as the API's TransitionRequest
PHOTO = {"accept": "image/*", "capture": "environment"}
DOCUMENT = {"accept": "image/*,application/pdf"}

# The evidence a trigger's guards look for, offered as an upload in its form (the guard
# itself still decides): the first kind is the one chosen unless the user says otherwise.
EVIDENCE: dict[str, tuple[AttachmentKind, ...]] = {
    "verify_ownership": (AttachmentKind.OWNERSHIP_DOC, AttachmentKind.NOTICE),
    "negotiate": (AttachmentKind.AGREEMENT, AttachmentKind.NOTICE),
    "demolish": (AttachmentKind.AFTER_PHOTO,),
    "dismiss": (AttachmentKind.OWNERSHIP_DOC, AttachmentKind.OTHER),
}
NOTE_LABELS = {"close": _l("Inspection note"), "reopen": _l("What must be redone"),
               "dispute": _l("What the dispute is about"),
               "resolve_dispute": _l("How the dispute was resolved"),
               "dismiss": _l("Why the structure is lawful")}


class TriggerForm(FlaskForm):
    """One lifecycle trigger; the version the user saw, so that a change meanwhile is refused
    instead of overwritten. Fields the trigger does not take are removed (``for_trigger``)."""

    expected_version = HiddenField(validators=[InputRequired()])
    owner_name = StringField(_l("Owner's name (if newly learned)"),
                             validators=[Optional(), Length(max=200)])
    deadline = DateField(_l("New deadline"), validators=[Optional()])
    method = RadioField(_l("How it was demolished"), validators=[Optional()])
    attachment_kind = SelectField(_l("What the file is"), validators=[Optional()])
    attachment = FileField(_l("Photo or document"), render_kw=DOCUMENT)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_LIMIT)],
                         render_kw={"rows": 3})

    @classmethod
    def for_trigger(cls, trigger: Trigger, **kwargs) -> "TriggerForm":
        form = cls(prefix=trigger.name, **kwargs)
        form.method.choices = [(m, method_label(m)) for m in ("self", "company", "enforced")]
        if "deadline" not in trigger.fields:
            del form.deadline
        if "method" not in trigger.fields:
            del form.method
        if trigger.name != "verify_ownership":
            del form.owner_name
        kinds = EVIDENCE.get(trigger.name)
        if kinds:
            form.attachment_kind.choices = [(k.value, attachment_label(k)) for k in kinds]
            if form.attachment_kind.data is None:
                form.attachment_kind.data = kinds[0].value
            if kinds == (AttachmentKind.AFTER_PHOTO,):
                form.attachment.render_kw = PHOTO
                form.attachment.label.text = _l("Photo after the demolition")
                del form.attachment_kind
        else:
            del form.attachment
            del form.attachment_kind
        if trigger.name in NOTE_LABELS:
            form.note.label.text = NOTE_LABELS[trigger.name]
        return form


class AttachForm(FlaskForm):
    """A photo or document added to the case on its own."""

    kind = SelectField(_l("What the file is"), validators=[InputRequired()])
    attachment = FileField(_l("Photo or document"), render_kw=DOCUMENT)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k.value, attachment_label(k)) for k in AttachmentKind]


class _DescribedCase(FlaskForm):
    """What describes a structure, as it is recorded and later corrected. The values are
    checked by the API's own schema."""

    compound_id = SelectField(_l("Compound"), coerce=int, validate_choice=False,
                              validators=[InputRequired()])
    kind = SelectField(_l("Kind"), validators=[InputRequired()])
    address = StringField(_l("Address (building, unit, room)"),
                          validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)],
                                render_kw={"rows": 3})
    difficulty = SelectField(_l("Difficulty (1 easy – 5 hard)"), coerce=int, default=3)
    owner_unknown = BooleanField(_l("Owner unknown"))
    owner_name = StringField(_l("Owner's name"), validators=[Optional(), Length(max=200)])
    owner_phone = StringField(_l("Owner's phone"), validators=[Optional(), Length(max=40)],
                              render_kw={"inputmode": "tel", "autocomplete": "off"})
    owner_id_number = StringField(_l("Owner's ID number"),
                                  validators=[Optional(), Length(max=40)],
                                  render_kw={"autocomplete": "off"})

    def __init__(self, compounds, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.compound_id.choices = [(c.id, c.name) for c in compounds]
        self.kind.choices = [(k.value, kind_label(k)) for k in CaseKind]
        self.difficulty.choices = [(n, str(n)) for n in range(1, 6)]


class CaseForm(_DescribedCase):
    """A new case, quickly, on a phone."""

    attachment = FileField(_l("Photo before (optional)"), render_kw=PHOTO)
    lat = HiddenField()
    lon = HiddenField()
    accuracy_m = HiddenField()


class EditForm(_DescribedCase):
    """A case's description corrected, or the case given to another officer of its zone."""

    expected_version = HiddenField()
    area_m2 = StringField(_l("Area (m²)"), validators=[Optional(), Length(max=20)],
                          render_kw={"inputmode": "decimal"})
    officer_id = SelectField(_l("Officer"), coerce=int, validate_choice=False,
                             validators=[Optional()])

    def __init__(self, compounds, officers, *args, **kwargs) -> None:
        super().__init__(compounds, *args, **kwargs)
        self.officer_id.choices = [(0, _l("Not assigned"))] + [
            (o.id, o.display_name) for o in officers]


class FilterForm(FlaskForm):
    """The case list's filters, kept in the address (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)],
                    render_kw={"type": "search"})
    state = SelectField(_l("State"), validators=[Optional()])
    zone = SelectField(_l("Zone"), validators=[Optional()])
    compound = SelectField(_l("Compound"), validators=[Optional()])
    kind = SelectField(_l("Kind"), validators=[Optional()])
    overdue = SelectField(_l("Deadline"), validators=[Optional()])
    officer = HiddenField()

    def __init__(self, zones, compounds, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _l("All"))]
        self.state.choices = everything + [(s.value, state_label(s)) for s in CaseState]
        self.zone.choices = everything + [(z.code, z.name) for z in zones]
        self.compound.choices = everything + [(str(c.id), c.name) for c in compounds]
        self.kind.choices = everything + [(k.value, kind_label(k)) for k in CaseKind]
        self.overdue.choices = everything + [("true", _l("Overdue")),
                                             ("false", _l("Not overdue"))]
