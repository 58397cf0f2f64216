"""Users, their roles and zones, property companies and API tokens.

``Role`` is declared in ``casework.common.roles`` (every domain's rules name roles) and is
importable from here as before."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework import clock
from casework.common.roles import Role
from casework.common.types import StrEnumType, UtcDateTime
from casework.extensions import db


user_zones = Table(
    "user_zones",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("zone_id", ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True),
)


class Company(db.Model):
    """A property-management company (物业公司) that receives work orders."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact: Mapped[str | None] = mapped_column(String(200))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # Where email notifications go; none means inbox only.
    email: Mapped[str | None] = mapped_column(String(254))
    # Language of notifications: zh or en.
    locale: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, "user_role"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)

    company: Mapped[Company | None] = relationship()
    zones: Mapped[list["Zone"]] = relationship(secondary=user_zones, order_by="Zone.code")  # noqa: F821

    @property
    def zone_ids(self) -> set[int]:
        return {zone.id for zone in self.zones}

    @property
    def sees_whole_district(self) -> bool:
        """Admins, and supervisors attached to no zone, see every zone (spec section 8)."""
        return self.role is Role.ADMIN or (self.role is Role.SUPERVISOR and not self.zones)

    def can_see_zone(self, zone_id: int) -> bool:
        if self.role is Role.COMPANY:
            return False
        return self.sees_whole_district or zone_id in self.zone_ids

    @property
    def works_cases(self) -> bool:
        """Officers and supervisors do the case work: edit cases, add evidence, issue work
        orders. Admins manage; companies only see their work orders."""
        return self.role in (Role.OFFICER, Role.SUPERVISOR)

    @property
    def sees_personal_data(self) -> bool:
        return self.role in (Role.OFFICER, Role.SUPERVISOR)

    # What a page session asks of its user (Flask-Login's protocol); a deactivated account's
    # session ends on its next request.
    @property
    def is_active(self) -> bool:
        return bool(self.active)

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def can_administer(self) -> bool:
        """Admins, and only while active, manage users, companies, zones and compounds."""
        return self.role is Role.ADMIN and self.active


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, so a leaked table grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship()


class LoginFailure(db.Model):
    """Failed logins, counted per username to answer 429 to password guessing."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, index=True)
