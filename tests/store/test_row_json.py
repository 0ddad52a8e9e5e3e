"""The rows' JSON values (EMG findings, options, marks, signing context) are written by one
shared encoder without the circular check (issue 20); the text must stay what ``json.dumps``
with the same options wrote, since stored rows and audit rows are compared as text."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.store.rows import _json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_a_row_value_is_written_as_json_dumps_writes_it(value):
    assert _json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
