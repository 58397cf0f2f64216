"""Notification texts: the plain templates, formatted without Jinja for speed, read exactly as
Jinja renders them, in every language and with text that looks like a template."""
from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import meta

from casework.notifications import templates
from casework.notifications.templates import LOCALES, render

KINDS = sorted(path.stem for path in (Path(templates.__file__).parent / "templates" / "zh")
               .glob("*.txt"))
SWEEP_KINDS = ("reminder", "overdue", "escalation", "second_escalation")


class Sample(str):
    """A value for any field: text with braces and Chinese, any attribute of it too, and a
    list of itself where a template loops."""

    def __iter__(self):
        return iter([Sample(self)])

    def __getattr__(self, name: str) -> "Sample":
        return Sample(f"{self}.{name}")


def jinja_render(kind: str, locale: str, context: dict) -> tuple[str, str]:
    name = f"{locale}/{kind}.txt"
    text = templates._env.get_template(name).render(**context).strip()
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_text_reads_as_jinja_renders_it(kind, locale):
    source = templates._env.loader.get_source(templates._env, f"{locale}/{kind}.txt")[0]
    names = meta.find_undeclared_variables(templates._env.parse(source))
    context = {name: Sample(f"「{name}」{{not a field}} {{{{ {name} }}}}") for name in names}

    assert render(kind, locale, context) == jinja_render(kind, locale, context)
    assert all(f"「{name}」" in "".join(render(kind, locale, context)) for name in names)


def test_the_sweeps_texts_are_formatted_without_jinja():
    for kind in SWEEP_KINDS:
        for locale in LOCALES:
            assert getattr(templates._template(locale, kind), "__name__", "") == "format_map"


def test_a_missing_field_is_an_error_not_a_blank():
    with pytest.raises(KeyError):
        render("overdue", "zh", {"subject_label": "B-1"})
