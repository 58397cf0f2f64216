"""The admin pages' forms. They only carry what the admin typed: the rules about each field are
the API's request schemas' (``casework.accounts.schemas``, ``casework.places.schemas``), and the
rules about roles, zones and companies are the operations'. Fields are named as the schemas and
operations name them, so a refusal lands beside the field it concerns."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, HiddenField, PasswordField, SelectField, SelectMultipleField,
                     StringField, TextAreaField, URLField)

from casework.common.roles import Role
from casework.web.labels import role_label

LOCALES = [("zh", "中文"), ("en", "English")]


def _optional_id(value: object) -> int | None:
    """A select whose first choice is "none": an empty value is no company (or no zone)."""
    if value in (None, "", "None"):
        return None
    return int(value)  # a hand-edited value that is no number is refused by the field


class _Account(FlaskForm):
    """What a user is: name, role with its zones or company, where notifications go."""

    display_name = StringField(_l("Display name"))
    role = SelectField(_l("Role"))
    zone_ids = SelectMultipleField(_l("Zones"), coerce=int, validate_choice=False,
                                   render_kw={"size": 6})
    company_id = SelectField(_l("Company"), coerce=_optional_id, validate_choice=False)
    email = EmailField(_l("Email"), render_kw={"autocomplete": "off"})
    locale = SelectField(_l("Language of notifications"), choices=LOCALES)

    def __init__(self, zones, companies, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [(role.value, role_label(role)) for role in Role]
        self.zone_ids.choices = [(zone.id, f"{zone.code} {zone.name}") for zone in zones]
        self.company_id.choices = [("", _l("No company")),
                                   *((company.id, company.name) for company in companies)]

    def account_fields(self) -> dict:
        return {"display_name": self.display_name.data or None, "role": self.role.data,
                "zone_ids": list(self.zone_ids.data or []),
                "company_id": self.company_id.data, "email": self.email.data or None,
                "locale": self.locale.data}


class UserCreateForm(_Account):
    username = StringField(_l("Username"),
                           render_kw={"autocomplete": "off", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "new-password"})


class UserEditForm(_Account):
    """Everything of a user but its username (fixed) and password (its own form)."""


class ActiveForm(FlaskForm):
    """Deactivate or reactivate: one button, the wanted state in a hidden value."""

    active = HiddenField()


class PasswordForm(FlaskForm):
    """A new password typed by the admin, or one generated and shown once."""

    password = PasswordField(_l("New password"), render_kw={"autocomplete": "new-password"})
    generate = BooleanField(_l("Generate a password and show it once"))


class CompanyForm(FlaskForm):
    name = StringField(_l("Name"))
    contact = StringField(_l("Contact"))
    webhook_url = URLField(_l("Webhook address"))

    def fields(self) -> dict:
        return {"name": self.name.data, "contact": self.contact.data or None,
                "webhook_url": self.webhook_url.data or None}


class ZoneForm(FlaskForm):
    code = StringField(_l("Code"), render_kw={"autocapitalize": "characters"})
    name = StringField(_l("Name"))


class ZoneEditForm(FlaskForm):
    """A zone's code is named by other records and imports; only its name changes."""

    name = StringField(_l("Name"))


class CompoundForm(FlaskForm):
    zone_id = SelectField(_l("Zone"), coerce=_optional_id, validate_choice=False)
    name = StringField(_l("Name"))
    address = TextAreaField(_l("Address"), render_kw={"rows": 2})

    def __init__(self, zones, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone_id.choices = [("", _l("Choose a zone")),
                                *((zone.id, f"{zone.code} {zone.name}") for zone in zones)]


class CompoundEditForm(FlaskForm):
    name = StringField(_l("Name"))
    address = TextAreaField(_l("Address"), render_kw={"rows": 2})
