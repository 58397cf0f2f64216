"""Notification texts, from template files in Chinese and English.

``templates/<locale>/<kind>.txt``: the first line is the subject, the rest the body.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

LOCALES = ("zh", "en")
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False,
                   auto_reload=False)


@lru_cache(maxsize=None)
def _template(locale: str, kind: str):
    """Each template is read and compiled once per process (they ship with the code)."""
    return _env.get_template(f"{locale}/{kind}.txt")


def render(kind: str, locale: str, context: dict) -> tuple[str, str]:
    locale = locale if locale in LOCALES else LOCALES[0]
    text = _template(locale, kind).render(**context).strip()
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip()
