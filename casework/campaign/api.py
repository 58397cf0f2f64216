"""``/api/v1/campaign``: the plan, its reverse schedule, and the record of its changes."""
from __future__ import annotations

from flask import Blueprint

from casework.accounts.auth import current_user
from casework.campaign import operations
from casework.campaign.queries import (campaign_changes, campaign_plan, can_read_campaign,
                                       change_out, require_campaign)
from casework.campaign.schemas import CampaignChangesOut, CampaignPut
from casework.common.paging import paginate
from casework.common.errors import NotFound
from casework.common.idempotency import idempotent
from casework.common.requests import json_body, query_args
from casework.common.schemas import PageArgs

bp = Blueprint("campaign", __name__)


@bp.get("/campaign")
def get_campaign():
    return campaign_plan(current_user()).model_dump(mode="json")


@bp.put("/campaign")
@idempotent
def put_campaign():
    user = current_user()
    operations.set_campaign(user, json_body(CampaignPut))
    return campaign_plan(user).model_dump(mode="json")


@bp.get("/campaign/changes")
def list_campaign_changes():
    user = current_user()
    if not can_read_campaign(user):
        raise NotFound("No campaign here.")
    args = query_args(PageArgs)
    page = paginate(campaign_changes(require_campaign()), args.page, args.per_page, change_out)
    return CampaignChangesOut(**page).model_dump(mode="json")
