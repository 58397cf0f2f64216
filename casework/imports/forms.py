"""The survey import page's form: the file and the two choices of ``POST /api/v1/imports``."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField


class ImportForm(FlaskForm):
    file = FileField(_l("Survey file (CSV or XLSX)"),
                     render_kw={"accept": ".csv,.xlsx,text/csv,application/vnd."
                                          "openxmlformats-officedocument.spreadsheetml.sheet"})
    dry_run = BooleanField(_l("Dry run: check the file and show what would be created, "
                              "without creating anything"), default=True)
    skip_invalid = BooleanField(_l("Skip invalid rows and import the others"))
