"""Attachment bytes on disk, one file per distinct content, named by its SHA-256.

Two uploads of the same photo share one file. Files are written to a temporary name and
renamed into place, so a reader never sees half a file.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import filetype
from flask import current_app, send_file

from casework.common.errors import NotFound

# What a phone or scanner produces: photos and PDFs. Decided from the bytes, not the name.
ALLOWED_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic",
                           "image/heif", "application/pdf"})


def sniff_content_type(data: bytes) -> str | None:
    kind = filetype.guess(data[:8192])
    return kind.mime if kind else None


def _root() -> Path:
    return Path(current_app.config["CASEWORK_UPLOAD_DIR"])


def path_for(sha256: str) -> Path:
    return _root() / sha256[:2] / sha256[2:4] / sha256


def store(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def send(attachment):
    """The attachment's bytes as a download, with the content type found at upload."""
    path = path_for(attachment.sha256)
    if not path.exists():
        raise NotFound("The attachment's file is missing from storage.")
    return send_file(path, mimetype=attachment.content_type, etag=attachment.sha256,
                     download_name=attachment.filename or attachment.sha256[:12], max_age=0)
