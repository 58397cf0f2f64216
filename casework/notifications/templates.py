"""Notification texts, from template files in Chinese and English.

``templates/<locale>/<kind>.txt``: the first line is the subject, the rest the body.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

LOCALES = ("zh", "en")
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False,
                   auto_reload=False)


@lru_cache(maxsize=None)
def _template(locale: str, kind: str) -> Callable[[dict], str]:
    """Each template is read and compiled once per process (they ship with the code).

    A template of text and plain ``{{ name }}`` fields only (every one but the digest) becomes
    a ``str.format`` of those fields, which gives the same text: the deadline sweep renders
    tens of thousands at once, and setting up Jinja's context costs more than the text."""
    name = f"{locale}/{kind}.txt"
    source = _env.loader.get_source(_env, name)[0]
    pieces: list[str] = []
    for _, token, value in _env.lex(source):
        if token == "data":
            pieces.append(value.replace("{", "{{").replace("}", "}}"))
        elif token == "name":
            pieces.append("{" + value + "}")
        elif token not in ("variable_begin", "variable_end", "whitespace"):
            template = _env.get_template(name)
            return lambda context: template.render(**context)
    fields = "".join(pieces)
    return fields.format_map


def render(kind: str, locale: str, context: dict) -> tuple[str, str]:
    locale = locale if locale in LOCALES else LOCALES[0]
    text = _template(locale, kind)(context).strip()
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip()
