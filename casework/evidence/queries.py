"""Which files a user may list and download: a case's, or what a work order's company needs."""
from __future__ import annotations

from sqlalchemy import Select, or_, select

from casework.common.errors import NotFound
from casework.evidence.models import Attachment
from casework.evidence.policies import CASE_PHOTO_KINDS, WORKORDER_KINDS
from casework.extensions import db


def case_attachments(case) -> Select:
    return select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)


def cases_photos(case_ids: list[int]) -> Select:
    """The before and after photos of several cases at once (a list of cards, one query)."""
    return (select(Attachment).where(Attachment.case_id.in_(case_ids), Attachment.kind.in_(CASE_PHOTO_KINDS)).order_by(Attachment.id))


def workorder_attachments(order) -> Select:
    """The work order's own files and its case's before/after photos (what a company needs to
    find and finish the job; never ownership documents or agreements)."""
    return (select(Attachment).where(or_(
        (Attachment.workorder_id == order.id) & Attachment.kind.in_(WORKORDER_KINDS),
        (Attachment.case_id == order.case_id) & Attachment.workorder_id.is_(None)
        & Attachment.kind.in_(CASE_PHOTO_KINDS))).order_by(Attachment.id))


def get_attachment(listed: Select, attachment_id: int) -> Attachment:
    attachment = db.session.scalar(listed.where(Attachment.id == attachment_id))
    if attachment is None:
        raise NotFound("No such attachment.")
    return attachment
