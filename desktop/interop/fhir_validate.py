"""Validate a FHIR R4B transaction bundle before it is written.

Two layers: the ``fhir.resources`` R4B models (structure, cardinality, data types, unknown
elements: imported here only, as they take about half a second to load), and what those models
do not check (shared/reference/stack-notes.md, FHIR): every entry has a ``urn:uuid`` fullUrl,
unique, and a ``request`` whose method is a valid code and whose conditional URL matches the
resource it carries; every reference resolves to an entry of the bundle; the codes of the
required bindings the bundle uses are valid (``Bundle.type``, ``request.method``, the status
elements, ``Patient.gender``, the Condition's clinical and verification status, attachment
content types); Observation invariants obs-6 and obs-7.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

MAX_PROBLEMS = 20

UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

BUNDLE_TYPES = ("document", "message", "transaction", "transaction-response", "batch", "batch-response",
                "history", "searchset", "collection")
HTTP_VERBS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")

REQUIRED_CODES: dict[str, dict[str, tuple[str, ...]]] = {
    # resource type -> element -> the codes its required binding allows (R4B)
    "Observation": {"status": ("registered", "preliminary", "final", "amended", "corrected", "cancelled",
                               "entered-in-error", "unknown")},
    "Encounter": {"status": ("planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
                             "entered-in-error", "unknown")},
    "QuestionnaireResponse": {"status": ("in-progress", "completed", "amended", "entered-in-error", "stopped")},
    "Questionnaire": {"status": ("draft", "active", "retired", "unknown")},
    "Procedure": {"status": ("preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
                             "entered-in-error", "unknown")},
    "DocumentReference": {"status": ("current", "superseded", "entered-in-error"),
                          "docStatus": ("preliminary", "final", "amended", "entered-in-error")},
    "Patient": {"gender": ("male", "female", "other", "unknown")},
}
QUESTIONNAIRE_ITEM_TYPES = ("group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time",
                            "string", "text", "url", "choice", "open-choice", "attachment", "reference",
                            "quantity")
CONDITION_CODES = {
    "clinicalStatus": ("http://terminology.hl7.org/CodeSystem/condition-clinical",
                       ("active", "recurrence", "relapse", "inactive", "remission", "resolved")),
    "verificationStatus": ("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                           ("unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error")),
}
MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*(;.*)?$", re.I)


def validate_bundle(bundle: Any, *, models: bool = True) -> list[str]:
    """What is wrong with ``bundle`` (decoded JSON), one line each (at most
    :data:`MAX_PROBLEMS`); empty when it is a valid transaction bundle. ``models``: also
    validate with the fhir.resources R4B models (a missing package is a problem line)."""
    problems = check_bundle(bundle)
    if models and isinstance(bundle, dict):
        problems += model_problems(bundle)
    if len(problems) > MAX_PROBLEMS:
        problems = problems[:MAX_PROBLEMS] + [f"... and {len(problems) - MAX_PROBLEMS} more problems"]
    return problems


def model_problems(bundle: dict[str, Any]) -> list[str]:
    """The fhir.resources R4B Bundle model's verdict, one ``path: message`` line per error."""
    try:
        from fhir.resources.R4B.bundle import Bundle
    except ImportError:
        return ["the fhir.resources package (R4B models) is needed to validate a FHIR bundle: "
                "pip install 'motorchart[fhir]'"]
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as e:
        out = []
        for err in e.errors(include_url=False)[:MAX_PROBLEMS]:
            out.append(f"{_loc(err['loc'])}: {err['msg']} (fhir.resources R4B)")
        return out
    except (ValueError, TypeError) as e:  # fhir.resources raises some of its own
        return [f"the bundle: {e} (fhir.resources R4B)"]
    return []


def _loc(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "the bundle"


def check_bundle(bundle: Any) -> list[str]:
    """The checks the models do not make (see the module docstring)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return ["not a FHIR Bundle (resourceType must be \"Bundle\")"]
    problems: list[str] = []
    btype = bundle.get("type")
    if btype not in BUNDLE_TYPES:
        problems.append(f"type: {btype!r} is not a Bundle type code")
    elif btype != "transaction":
        problems.append(f"type: {btype!r}: a Motorchart export is a transaction bundle")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        return problems + ["entry: the bundle has no entries"]
    full_urls: dict[str, int] = {}
    for i, e in enumerate(entries):
        where = f"entry[{i}]"
        if not isinstance(e, dict):
            problems.append(f"{where}: not an object")
            continue
        fu = e.get("fullUrl")
        if not isinstance(fu, str) or not UUID_URN.match(fu):
            problems.append(f"{where}.fullUrl: {fu!r} is not a urn:uuid (lower-case UUID)")
        elif fu in full_urls:
            problems.append(f"{where}.fullUrl: {fu} is also entry[{full_urls[fu]}]'s")
        else:
            full_urls[fu] = i
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            continue
        where = f"entry[{i}]"
        res = e.get("resource")
        rtype = res.get("resourceType") if isinstance(res, dict) else None
        if rtype is None:
            problems.append(f"{where}.resource: missing or without a resourceType")
            continue
        where = f"{where} ({rtype})"
        problems += _request_problems(e.get("request"), res, where)
        for path, ref in _references(res, ""):
            if ref not in full_urls:
                problems.append(f"{where}.{path}: the reference {ref!r} resolves to no entry of the bundle")
        problems += _code_problems(rtype, res, where)
    return problems


def _request_problems(req: Any, res: dict[str, Any], where: str) -> list[str]:
    if not isinstance(req, dict):
        return [f"{where}.request: missing (every entry of a transaction needs one)"]
    out = []
    method, url = req.get("method"), req.get("url")
    if method not in HTTP_VERBS:
        out.append(f"{where}.request.method: {method!r} is not an HTTP verb code ({', '.join(HTTP_VERBS)})")
    if not isinstance(url, str) or not url:
        return out + [f"{where}.request.url: missing"]
    rtype = res["resourceType"]
    base, _, query = url.partition("?")
    if method in ("PUT", "POST") and base != rtype:
        out.append(f"{where}.request.url: {url!r} is not for a {rtype}")
    if method == "PUT" and query:
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        if "identifier" in params:
            system, _, value = _split_token(params["identifier"][0])
            idents = res.get("identifier")
            idents = idents if isinstance(idents, list) else [idents] if isinstance(idents, dict) else []
            if not any(isinstance(x, dict) and x.get("system") == system and x.get("value") == value for x in idents):
                out.append(f"{where}.request.url: the conditional update matches identifier "
                           f"{system}|{value}, which the resource does not carry")
        elif "url" in params:
            if res.get("url") != params["url"][0] or ("version" in params and res.get("version") != params["version"][0]):
                out.append(f"{where}.request.url: the conditional update's url/version is not the resource's")
        else:
            out.append(f"{where}.request.url: a conditional update on neither identifier nor url")
    return out


def _split_token(token: str) -> tuple[str, str, str]:
    """``system|value`` with FHIR's backslash escapes undone."""
    if "\\" not in token:
        system, bar, value = token.partition("|")
        return (system, bar, value) if bar else ("", "", token)
    parts, cur, i = [], "", 0
    while i < len(token):
        ch = token[i]
        if ch == "\\" and i + 1 < len(token):
            cur += token[i + 1]
            i += 2
            continue
        if ch == "|" and not parts:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    if not parts:
        return "", "", cur
    return parts[0], "|", cur


def _references(node: Any, path: str, out: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """(path, reference) for every Reference.reference in ``node`` (not contained resources'
    internal ``#`` references, which this exporter never writes). Recursion over containers
    only: a bundle has tens of thousands of scalars."""
    if out is None:
        out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                out.append((f"{path}.reference" if path else "reference", v))
            elif isinstance(v, (dict, list)):
                _references(v, f"{path}.{k}" if path else k, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, (dict, list)):
                _references(v, f"{path}[{i}]", out)
    return out


def _code_problems(rtype: str, res: dict[str, Any], where: str) -> list[str]:
    out = []
    for element, codes in REQUIRED_CODES.get(rtype, {}).items():
        if element in res and res[element] not in codes:
            out.append(f"{where}.{element}: {res[element]!r} is not one of {', '.join(codes)}")
    if rtype in ("Observation", "Encounter", "QuestionnaireResponse", "Procedure", "DocumentReference",
                 "Questionnaire") and "status" not in res:
        out.append(f"{where}.status: missing")
    if rtype == "Condition":
        for element, (system, codes) in CONDITION_CODES.items():
            cc = res.get(element)
            if cc is None:
                continue
            ok = [c for c in cc.get("coding", []) if c.get("system") == system and c.get("code") in codes]
            if not ok:
                out.append(f"{where}.{element}: no coding from {system} ({', '.join(codes)})")
    if rtype == "Questionnaire":
        for i, item in enumerate(res.get("item") or []):
            if item.get("type") not in QUESTIONNAIRE_ITEM_TYPES:
                out.append(f"{where}.item[{i}].type: {item.get('type')!r} is not an item type")
    if rtype == "Observation":
        value = [k for k in res if k.startswith("value")]
        if value and "dataAbsentReason" in res:
            out.append(f"{where}: obs-6: dataAbsentReason with a value")
        codes = {(c.get("system"), c.get("code")) for c in (res.get("code") or {}).get("coding", [])}
        for j, comp in enumerate(res.get("component") or []):
            cc = {(c.get("system"), c.get("code")) for c in (comp.get("code") or {}).get("coding", [])}
            if cc & codes and any(k.startswith("value") for k in res):
                out.append(f"{where}.component[{j}]: obs-7: a component with the Observation's own code "
                           "while the Observation has a value")
    if rtype == "DocumentReference":
        for j, c in enumerate(res.get("content") or []):
            ct = (c.get("attachment") or {}).get("contentType")
            if ct is not None and not MIME.match(ct):
                out.append(f"{where}.content[{j}].attachment.contentType: {ct!r} is not a MIME type")
    return out
