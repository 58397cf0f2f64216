"""The campaign plan form: the dates, and per zone a target and milestones. Fields carry the
names ``PUT /api/v1/campaign`` reports problems under (``name``, ``start``, ``end``,
``zones.N.target``, ``zones.N.milestones``), so a refusal lands beside its field."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (DateField, FieldList, Form, FormField, HiddenField, IntegerField,
                     StringField, TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from casework.campaign.schemas import MAX_MILESTONES

_MILESTONE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2})\s*[\s,:，：]\s*(\d{1,9})\s*$")


class ZonePlanForm(Form):
    """A zone's line. No target means every case of the zone that is not dismissed."""

    zone_id = HiddenField()
    target = IntegerField(_l("Target"), validators=[Optional(), NumberRange(min=0, max=10**9)])
    milestones = TextAreaField(_l("Milestones"), render_kw={"rows": 2})


class CampaignForm(FlaskForm):
    expected_version = HiddenField()
    name = StringField(_l("Name of the campaign"), validators=[InputRequired(), Length(max=200)])
    start = DateField(_l("Start date"), validators=[InputRequired()])
    end = DateField(_l("End date"), validators=[InputRequired()])
    zones = FieldList(FormField(ZonePlanForm))


def parse_milestones(text: str | None) -> list[dict] | None:
    """``2026-12-31 40`` per line, as the API's ``{date, cumulative_done}``; None (and the
    problem on the field) when a line is not of that form."""
    milestones = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _MILESTONE.match(line)
        day = None
        if match:
            try:
                day = date.fromisoformat("-".join(f"{int(p):02d}" for p in match[1].split("-")))
            except ValueError:
                day = None
        if day is None:
            raise ValueError(_("Line %(line)s: write a date and the cumulative number of closed "
                               "cases, e.g. 2026-12-31 40.", line=number))
        milestones.append({"date": day.isoformat(), "cumulative_done": int(match[2])})
    if len(milestones) > MAX_MILESTONES:
        raise ValueError(_("At most %(count)s milestones.", count=MAX_MILESTONES))
    return milestones


def milestones_text(milestones) -> str:
    return "\n".join(f"{m.date.isoformat()} {m.cumulative_done}" for m in milestones)
