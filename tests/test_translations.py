"""Every string a page shows is translated: each catalog holds every string its code asks
for, with a Chinese translation, and nothing the code no longer has."""
from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from casework.web import catalogs

FOLDERS = catalogs.catalog_folders()


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: str(f.relative_to(catalogs.PACKAGE)))
def test_every_string_of_the_code_is_in_its_catalog_and_translated(folder):
    wanted = {message.id for message in catalogs.extract(folder) if message.id}
    path = catalogs.po_path(folder, "zh")
    assert path.exists(), f"run bin/translations update {folder.parent.relative_to(catalogs.PACKAGE.parent)}"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    translated = {message.id for message in catalog if message.id and message.string
                  and not message.fuzzy}
    in_catalog = {message.id for message in catalog if message.id}
    assert not wanted - in_catalog, f"not in {path}: {sorted(wanted - in_catalog)}"
    assert not wanted - translated, f"untranslated in {path}: {sorted(wanted - translated)}"


def test_the_shared_catalog_and_each_pages_domain_are_found():
    names = {folder.parent.name for folder in FOLDERS}
    assert {"casework", "accounts", "notifications"} <= names


def test_pages_are_chinese_by_default_and_english_on_request(client):
    assert "登录" in client.get("/login").text
    assert "Sign in" in client.get("/login?lang=en").text
