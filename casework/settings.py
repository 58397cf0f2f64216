"""The application's settings, for code that must not know it runs inside Flask.

Operations, queries and models read a setting with ``setting("CASEWORK_...")``. Where the
values come from is decided once by the application factory (``install``): for the web app and
the workers, the current Flask application's config. Code outside an application (a script,
a test of a pure rule) installs a plain mapping instead.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

_source: Callable[[], Mapping[str, Any]] | None = None


def install(source: Callable[[], Mapping[str, Any]] | Mapping[str, Any]) -> None:
    """Sets where settings are read from: a mapping, or a function returning the mapping of
    the moment (called on every read, so several applications in one process each see their
    own)."""
    global _source
    _source = source if callable(source) else (lambda: source)


def settings() -> Mapping[str, Any]:
    if _source is None:
        raise RuntimeError("No settings installed; create the application first "
                           "(casework.create_app) or call casework.settings.install.")
    return _source()


def setting(name: str) -> Any:
    return settings()[name]
