"""The JSON shape of an attachment."""
from __future__ import annotations

from casework.common.schemas import Shape, Timestamp
from casework.evidence.models import AttachmentKind


class AttachmentOut(Shape):
    id: int
    kind: AttachmentKind
    content_type: str
    size: int
    sha256: str
    # The name the viewer is shown (a company sees a neutral one).
    filename: str
    created_at: Timestamp
    # When the photo was taken, if the uploader said.
    taken_at: Timestamp | None
