"""The roles a user can have (spec section 8): the words every domain's rules are written in."""
from __future__ import annotations

import enum


class Role(str, enum.Enum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OFFICER = "officer"
    COMPANY = "company"

    @property
    def title(self) -> str:
        return {"admin": "系统管理员", "supervisor": "指挥部", "officer": "执法人员",
                "company": "物业公司"}[self.value]
