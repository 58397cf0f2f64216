"""``/api/v1/workflow``: both lifecycles as data, and the case lifecycle's diagram, read from
their declarations (``casework.cases.lifecycle``, ``casework.workorders.lifecycle``)."""
from __future__ import annotations

from flask import Blueprint

from casework.cases import lifecycle as case_lifecycle
from casework.workorders import lifecycle as workorder_lifecycle

bp = Blueprint("workflow", __name__)


@bp.get("/workflow")
def workflow():
    document = case_lifecycle.workflow_document()
    document["workorders"] = workorder_lifecycle.workflow_document()
    return document


@bp.get("/workflow/diagram.mmd")
def workflow_diagram():
    return (case_lifecycle.mermaid_diagram(), 200,
            {"Content-Type": "text/plain; charset=utf-8"})
