"""``GET /api/v1/cases/<id>/dossier``: the case file as a ZIP (officers and supervisors of
the case's zone; anyone else gets 404, as for a case they cannot see)."""
from __future__ import annotations

from flask import Blueprint

from casework.accounts.auth import current_user
from casework.cases.queries import get_visible_case
from casework.dossier.operations import build_dossier
from casework.exports.api import send_export

bp = Blueprint("dossier", __name__)


@bp.get("/cases/<int:case_id>/dossier")
def download_dossier(case_id: int):
    user = current_user()
    return send_export(build_dossier(user, get_visible_case(user, case_id)))
