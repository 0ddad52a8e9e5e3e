"""The signed text is made once (issue 20): the frozen result's canonical JSON is spliced into the
rest, and the hash must be that of the whole record's canonical JSON, byte for byte."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.case import Signature, Visit
from domain.options import Options
from domain.signature import (
    SIGNATURE_FIELDS,
    canonical_json,
    content_json,
    content_sha256,
    signature_hash_and_snapshot,
    signature_sha256,
    verified_snapshot,
    verify,
    visit_content,
)
from tests.builders import D, emg_lmn, wasted

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _visit() -> Visit:
    return Visit(date=D("2026-03-04"), muscles=(wasted("biceps_brachii"), emg_lmn("first_dorsal_interosseous")),
                 notes="Zoë Ångström, 王秀英: “weaker” \\ \"quoted\"")


def _whole(visit: Visit, fields: dict) -> str:
    record = {"content": visit_content(visit), **{k: fields.get(k) for k in SIGNATURE_FIELDS}}
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


@settings(max_examples=60, deadline=None)
@given(classification=st.dictionaries(st.text(), JSON, max_size=5), signer=st.text(min_size=1),
       reason=st.none() | st.text())
def test_the_spliced_text_hashes_as_the_whole_record(classification, signer, reason):
    visit = _visit()
    fields = {"signed_by": signer, "signed_at": "2026-03-04T10:00:00Z", "version": 2,
              "amendment_reason": reason, "options": Options().model_dump(mode="json"),
              "classification": classification, "program_version": "1.0", "catalogue_version": "c1",
              "previous_sha256": None}
    sha, snapshot = signature_hash_and_snapshot(visit, fields)
    assert sha == _whole(visit, fields) == signature_sha256(visit, fields)
    assert snapshot == canonical_json(classification)
    # the bulk paths hand in the content text they made for the content hash
    assert signature_hash_and_snapshot(visit, fields, content=content_json(visit)) == (sha, snapshot)
    assert content_sha256(visit) == content_sha256(None, content_json(visit))


def test_verification_gives_the_snapshot_only_when_the_visit_still_matches():
    visit = _visit()
    fields = {"signed_by": "Dr Nuño", "signed_at": "2026-03-04T10:00:00Z", "version": 1,
              "amendment_reason": None, "options": {}, "classification": {"région": ["é", 1.5]},
              "program_version": "1.0", "catalogue_version": "c1", "previous_sha256": None}
    sig = Signature(**fields, sha256=_whole(visit, fields))
    assert verify(visit, sig)
    assert verified_snapshot(visit, sig) == canonical_json(fields["classification"])
    changed = visit.model_copy(update={"notes": "edited after signing"})
    assert not verify(changed, sig)
    assert verified_snapshot(changed, sig) is None


@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_the_canonical_text_is_json_dumps_byte_for_byte(value):
    """The shared encoder (no circular check) writes what the signatures already made were
    hashed over: ``json.dumps`` with sorted keys, no spaces, UTF-8 text and no NaN."""
    assert canonical_json(value) == json.dumps(value, sort_keys=True, separators=(",", ":"),
                                               ensure_ascii=False, allow_nan=False)


def test_canonical_text_refuses_nan_and_never_spells_a_cycle():
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})
    loop: list = []
    loop.append(loop)
    with pytest.raises((ValueError, RecursionError)):  # (which one is the encoder's choice)
        canonical_json(loop)
