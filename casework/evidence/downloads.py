"""Sending an attachment's bytes as an HTTP download (the web layer's half of ``storage``)."""
from __future__ import annotations

from flask import send_file

from casework.common.errors import NotFound
from casework.accounts.models import User
from casework.evidence.models import Attachment
from casework.evidence.storage import path_for


def send(attachment: Attachment, user: User):
    """The attachment's bytes as a download, never displayed in place: under the content type
    found at upload (nosniff is on every response), as an attachment, so that a photo whose
    header hides a web page is never run as one. Its name is the one ``user`` may see."""
    path = path_for(attachment.sha256)
    if not path.exists():
        raise NotFound("The attachment's file is missing from storage.")
    return send_file(path, mimetype=attachment.content_type, etag=attachment.sha256,
                     as_attachment=True, download_name=attachment.name_for(user), max_age=0)
