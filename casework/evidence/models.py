"""Photos and documents (附件) kept as evidence on cases.

``AttachmentKind`` is declared with the case (its lifecycle's guards ask for kinds of
evidence) and importable from here as before."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework import clock
from casework.accounts.models import User
from casework.cases.models import AttachmentKind  # noqa: F401 - the kinds, here as before
from casework.common.types import StrEnumType, UtcDateTime
from casework.extensions import db


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    workorder_id: Mapped[int | None] = mapped_column(ForeignKey("workorders.id"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(StrEnumType(AttachmentKind, "attachment_kind"))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    # When the photo was taken, as the phone said: a photo scaled down in the browser loses
    # its EXIF, so the page sends the original file's time along.
    taken_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    uploaded_by: Mapped[User] = relationship()

    @property
    def is_photo(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def neutral_name(self) -> str:
        from casework.evidence.storage import EXTENSIONS
        return f"{self.kind.value}-{self.id}{EXTENSIONS.get(self.content_type, '')}"

    def name_for(self, viewer: User) -> str:
        """The name a viewer is shown: as uploaded to those who work cases and to its uploader;
        to anyone else (a company) a neutral one, since an officer's file name once carried an
        owner's phone and id number."""
        if self.filename and (viewer.sees_personal_data or viewer.id == self.uploaded_by_id):
            return self.filename
        return self.neutral_name

    def to_dict(self, viewer: User) -> dict:
        from casework.evidence.schemas import AttachmentOut
        return AttachmentOut(id=self.id, kind=self.kind, content_type=self.content_type,
                             size=self.size, sha256=self.sha256, filename=self.name_for(viewer),
                             created_at=self.created_at, taken_at=self.taken_at
                             ).model_dump(mode="json")
