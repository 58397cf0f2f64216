"""Request bodies and JSON shapes of users and companies."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from casework.accounts.models import Company, Role, User
from casework.common.schemas import NOT_NULL, PageArgs, Shape, Strict, Timestamp
from casework.places.schemas import ZoneOut


# A password is compared exactly: trimming it (as request strings are) would lock out
# anyone whose password, set on the command line, starts or ends with a space.
ExactString = Annotated[str, StringConstraints(strip_whitespace=False)]


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=80)
    password: ExactString = Field(min_length=1, max_length=200)


def user_dict(user: User) -> dict:
    return UserOut.model_validate(user).model_dump(mode="json")


def company_dict(company: Company) -> dict:
    return CompanyRef.model_validate(company).model_dump(mode="json")


# Administration: users and companies as an admin manages them ---------------------------------

Username = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
# A new password: at least 8 characters, compared exactly (never trimmed).
NewPassword = Field(min_length=8, max_length=200)
Email = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WebhookUrl = Field(None, max_length=500, pattern=r"^https?://[^\s/?#]+[^\s]*$")
Locale = Literal["zh", "en"]


class UserCreate(Strict):
    username: str = Username
    password: ExactString = NewPassword
    role: Role
    display_name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Email
    locale: Locale = "zh"
    zone_ids: list[Annotated[int, Field(ge=1)]] = Field([], max_length=100)
    company_id: int | None = Field(None, ge=1)


class UserPatch(Strict):
    """Only the fields sent change; only ``email`` and ``company_id`` may be set to null (the
    operation refuses null for the others)."""

    partial = True
    display_name: str | None = Field(None, min_length=1, max_length=200,
                                     json_schema_extra=NOT_NULL)
    email: str | None = Email
    locale: Locale | None = Field(None, json_schema_extra=NOT_NULL)
    role: Role | None = Field(None, json_schema_extra=NOT_NULL)
    zone_ids: list[Annotated[int, Field(ge=1)]] | None = Field(None, max_length=100,
                                                               json_schema_extra=NOT_NULL)
    company_id: int | None = Field(None, ge=1)
    active: bool | None = Field(None, json_schema_extra=NOT_NULL)
    password: ExactString | None = Field(None, min_length=8, max_length=200,
                                         json_schema_extra=NOT_NULL)


class UserQuery(PageArgs):
    role: Role | None = None
    zone: int | None = Field(None, ge=1)
    company: int | None = Field(None, ge=1)
    active: bool | None = None
    q: str | None = Field(None, max_length=80)


class CompanyCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    contact: str | None = Field(None, max_length=200)
    webhook_url: str | None = WebhookUrl


class CompanyPatch(Strict):
    """Only the fields sent change; ``contact`` and ``webhook_url`` may be set to null, ``name``
    may not (the operation refuses it)."""

    partial = True
    name: str | None = Field(None, min_length=1, max_length=200, json_schema_extra=NOT_NULL)
    contact: str | None = Field(None, max_length=200)
    webhook_url: str | None = WebhookUrl


class CompanyRef(Shape):
    id: int
    name: str


class UserOut(Shape):
    """A user as the API shows it to itself and in answers: who, which role, where."""

    id: int
    username: str
    display_name: str
    role: Role
    zones: list[ZoneOut]
    company: CompanyRef | None


class LoginOut(Shape):
    token: str
    user: UserOut


class UserAccount(Shape):
    """A user as an admin sees it: who, which role, where, and whether it may sign in."""

    id: int
    username: str
    display_name: str
    role: Role
    zones: list[ZoneOut]
    company: CompanyRef | None
    email: str | None
    locale: str
    active: bool
    created_at: Timestamp


class UserAccountPage(Shape):
    items: list[UserAccount]
    page: int
    per_page: int
    total: int


class CompanyAccount(Shape):
    """A company as an admin sees it. Its webhook secret is never shown again after it was made:
    only whether it has one."""

    id: int
    name: str
    contact: str | None
    webhook_url: str | None
    has_webhook_secret: bool
    created_at: Timestamp


class CompanyWithSecret(CompanyAccount):
    """The answer that creates a company or rotates its secret: the only time it is shown."""

    webhook_secret: str


def company_account(company: Company, secret: str | None = None) -> dict:
    fields = {"id": company.id, "name": company.name, "contact": company.contact,
              "webhook_url": company.webhook_url,
              "has_webhook_secret": company.webhook_secret is not None,
              "created_at": company.created_at}
    if secret is not None:
        return CompanyWithSecret(**fields, webhook_secret=secret).model_dump(mode="json")
    return CompanyAccount(**fields).model_dump(mode="json")


def user_account(user: User) -> dict:
    return UserAccount.model_validate(user).model_dump(mode="json")
