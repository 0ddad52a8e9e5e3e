"""Signed visits: the canonical content a signature vouches for, its hash chain, and how a
result computed today differs from the one signed (issue 13; compare 21 CFR Part 11: a
signature is bound to its record).

Pure: hashing is arithmetic on text. What the hash proves, honestly: it detects an edit made
to a signed visit outside Motorchart by someone who does not recompute the hash. It is not proof
against someone who rewrites the hashes too (keying the chain with the chart's secret is the
privacy work's part).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .case import Patient, Signature, Visit

SIGNATURE_FIELDS = (
    "signed_by", "signed_at", "version", "amendment_reason", "options", "classification",
    "program_version", "catalogue_version", "previous_sha256",
)
"""What the hash covers besides the visit's content (everything of a signature but the hash)."""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                              check_circular=False)
"""One encoder for every call, read-only after import (``json.dumps`` with options makes one a
call). Without the circular-reference check: the values encoded are trees made from JSON or
from the models (a cycle would still never give text: it ends in a RecursionError); the text is
the same, and about 13% faster to make (measured on the demo's frozen results, 18 kB of JSON:
92 µs against 106 µs; issue 20: the bulk paths make one for every signed visit)."""


def canonical_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 text (not ASCII escapes), no NaN."""
    return _CANONICAL.encode(value)


def visit_content(visit: Visit) -> dict[str, Any]:
    """The content a signature vouches for: the visit's date, findings (EMG study dates
    included), flags, scores, FVC, weight and notes, and the cells signed as carried (with the
    date they were carried from). Not the patient's demographics (audited separately), not draft
    marks, not the signature itself."""
    content = visit.model_dump(mode="json", exclude_none=True, exclude={"marks", "signature"})
    marks = visit.marks
    if marks is not None and marks.carried:
        content["carried"] = sorted(list(k) for k in marks.carried)
        if marks.carried_from is not None:
            content["carried_from"] = marks.carried_from.isoformat()
    return content


def content_json(visit: Visit) -> str:
    """The canonical JSON of :func:`visit_content`: what :func:`content_sha256` hashes, and the
    ``content`` part of the text a signature hashes."""
    return canonical_json(visit_content(visit))


def content_sha256(visit: Visit, text: str | None = None) -> str:
    """SHA-256 of the visit's content (``text``: its :func:`content_json`, made already)."""
    return hashlib.sha256((content_json(visit) if text is None else text).encode("utf-8")).hexdigest()


def signature_sha256(visit: Visit, fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the visit's content and every signature field
    (:data:`SIGNATURE_FIELDS`: the signer, the time, the version, the options, the
    classification snapshot, the program and catalogue versions, the previous version's hash)."""
    return signature_hash_and_snapshot(visit, fields)[0]


def signature_hash_and_snapshot(visit: Visit, fields: dict[str, Any], *,
                                content: str | None = None) -> tuple[str, str]:
    """:func:`signature_sha256`, and the canonical JSON of the frozen classification made on the
    way, which is what the store keeps (compressed): the hashed text is that JSON spliced into
    the canonical JSON of the rest, byte for byte what :func:`canonical_json` makes of the
    whole record (its keys are plain names, sorted the same way), so the largest part is
    written once instead of twice (issue 20: a bulk import verifies and stores thousands).
    ``content``: the visit's :func:`content_json`, when the caller has made it already."""
    record = {"content": None, **{k: fields.get(k) for k in SIGNATURE_FIELDS}}
    made = {"classification": canonical_json(record["classification"]),
            "content": content_json(visit) if content is None else content}
    text = "{" + ",".join(f'"{k}":{made[k] if k in made else canonical_json(record[k])}' for k in sorted(record)) + "}"
    snapshot = made["classification"]
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), snapshot


def patient_facts_sha256(patient: Patient) -> str:
    """A hash of the patient's facts that the classification reads (birth, onset, diagnosis,
    milestones; not names or sex), kept with a signature so that a result recomputed today can
    say that these changed."""
    facts = patient.model_dump(mode="json", exclude_none=True, exclude={"id", "family_name", "given_names", "sex"})
    return hashlib.sha256(canonical_json(facts).encode("utf-8")).hexdigest()


def signing_context(patient: Patient, earlier: list[Visit], *, hashes: dict[Any, str] | None = None,
                    facts: str | None = None) -> dict[str, Any]:
    """What a signed result was computed from besides the visit: the earlier visits (date ->
    content hash) and the patient's facts. A caller signing many visits of one case passes
    the content ``hashes`` (date -> :func:`content_sha256`) and the :func:`patient_facts_sha256`
    it made once."""
    return {"earlier": {v.date.isoformat(): content_sha256(v) if hashes is None else hashes[v.date]
                        for v in earlier},
            "patient": patient_facts_sha256(patient) if facts is None else facts}


def signature_fields(signature: Signature) -> dict[str, Any]:
    """A signature's fields as JSON values. Every field already is one (text, numbers, and the
    options and classification as read from JSON), so no copy is made: ``model_dump`` copied
    each frozen result, a large share of a bulk import's time (issue 20)."""
    return {name: getattr(signature, name) for name in type(signature).model_fields}


def verify(visit: Visit, signature: Signature) -> bool:
    """Whether ``signature`` still matches ``visit`` (its content and the signature's fields)."""
    return verified_snapshot(visit, signature) is not None


def verified_snapshot(visit: Visit, signature: Signature) -> str | None:
    """The canonical JSON of the signature's frozen result when the signature still matches
    ``visit`` (:func:`verify`), else None: an import stores the text it verified."""
    sha, snapshot = signature_hash_and_snapshot(visit, signature_fields(signature))
    return snapshot if sha == signature.sha256 else None


# ------------------------------------------------------------------ signed vs computed today

def _verdicts(vc: dict[str, Any]) -> dict[str, str]:
    """The conclusions a reader compares, in words, from a classification visit object."""
    out: dict[str, str] = {}
    for cid, res in (vc.get("criteria") or {}).items():
        if "category" in res:
            pending = res.get("pending") or []
            out[cid] = res["category"] + (f" (pending: {', '.join(pending)})" if pending else "")
        else:
            out[cid] = "met" if res.get("met") else "not met"
    st = vc.get("staging") or {}
    out["kings_clinical"] = str(st.get("kings_clinical"))
    out["kings_alsfrs"] = str(st.get("kings_alsfrs"))
    out["mitos"] = str(st.get("mitos"))
    ph = vc.get("phenotype") or {}
    out["phenotype"] = str(ph.get("label")) + (" (provisional)" if ph.get("provisional") else "")
    for k in ("mrc_sum", "umn_score"):
        out[k] = str(vc.get(k))
    for k in ("delta_fs", "alsfrs_r_slope"):
        v = vc.get(k)
        out[k] = "null" if v is None else f"{v:.2f}"
    sp = vc.get("spread") or {}
    out["regions_involved"] = ", ".join(sp.get("regions_involved") or []) or "none"
    return out


_NAMES = {
    "kings_clinical": "King's clinical", "kings_alsfrs": "King's from ALSFRS-R", "mitos": "MiToS",
    "phenotype": "phenotype", "mrc_sum": "MRC sum", "umn_score": "UMN score",
    "delta_fs": "DeltaFS", "alsfrs_r_slope": "ALSFRS-R slope", "regions_involved": "regions involved",
}


def differences(signed: dict[str, Any], today: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, as signed, as computed today) for each conclusion that differs, criteria first."""
    a, b = _verdicts(signed), _verdicts(today)
    order = list(b) + [k for k in a if k not in b]  # today's order: the registry's, criteria first
    return [(k, a.get(k, "-"), b.get(k, "-")) for k in order if a.get(k) != b.get(k)]


def recomputed_lines(
    *, signed_classification: dict[str, Any], signed_options: dict[str, Any],
    context: dict[str, Any] | None, program_version: str | None, catalogue_version: str | None,
    today_classification: dict[str, Any], today_options: dict[str, Any], patient: Patient,
    earlier: list[Visit], today_program: str, today_catalogue: str,
    labels: dict[str, str] | None = None, option_words=None,
) -> list[str]:
    """Lines beginning "Recomputed" when today's computation of a signed visit differs from the
    signed one: what differs, and why (options changed, earlier visits added, changed or removed,
    the patient's dates changed, another program or catalogue version). Empty when they agree:
    the signed conclusion is never changed, only the difference said."""
    diffs = differences(signed_classification, today_classification)
    if not diffs:
        return []
    labels = labels or {}
    name = lambda k: labels.get(k) or _NAMES.get(k, k)  # noqa: E731
    what = "; ".join(f"{name(k)} {b.replace('_', ' ')} (signed: {a.replace('_', ' ')})" for k, a, b in diffs)
    why: list[str] = []
    opts = option_changes(signed_options, today_options)
    if opts:
        say = option_words or (lambda k, v: (k, str(v)))  # (option, value) -> (label, value in words)
        why.append("the criteria options changed since signing ("
                   + ", ".join(f"{say(k, a)[0]}: {say(k, a)[1]} -> {say(k, b)[1]}" for k, a, b in opts) + ")")
    if context is not None:
        then = context.get("earlier") or {}
        now = {v.date.isoformat(): content_sha256(v) for v in earlier}
        added = sorted(d for d in now if d not in then)
        removed = sorted(d for d in then if d not in now)
        changed = sorted(d for d in now if d in then and now[d] != then[d])
        if added:
            why.append(f"an earlier visit was added since signing ({', '.join(added)})")
        if removed:
            why.append(f"an earlier visit was removed since signing ({', '.join(removed)})")
        if changed:
            why.append(f"an earlier visit changed since signing ({', '.join(changed)})")
        if context.get("patient") and context["patient"] != patient_facts_sha256(patient):
            why.append("the patient's dates (birth, onset, diagnosis or milestones) changed since signing")
    if program_version and program_version != today_program:
        why.append(f"Motorchart {today_program} computes it (signed with {program_version})")
    if catalogue_version and catalogue_version != today_catalogue:
        why.append("the muscle catalogue changed since signing")
    if not why:
        why.append("the visits or options it was computed from differ from those at signing")
    return [f"Recomputed today: {what}.", "Recomputed because " + "; ".join(why) + "."]


def option_changes(signed: dict[str, Any], today: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(option, at signing, today) for each criteria option that differs."""
    return [(k, signed.get(k), today.get(k)) for k in sorted(signed.keys() | today.keys())
            if signed.get(k) != today.get(k)]
