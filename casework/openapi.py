"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of the API.

Request bodies come from the same pydantic schemas that validate them; a test checks that every
route under /api/v1 is described here and that the document is valid.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint
from pydantic import BaseModel

from casework.accounts.auth import public
from casework.accounts.schemas import CompanyRef, LoginOut, LoginRequest, UserOut, UserQuery
from casework.campaign.schemas import CampaignChangesOut, CampaignOut, CampaignPut
from casework.cases.schemas import (CaseCreate, CaseOut, CasePage, CasePatch, CaseQuery,
                                    EventOut, EventPage, EventQuery, TransitionRequest)
from casework.common.schemas import PageArgs, Strict
from casework.evidence.models import AttachmentKind
from casework.evidence.policies import WORKORDER_KINDS
from casework.evidence.schemas import AttachmentOut
from casework.evidence.storage import ALLOWED_TYPES
from casework.exports.schemas import ExportLogPage, ExportLogQuery
from casework.imports.schemas import ImportResult
from casework.notices.api import NoticeArgs
from casework.notifications.api import InboxQuery
from casework.notifications.schemas import NotificationOut, NotificationPage
from casework.places.schemas import (CompoundCreate, CompoundOut, CompoundQuery, ZoneCreate,
                                     ZoneOut)
from casework.reports.schemas import BacklogOut, BoardOut, OfficersOut, ProgressOut, ReportQuery
from casework.workorders.schemas import (WorkOrderCreate, WorkOrderOut, WorkOrderPage,
                                        WorkOrderQuery, WorkOrderTransition)
# The admin's endpoints (users, companies, renaming places).
from casework.accounts.schemas import (CompanyAccount, CompanyCreate, CompanyPatch,  # noqa: I001
                                       CompanyWithSecret, UserAccount, UserAccountPage,
                                       UserCreate, UserPatch)
from casework.places.schemas import CompoundPatch, ZonePatch  # noqa: I001

bp = Blueprint("openapi", __name__)

REQUEST_MODELS: tuple[type[BaseModel], ...] = (LoginRequest, ZoneCreate, CompoundCreate,
                                               CaseCreate, CasePatch, TransitionRequest,
                                               WorkOrderCreate, WorkOrderTransition,
                                               CampaignPut)
# Response shapes written as pydantic models (the shapes helper moves every response here).
RESPONSE_MODELS: tuple[type[BaseModel], ...] = (ExportLogPage, ImportResult, CampaignOut,
                                                CampaignChangesOut, BacklogOut, BoardOut,
                                                ProgressOut, OfficersOut, CasePage, EventPage,
                                                WorkOrderPage, NotificationPage)


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


STR, INT, BOOL, NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
TIME = {"type": "string", "format": "date-time"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _page_of(name: str) -> dict:
    return _obj({"items": {"type": "array", "items": _ref(name)}, "page": INT,
                 "per_page": INT, "total": INT}, ["items", "page", "per_page", "total"])


def _list_of(name: str) -> dict:
    return _obj({"items": {"type": "array", "items": _ref(name)}}, ["items"])


def _upload_schema(kinds: list) -> dict:
    return {**_obj({
        "file": {"type": "string", "format": "binary",
                 "description": "A JPEG, PNG, WebP or HEIC photo or a PDF, judged from its "
                                "bytes (anything else is 415), at most CASEWORK_MAX_UPLOAD_BYTES"},
        "kind": {"type": "string", "enum": [k.value for k in kinds]},
        "taken_at": {"type": "string", "format": "date-time",
                     "description": "When the photo was taken, with its offset; not in the "
                                    "future"}}, ["file", "kind"]), "additionalProperties": False}


RESPONSE_SCHEMAS: dict[str, dict] = {
    "Error": {**_obj({"error": {**_obj({"code": STR, "message": STR, "details": {}},
                                       ["code", "message", "details"]),
                                "additionalProperties": False}}, ["error"]),
              "additionalProperties": False},
    "AttachmentUpload": _upload_schema(list(AttachmentKind)),
    # A work order takes photos (and "other"), never a case's documents.
    "WorkOrderAttachmentUpload": _upload_schema(list(WORKORDER_KINDS)),
    "Workflow": _obj({"states": {"type": "array", "items": {"type": "object"}},
                      "initial": {"type": "object"},
                      "triggers": {"type": "array", "items": {"type": "object"}}}),
    "Health": _obj({"status": STR, "database": BOOL, "broker": BOOL}),
}

ERRORS = {
    "400": "Malformed request (bad JSON, not an object)",
    "401": "Missing or invalid bearer token",
    "403": "The user's role may not do this",
    "404": "No such resource, or not visible to this user",
    "409": "Wrong state, stale expected_version, or a conflicting change",
    "413": "Body too large",
    "415": "Unsupported content type",
    "422": "Validation or guard failure; details lists every failed rule",
    "429": "Too many requests",
    "503": "The database was busy with other writes; nothing changed; try again after "
           "Retry-After seconds",
}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


# What an attachment is served as: the type found from its bytes, one of the accepted ones.
ATTACHMENT_CONTENT = {kind: {"schema": {"type": "string", "format": "binary"}}
                      for kind in sorted(ALLOWED_TYPES)}
NOTICE_HTML = {"text/html": {"schema": {"type": "string"}}}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
    "description": "1 to 200 printable ASCII characters (a UUID is a good choice). A retry with "
                   "the same key and body replays the first answer and changes nothing. Keys "
                   "are the user's own across every endpoint: the same key with another "
                   "request, here or elsewhere, is refused (422 idempotency_key_reused)."}


# One valid body of each kind (tests/test_openapi_and_workflow.py checks each against its
# schema), as a client would send it. Dates are examples: a real deadline is after today.
EXAMPLES: dict[str, dict[str, Any]] = {
    "LoginRequest": {"username": "officer1a", "password": "the-password"},
    "ZoneCreate": {"code": "Z10", "name": "东风片区"},
    "ZonePatch": {"name": "东风片区（扩）"},
    "CompoundCreate": {"zone_id": 1, "name": "东风小区01", "address": "东风路12号"},
    "CompoundPatch": {"address": "东风路14号"},
    "CaseCreate": {"kind": "shed", "compound_id": 1, "address": "3号楼2单元北侧",
                   "description": "楼间私搭棚厦", "area_m2": 12.5, "lat": 41.8012,
                   "lon": 123.4321, "accuracy_m": 8.0, "difficulty": 2,
                   "owner_name": "王某某", "owner_phone": "138 0000 0000"},
    "CasePatch": {"expected_version": 3, "address": "3号楼2单元北侧（二层）"},
    "TransitionRequest": {"trigger": "negotiate", "expected_version": 4,
                          "note": "业主同意自行拆除", "deadline": "2027-01-15"},
    "NoticeArgs": {"deadline": "2027-01-15"},
    "WorkOrderCreate": {"company_id": 1, "kind": "clear_debris", "due_date": "2027-01-20",
                        "note": "清运北侧堆放物"},
    "WorkOrderTransition": {"trigger": "accept", "expected_version": 1, "note": ""},
    "CampaignPut": {"name": "老旧小区违建清理专项行动", "start": "2026-09-18",
                    "end": "2027-01-22", "zones": [], "expected_version": 1},
    "UserCreate": {"username": "officer10a", "password": "a-long-password", "role": "officer",
                   "display_name": "包片干部", "zone_ids": [1]},
    "UserPatch": {"active": False},
    "CompanyCreate": {"name": "示例物业公司", "contact": "客服中心",
                      "webhook_url": "https://company.example/casework/hooks"},
    "CompanyPatch": {"webhook_url": "https://company.example/casework/hooks/v2"},
}


def _with_reprint(op: dict) -> dict:
    op["responses"]["200"] = {"description": "The same text as the case's last notice: "
                                             "printed again, nothing new recorded",
                              "content": NOTICE_HTML}
    return op


def _op(summary: str, ok: str, schema: dict | None, *, body: str | None = None,
        params: list[dict] | None = None, errors: str = "401 403 404 422",
        content: dict | None = None, request_content: dict | None = None,
        secured: bool = True, idempotent: bool = False) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": {}}
    op["responses"][ok] = {"description": "Success",
                           **({"content": content or _json(schema)} if schema or content else {})}
    codes = set(errors.split())
    if body or request_content:
        # Any body: malformed (400), too large (413), of another type (415).
        codes.update(("400", "413", "415"))
    if idempotent:
        codes.update(("400", "422"))  # a malformed Idempotency-Key; one used for another request
    for code in sorted(codes):
        op["responses"][code] = {"description": ERRORS[code], "content": _json(_ref("Error"))}
    parameters = list(params or [])
    if idempotent:
        parameters.append(IDEMPOTENCY_KEY)
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _ref(body), "example": EXAMPLES[body]}}}
    if request_content:
        op["requestBody"] = {"required": True, "content": request_content}
    if not secured:
        op["security"] = []
    return op


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _query(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _params_of(model: type[BaseModel], descriptions: dict[str, str] | None = None) -> list[dict]:
    """A query string's parameters from the pydantic model the view validates it with, so
    that the document states exactly the ranges, lengths and enums the server enforces. A
    query string has no null, so a filter's null branch is left out; a list is comma-separated."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    params = []
    for name, prop in schema["properties"].items():
        prop = _inline(prop, definitions)
        options = [option for option in prop.pop("anyOf", []) if option.get("type") != "null"]
        if len(options) == 1:
            prop.update(options[0])
        elif options:
            prop["anyOf"] = options
        if prop.get("default") is None:
            prop.pop("default", None)
        prop.pop("title", None)
        param = {"name": name, "in": "query", "required": name in schema.get("required", []),
                 "schema": prop}
        if prop.get("type") == "array":
            param.update(style="form", explode=False)
        if descriptions and name in descriptions:
            param["description"] = descriptions[name]
        params.append(param)
    return params


def _inline(value: Any, definitions: dict) -> Any:
    if isinstance(value, dict):
        if "$ref" in value:
            return _inline(dict(definitions[value["$ref"].rsplit("/", 1)[-1]]), definitions)
        return {key: _inline(item, definitions) for key, item in value.items() if key != "title"}
    if isinstance(value, list):
        return [_inline(item, definitions) for item in value]
    return value


PAGING = _params_of(PageArgs)
CASE_ID = _path_id("case_id")
EXPORT_PARAMS = [
    _query("format", {"type": "string", "enum": ["csv", "xlsx"]},
           "Download the whole filtered list as a file (CSV in UTF-8 with BOM, or XLSX) "
           "instead of a page of JSON; page and per_page are then ignored"),
    _query("lang", {"type": "string", "enum": ["zh", "en"]},
           "Language of a download's headings and values (default zh)"),
]
EXPORT_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        {"schema": {"type": "string", "format": "binary"}},
}


def _with_exports(op: dict) -> dict:
    """A list that also downloads as CSV or XLSX with ``?format=``."""
    present = {param["name"] for param in op.get("parameters", [])}
    op["parameters"] = op.get("parameters", []) + [param for param in EXPORT_PARAMS
                                                   if param["name"] not in present]
    op["responses"]["200"]["content"].update(EXPORT_CONTENT)
    return op
WORKORDER_ID = _path_id("workorder_id")


def _paths() -> dict:
    case_filters = _params_of(CaseQuery, {
        "state": "One state or several, comma-separated", "zone": "Zone code or id",
        "q": "Search in ref, address, description (and owner name for officers)"})
    return {
        "/api/v1/auth/login": {"post": _op("Log in; returns a bearer token", "200", _ref("Login"),
                                           body="LoginRequest", errors="400 401 422 429",
                                           secured=False)},
        "/api/v1/auth/logout": {"post": _op("Revoke the calling token", "200",
                                            _obj({"logged_out": BOOL}), errors="401")},
        "/api/v1/me": {"get": _op("The current user", "200", _ref("User"), errors="401")},
        "/api/v1/companies": {
            "get": _op("List property companies", "200", _list_of("Company"), errors="401 403"),
            "post": _op("Add a property company (admin); the answer carries its webhook signing "
                        "secret, the only time it is shown", "201", _ref("CompanyWithSecret"),
                        body="CompanyCreate", errors="400 401 403 409 415 422", idempotent=True),
        },
        "/api/v1/users": {
            "get": _op("Users, by username (admin)", "200", _ref("UserAccountPage"),
                       params=_params_of(UserQuery, {
                           "zone": "Zone id", "q": "Search in username, display name, email"}),
                       errors="401 403 422"),
            "post": _op("Create a user with its zones or company (admin)", "201",
                        _ref("UserAccount"), body="UserCreate",
                        errors="400 401 403 409 415 422", idempotent=True),
        },
        "/api/v1/users/{user_id}": {
            "get": _op("One user (admin)", "200", _ref("UserAccount"),
                       params=[_path_id("user_id")], errors="401 403 404"),
            "patch": _op("Change a user: name, email, language, role, zones or company, "
                         "deactivate or activate, reset the password (admin). Deactivating or "
                         "resetting the password revokes the user's API tokens.", "200",
                         _ref("UserAccount"), params=[_path_id("user_id")], body="UserPatch",
                         errors="400 401 403 404 415 422", idempotent=True),
        },
        "/api/v1/companies/{company_id}": {
            "get": _op("One company with its webhook address (admin); the secret is never "
                       "shown", "200", _ref("CompanyAccount"), params=[_path_id("company_id")],
                       errors="401 403 404"),
            "patch": _op("Change a company's name, contact or webhook address (admin)", "200",
                         _ref("CompanyAccount"), params=[_path_id("company_id")],
                         body="CompanyPatch", errors="400 401 403 404 409 415 422",
                         idempotent=True),
        },
        "/api/v1/companies/{company_id}/secret": {
            "post": _op("Replace the company's webhook signing secret; the answer is the only "
                        "time the new secret is shown (admin)", "200", _ref("CompanyWithSecret"),
                        params=[_path_id("company_id")], errors="401 403 404",
                        idempotent=True),
        },
        "/api/v1/zones/{zone_id}": {
            "patch": _op("Rename a zone (admin)", "200", _ref("Zone"), params=[_path_id("zone_id")],
                         body="ZonePatch", errors="400 401 403 404 415 422", idempotent=True),
        },
        "/api/v1/compounds/{compound_id}": {
            "patch": _op("Rename a compound or correct its address (admin)", "200",
                         _ref("Compound"), params=[_path_id("compound_id")],
                         body="CompoundPatch", errors="400 401 403 404 409 415 422",
                         idempotent=True),
        },
        "/api/v1/zones": {
            "get": _op("Zones visible to the user", "200", _list_of("Zone"), errors="401 403"),
            "post": _op("Create a zone (admin)", "201", _ref("Zone"), body="ZoneCreate",
                        errors="400 401 403 409 415 422"),
        },
        "/api/v1/compounds": {
            "get": _op("Compounds visible to the user", "200", _page_of("Compound"),
                       params=_params_of(CompoundQuery), errors="401 403 422"),
            "post": _op("Create a compound (admin)", "201", _ref("Compound"),
                        body="CompoundCreate", errors="400 401 403 409 415 422"),
        },
        "/api/v1/cases": {
            "get": _with_exports(_op("List cases, newest first: a page by number, or by the "
                                     "cursor of the page before (after)", "200",
                                     _ref("CasePage"),
                                     params=case_filters, errors="401 403 422")),
            "post": _op("Record a case; it starts identified", "201", _ref("Case"),
                        body="CaseCreate", errors="400 401 403 415 422", idempotent=True),
        },
        "/api/v1/cases/{case_id}": {
            "get": _op("One case with allowed_triggers and version", "200", _ref("Case"),
                       params=[CASE_ID], errors="401 404"),
            "patch": _op("Edit descriptive fields with expected_version", "200", _ref("Case"),
                         params=[CASE_ID], body="CasePatch",
                         errors="400 401 403 404 409 415 422", idempotent=True),
        },
        "/api/v1/cases/{case_id}/transitions": {
            "post": _op("Fire a lifecycle trigger", "200", _ref("Case"), params=[CASE_ID],
                        body="TransitionRequest", errors="400 401 403 404 409 415 422",
                        idempotent=True),
        },
        "/api/v1/cases/{case_id}/events": {
            "get": _with_exports(_op("The case's history, oldest first (with per_page, a "
                                     "page of it, and after for the next)", "200",
                                     _ref("EventPage"), params=[CASE_ID, *_params_of(EventQuery)],
                                     errors="401 404 422")),
        },
        "/api/v1/cases/{case_id}/attachments": {
            "get": _op("The case's attachments", "200", _list_of("Attachment"),
                       params=[CASE_ID], errors="401 404"),
            "post": _op("Upload a photo or document", "201", _ref("Attachment"),
                        params=[CASE_ID], errors="401 403 404 409 413 415 422",
                        request_content={"multipart/form-data": {"schema": _ref("AttachmentUpload")}},
                        idempotent=True),
        },
        "/api/v1/cases/{case_id}/attachments/{attachment_id}": {
            "get": _op("Download an attachment", "200", None,
                       params=[CASE_ID, _path_id("attachment_id")], errors="401 404",
                       content=ATTACHMENT_CONTENT),
        },
        "/api/v1/cases/{case_id}/dossier": {
            "get": _op("The case dossier (案卷): a ZIP of case.json, the hash-chained events.json, "
                       "attachments/<sha256>, a printable summary.html and a standalone "
                       "verify.py; officers and supervisors of the case's zone only, every "
                       "download logged", "200", None, params=[CASE_ID], errors="401 404 409",
                       content={"application/zip": {"schema": {"type": "string",
                                                               "format": "binary"}}}),
        },
        "/api/v1/cases/{case_id}/notice": {
            "get": _op("Preview the deadline notice (限期拆除通知书) as printable HTML; records "
                       "nothing. A case whose ownership is verified takes ?deadline=; a "
                       "negotiated one states its negotiated deadline", "200", None,
                       params=[CASE_ID, {"name": "deadline", "in": "query", "required": False,
                                         "schema": {"type": "string", "format": "date"}}],
                       errors="401 403 404 409 422", content=NOTICE_HTML),
            "post": _with_reprint(_op("Issue the deadline notice: its number, deadline and the SHA-256 of "
                        "the HTML answered (headers X-Notice-Number, X-Notice-SHA256) go into "
                        "the case's history. The same text again answers 200 and records "
                        "nothing", "201", None, params=[CASE_ID], body="NoticeArgs",
                        errors="400 401 403 404 409 415 422", content=NOTICE_HTML)),
        },
        "/api/v1/cases/{case_id}/workorders": {
            "post": _op("Issue a work order to a property company", "201", _ref("WorkOrder"),
                        params=[CASE_ID], body="WorkOrderCreate",
                        errors="400 401 403 404 409 415 422", idempotent=True),
        },
        "/api/v1/workorders": {
            "get": _with_exports(_op(
                "Work orders visible to the user (a company sees only its own)", "200",
                _ref("WorkOrderPage"), errors="401 422",
                params=_params_of(WorkOrderQuery))),
        },
        "/api/v1/workorders/{workorder_id}": {
            "get": _op("One work order with allowed_triggers and version", "200",
                       _ref("WorkOrder"), params=[WORKORDER_ID], errors="401 404"),
        },
        "/api/v1/workorders/{workorder_id}/transitions": {
            "post": _op("accept, complete, verify, reject or cancel", "200", _ref("WorkOrder"),
                        params=[WORKORDER_ID], body="WorkOrderTransition",
                        errors="400 401 403 404 409 415 422", idempotent=True),
        },
        "/api/v1/workorders/{workorder_id}/attachments": {
            "get": _op("The work order's photos and its case's before/after photos", "200",
                       _list_of("Attachment"), params=[WORKORDER_ID], errors="401 404"),
            "post": _op("Upload a photo to the work order", "201", _ref("Attachment"),
                        params=[WORKORDER_ID], errors="401 403 404 409 413 415 422",
                        request_content={"multipart/form-data": {"schema": _ref("WorkOrderAttachmentUpload")}},
                        idempotent=True),
        },
        "/api/v1/workorders/{workorder_id}/attachments/{attachment_id}": {
            "get": _op("Download a work order's attachment or its case's photo", "200", None,
                       params=[WORKORDER_ID, _path_id("attachment_id")], errors="401 404",
                       content=ATTACHMENT_CONTENT),
        },
        "/api/v1/notifications": {
            "get": _op("The user's inbox, newest first", "200", _ref("NotificationPage"),
                       params=_params_of(InboxQuery),
                       errors="401 422"),
        },
        "/api/v1/notifications/{notification_id}/read": {
            "post": _op("Mark one notification read", "200", _ref("Notification"),
                        params=[_path_id("notification_id")], errors="401 404"),
        },
        "/api/v1/notifications/read": {
            "post": _op("Mark every notification read", "200", _obj({"marked": INT}),
                        errors="401"),
        },
        "/api/v1/exports": {
            "get": _op("The export log (admin): every export and dossier download, who, when, "
                       "which filter, how many rows, whether it held owners' personal data",
                       "200", _ref("ExportLogPage"), errors="401 403 422",
                       params=_params_of(ExportLogQuery)),
        },
        "/api/v1/imports": {
            "post": _op("Import a survey (CSV in UTF-8 or GB18030, or XLSX): every row checked "
                        "first; a file with a bad row imports nothing unless skip_invalid "
                        "(422 lists each bad row's line, column and reason)", "200",
                        _ref("ImportResult"), errors="400 401 403 413 415 422",
                        request_content={"multipart/form-data": {"schema": {**_obj({
                            "file": {"type": "string", "format": "binary"},
                            "skip_invalid": BOOL, "dry_run": BOOL}, ["file"]),
                            "additionalProperties": False}}},
                        idempotent=True),
        },
        "/api/v1/campaign": {
            "get": _op("The campaign plan with each zone's reverse schedule (倒排工期)", "200",
                       _ref("CampaignOut"), errors="401 404"),
            "put": _op("Set the campaign plan (admins, supervisors with no zone)", "200",
                       _ref("CampaignOut"), body="CampaignPut",
                       errors="400 401 403 404 409 415 422", idempotent=True),
        },
        "/api/v1/campaign/changes": {
            "get": _op("Every change of the plan, newest first: who, when, what", "200",
                       _ref("CampaignChangesOut"), params=PAGING, errors="401 404 422"),
        },
        **{f"/api/v1/reports/{name}": {"get": _op(summary, "200", _ref(model), errors="401 404 422",
                                                  params=_params_of(ReportQuery, {
                                                      "zone": "Zone code"}))}
           for name, summary, model in (
               ("backlog", "Cases by zone, state and kind; overdue; oldest; by difficulty",
                "BacklogOut"),
               ("board", "Every compound as a tile coloured by its cases", "BoardOut"),
               ("progress", "Closed per week against the plan, forecast and risk "
                            "(404 no_campaign without a campaign)", "ProgressOut"),
               ("officers", "Per officer: open, overdue, done in the last 30 days",
                "OfficersOut"))},
        "/api/v1/workflow": {"get": _op("The case lifecycle as data", "200", _ref("Workflow"),
                                        errors="401")},
        "/api/v1/workflow/diagram.mmd": {
            "get": _op("The case lifecycle as a mermaid diagram", "200", None, errors="401",
                       content={"text/plain": {"schema": STR}})},
        "/api/v1/openapi.json": {"get": _op("This document", "200", {"type": "object"},
                                            errors="", secured=False)},
        "/healthz": {"get": _op("Liveness, with database and broker reachability", "200",
                                _ref("Health"), errors="", secured=False)},
    }


def _operation_id(method: str, path: str) -> str:
    """``GET /api/v1/cases/{case_id}/events`` is ``get_cases_case_id_events``."""
    words = re.sub(r"[{}]", "", path.removeprefix("/api/v1")).strip("/").replace("/", "_")
    return f"{method}_{words or 'root'}"


def _name_operations(paths: dict) -> None:
    for path, operations in paths.items():
        for method, operation in operations.items():
            operation["operationId"] = _operation_id(method, path)
            if method in ("post", "put", "patch", "delete"):
                # SQLite could not give the write its lock in time: nothing changed.
                operation["responses"].setdefault("503", {
                    "description": ERRORS["503"], "content": _json(_ref("Error"))})


# What a created record's id opens next, for clients and for stateful testing.
_LINKS = {
    ("/api/v1/cases", "post", "201"): ("case_id", "$response.body#/id", (
        ("get", "/api/v1/cases/{case_id}"), ("patch", "/api/v1/cases/{case_id}"),
        ("post", "/api/v1/cases/{case_id}/transitions"), ("get", "/api/v1/cases/{case_id}/events"),
        ("post", "/api/v1/cases/{case_id}/attachments"),
        ("post", "/api/v1/cases/{case_id}/workorders"))),
    ("/api/v1/cases/{case_id}/workorders", "post", "201"): ("workorder_id", "$response.body#/id", (
        ("get", "/api/v1/workorders/{workorder_id}"),
        ("post", "/api/v1/workorders/{workorder_id}/transitions"),
        ("post", "/api/v1/workorders/{workorder_id}/attachments"))),
    ("/api/v1/users", "post", "201"): ("user_id", "$response.body#/id", (
        ("get", "/api/v1/users/{user_id}"), ("patch", "/api/v1/users/{user_id}"))),
    ("/api/v1/companies", "post", "201"): ("company_id", "$response.body#/id", (
        ("get", "/api/v1/companies/{company_id}"), ("patch", "/api/v1/companies/{company_id}"))),
}


def _link_creations(paths: dict) -> None:
    for (path, method, status), (name, source, targets) in _LINKS.items():
        response = paths[path][method]["responses"][status]
        response["links"] = {
            _operation_id(target_method, target_path): {
                "operationId": _operation_id(target_method, target_path),
                "parameters": {name: source}}
            for target_method, target_path in targets}


# Every record the API answers with, declared once by the model that serialises it.
SHAPES: dict[str, type[BaseModel]] = {
    "Zone": ZoneOut, "Compound": CompoundOut, "Company": CompanyRef, "User": UserOut,
    "Login": LoginOut, "Case": CaseOut, "CaseEvent": EventOut, "Attachment": AttachmentOut,
    "WorkOrder": WorkOrderOut, "Notification": NotificationOut,
}

# The admin's endpoints' bodies and answers, declared as pydantic models.
ADMINISTRATION_MODELS: tuple[type[BaseModel], ...] = (
    UserCreate, UserPatch, CompanyCreate, CompanyPatch, ZonePatch, CompoundPatch, UserAccount,
    UserAccountPage, CompanyAccount, CompanyWithSecret, NoticeArgs)


def openapi_document() -> dict:
    schemas = dict(RESPONSE_SCHEMAS)
    named = [(model.__name__, model) for model in
             REQUEST_MODELS + RESPONSE_MODELS + ADMINISTRATION_MODELS] + list(SHAPES.items())
    for name, model in named:
        # A request is described as it is validated, an answer as it is written.
        mode = "validation" if issubclass(model, Strict) else "serialization"
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}",
                                             mode=mode)
        schemas.update(definition.pop("$defs", {}))
        schemas[name] = definition
    paths = _paths()
    _name_operations(paths)
    _link_creations(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Casework API", "version": "1",
                 "description": "Cases, evidence and the lifecycle of a district's campaign to "
                                "demolish illegal structures and sheds. Errors are "
                                "{error: {code, message, details}}."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": schemas},
        "paths": paths,
    }


@bp.get("/openapi.json")
@public
def openapi_json():
    return openapi_document()
