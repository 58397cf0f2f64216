"""One page of a query, with its total, as ``{items, page, per_page, total}``."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import Select, func, select

from casework.extensions import db


def paginate(query: Select, page: int, per_page: int, serialize: Callable[[Any], dict]) -> dict:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))
    return {"items": [serialize(row) for row in rows], "page": page, "per_page": per_page,
            "total": total}
