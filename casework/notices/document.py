"""The printed documents as HTML, from templates beside this module. They are legal papers in
Chinese whatever the reader's language, and render the same bytes for the same facts, so that
the hash recorded when a notice is issued identifies the text the owner received."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates" / "notices"),
                   undefined=StrictUndefined, autoescape=select_autoescape(["html"]),
                   keep_trailing_newline=True)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


_env.filters["chinese_date"] = chinese_date

# Kept out of the HTML so that pages can allow exactly this style by its hash (CSP).
PRINT_STYLE = (Path(__file__).parent / "templates" / "notices" / "print.css").read_text("utf-8")


def style_hash() -> str:
    """The CSP source that allows the documents' one inline style block and nothing else."""
    import base64
    digest = hashlib.sha256(PRINT_STYLE.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


@dataclass(frozen=True)
class Document:
    html: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.html.encode("utf-8")).hexdigest()


def render(template: str, **context: Any) -> Document:
    return Document(_env.get_template(template).render(style=PRINT_STYLE, **context))
