"""Files given on the pages: a file the evidence operations refuse comes back beside its
upload field (422, in the page's words), as any other field's problem; the case page and the
work-order page take their files through this one rule."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from casework.common.errors import ApiError, ValidationFailed, problem


@contextmanager
def refused_beside_field(problems: Mapping[str, Any], message: str) -> Iterator[None]:
    """Turns an upload the operation refuses into the page's problem on the ``attachment``
    field (or ``kind``, when the kind was the problem). What is not the file's fault — not
    allowed (403), not found (404), changed meanwhile (409) — is left to the page."""
    try:
        yield
    except ApiError as err:
        if err.status in (403, 404, 409):
            raise
        details = ([d for d in err.details if isinstance(d, dict)]
                   if isinstance(err.details, list) else [])
        rule = ("unsupported_media_type" if err.status == 415
                else details[0].get("rule", "") if details else "")
        field = "kind" if details and details[0].get("field") == "kind" else "attachment"
        said = problems.get(rule) or (details[0].get("message") if details else err.message)
        raise ValidationFailed(message, [problem(field, rule, str(said))]) from err
