"""The translation catalogs: one per domain that has pages, beside its templates
(``casework/<domain>/translations``), and the shared one (``casework/translations``) for the
base templates and the web layer. Flask-Babel merges them all.

``python -m casework.web.catalogs update casework/cases`` extracts that folder's strings into its
catalog, keeping what is translated; ``... compile`` writes every catalog's ``.mo`` (the setup
does this, so compiled files are never committed)."""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent.parent
LOCALES = ("zh",)
METHODS = [("**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
# The shared catalog covers the base templates and the web layer.
SHARED_SOURCES = ("templates", "web")


def catalog_folders() -> list[Path]:
    """Every folder holding a catalog: the shared one, then each domain's."""
    return [PACKAGE / "translations",
            *sorted(path for path in PACKAGE.glob("*/translations") if path.is_dir())]


def translation_directories() -> str:
    """For ``BABEL_TRANSLATION_DIRECTORIES``: the folders, relative to the package."""
    return ";".join(str(path.relative_to(PACKAGE)) for path in catalog_folders())


def sources_of(folder: Path) -> list[Path]:
    if folder == PACKAGE / "translations":
        return [PACKAGE / name for name in SHARED_SOURCES]
    return [folder.parent]


def extract(folder: Path) -> Catalog:
    """The strings the code of a catalog's folder asks to be translated."""
    catalog = Catalog(domain="messages", locale=None)
    for source in sources_of(folder):
        for filename, lineno, message, comments, context in extract_from_dir(
                str(source), method_map=METHODS, keywords=KEYWORDS, strip_comment_tags=True):
            catalog.add(message, None, [(str(Path(source, filename).relative_to(PACKAGE)), lineno)],
                        auto_comments=comments, context=context)
    return catalog


def po_path(folder: Path, locale: str) -> Path:
    return folder / locale / "LC_MESSAGES" / "messages.po"


def update(folder: Path) -> Path:
    """Brings a catalog in line with its code: new strings added untranslated, strings the code
    no longer has dropped, translations kept."""
    template = extract(folder)
    for locale in LOCALES:
        path = po_path(folder, locale)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            catalog = Catalog(locale=locale, domain="messages", project="Casework")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, sort_output=True, omit_header=False, no_location=True,
                     width=100)
    return path


def compile_all() -> list[Path]:
    written = []
    for folder in catalog_folders():
        for locale in LOCALES:
            path = po_path(folder, locale)
            if not path.exists():
                continue
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
            mo = path.with_suffix(".mo")
            with mo.open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)
            written.append(mo)
    return written


def main(argv: list[str]) -> int:
    if argv[:1] == ["compile"]:
        for mo in compile_all():
            print(f"compiled {mo.relative_to(PACKAGE.parent)}")
        return 0
    if argv[:1] == ["update"] and len(argv) > 1:
        for name in argv[1:]:
            folder = Path(name).resolve()
            folder = folder if folder.name == "translations" else folder / "translations"
            print(f"updated {update(folder).relative_to(PACKAGE.parent)}")
        return 0
    print("usage: bin/translations update casework/<domain> ... | bin/translations compile",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
