"""Request bodies and JSON shapes of users and companies."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from casework.accounts.models import Company, User
from casework.common.schemas import Strict


# A password is compared exactly: trimming it (as request strings are) would lock out
# anyone whose password, set on the command line, starts or ends with a space.
ExactString = Annotated[str, StringConstraints(strip_whitespace=False)]


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=80)
    password: ExactString = Field(min_length=1, max_length=200)


def user_dict(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "zones": [zone.to_dict() for zone in user.zones],
        "company": company_dict(user.company) if user.company else None,
    }


def company_dict(company: Company) -> dict:
    return {"id": company.id, "name": company.name}
