"""Who may see what about users and companies (spec section 8)."""
from __future__ import annotations

from casework.common.roles import Role

# Companies are listed to those who issue work orders to them, and to admins.
SEE_COMPANIES = (Role.ADMIN, Role.SUPERVISOR, Role.OFFICER)
