"""Attachment bytes on disk, one file per distinct content, named by its SHA-256.

Two uploads of the same photo share one file. Files are written to a temporary name and
renamed into place, so a reader never sees half a file.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import filetype
from casework.settings import setting

# What a phone or scanner produces: photos and PDFs. Decided from the bytes, not the name.
ALLOWED_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic",
                           "image/heif", "application/pdf"})


# The file extension of each accepted type, for names made up by Casework.
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
              "image/heic": ".heic", "image/heif": ".heif", "application/pdf": ".pdf"}


def clean_filename(name: str) -> str:
    """The name a user gave a file, kept for display in any script (拆除前照片.png): only its
    last path segment, without control or invisible format characters. It is never a path
    on disk (files are stored by hash) and only ever sent quoted (RFC 5987)."""
    name = unicodedata.normalize("NFC", re.split(r"[/\\]", name)[-1])
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    return name.strip().lstrip(".").strip()[:255]


def sniff_content_type(data: bytes) -> str | None:
    kind = filetype.guess(data[:8192])
    return kind.mime if kind else None


def _root() -> Path:
    return Path(setting("CASEWORK_UPLOAD_DIR"))


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
