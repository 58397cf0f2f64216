"""Who may see and manage zones and compounds (spec section 8): whole roles, so a refusal
names the roles that may (``casework.common.policy.require_role``)."""
from __future__ import annotations

from casework.common.roles import Role

SEE_PLACES = (Role.ADMIN, Role.SUPERVISOR, Role.OFFICER)
MANAGE_PLACES = (Role.ADMIN,)
