"""``/compounds/<id>``: a compound's cases, on its plan and in a list."""
from __future__ import annotations

from flask import Blueprint, render_template

from casework.cases.models import Case
from casework.cases.policies import can_list_cases
from casework.cases.queries import visible_cases
from casework.extensions import db
from casework.places.models import Compound
from casework.plans.drawing import draw
from casework.web.pages import not_found, page_user, signed_in

bp = Blueprint("plans_pages", __name__, template_folder="templates")


@bp.get("/compounds/<int:compound_id>")
@signed_in
def compound(compound_id: int):
    user = page_user()
    place = db.session.get(Compound, compound_id)
    if place is None or not can_list_cases(user) or not user.can_see_zone(place.zone_id):
        not_found()
    cases = list(db.session.scalars(visible_cases(user).where(Case.compound_id == place.id)
                                    .order_by(Case.ref)))
    placed = [(c.id, c.ref, c.state.value, c.lat, c.lon, c.accuracy_m) for c in cases
              if c.lat is not None and c.lon is not None]
    return render_template("plans/compound.html", compound=place, cases=cases,
                           plan=draw(placed), unplaced=len(cases) - len(placed))
